"""Contract monitoring (issue 15): a commissioner's figures for providers that are not tenants drive
the provider route; notices move through their lifecycle with history, audit and the ladder's facts;
WHSSC's own measures climb their dashboard ladder; the forecast outturn is a run rate."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.contracts.notices import NoticeInput, NoticeRefused, NoticeSaved, StepInput, raise_notice, take_step
from server.contracts.outturn import forecast_outturn
from server.contracts.register import contract_of
from server.escalation_store.subjects import read_subjects
from tests.conftest import act_as

AT = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
CONTRACTS, DIRECTOR = "sheffield.contracts@accord.example", "sheffield.director@accord.example"


async def _subjects(database, org_id):  # type: ignore[no-untyped-def]
    async with database.session(await runner_access(database, org_id)) as session:
        return {s.key: s for s in await read_subjects(session, org_id, "contract", at=AT)}


async def test_sheffield_reads_each_provider_from_its_contract_unit(database, org_ids):
    subjects = await _subjects(database, org_ids["03N"])
    assert set(subjects) == {"contract:RHQ", "contract:RCU", "contract:TAH"}
    for subject in subjects.values():
        assert subject.period is not None, subject.key  # the figures recorded at the contract unit give it runs
        assert subject.evidence["recorded_at"].startswith("03N-PROV-")
        # The demo's one notice: the CMB issued it to Sheffield Teaching Hospitals and agreed its remedial plan.
        assert subject.facts["performance_notice_issued"] is (subject.key == "contract:RHQ")
    assert subjects["contract:RHQ"].facts["remedial_action_plan_agreed"] is True
    sth = subjects["contract:RHQ"]
    assert set(sth.evidence["latest_periods"]) == {"AE4H", "RTT18", "DM01", "CAN62", "LONGWAIT"}


async def test_whssc_reads_providers_that_are_not_tenants_and_rjah_from_its_own_data(database, org_ids):
    subjects = await _subjects(database, org_ids["WHSSC"])
    assert len(subjects) == 9 and all(s.period is not None for s in subjects.values())
    assert "recorded_at" not in subjects["contract:RL1"].evidence  # RJAH reports its own contractual indicators
    assert subjects["contract:REM"].evidence["recorded_at"] == "WHSSC-PROV-REM"


async def test_the_demo_raises_some_provider_routes_and_not_others(database, org_ids):
    async with database.session(await runner_access(database, org_ids["03N"])) as session:
        sheffield = dict((await session.exec(text(
            "select subject_key, level from escalation where org_id = :o and ladder_code = 'sheffield-provider' and status <> 'closed'"
        ), params={"o": org_ids["03N"]})).all())
    async with database.session(await runner_access(database, org_ids["WHSSC"])) as session:
        whssc = dict((await session.exec(text(
            "select subject_key, level from escalation where org_id = :o and ladder_code = 'whssc-service-escalation' and status <> 'closed'"
        ), params={"o": org_ids["WHSSC"]})).all())
    assert sheffield, "a Sheffield provider off target climbs the provider route"
    assert whssc and len(whssc) < 9, "some WHSSC providers are in escalation, not all"
    assert any(key != "contract:RL1" for key in whssc)


async def test_whssc_own_measures_escalate_on_the_dashboard_ladder(database, org_ids):
    async with database.session(await runner_access(database, org_ids["WHSSC"])) as session:
        rows = dict((await session.exec(text(
            "select subject_key, level from escalation where org_id = :o and ladder_code = 'whssc-dashboard' and status <> 'closed'"
        ), params={"o": org_ids["WHSSC"]})).all())
    assert rows.get("indicator:WAIT36", 0) >= 1, rows  # over-36-week waits: the national target of none is missed every month


def test_the_outturn_is_the_year_to_date_and_a_run_rate_for_the_months_left() -> None:
    months = [(dt.date(2026, 2, 1), 999.0), (dt.date(2026, 4, 1), 100.0), (dt.date(2026, 5, 1), 110.0), (dt.date(2026, 6, 1), 120.0)]
    outturn = forecast_outturn(months, contract_value=1200.0)
    assert outturn is not None
    assert (outturn.financial_year_start, outturn.months, outturn.year_to_date) == (dt.date(2026, 4, 1), 3, 330.0)
    assert outturn.forecast == 330.0 + 110.0 * 9 and outturn.variance == 1320.0 - 1200.0
    assert forecast_outturn([], 1.0) is None


async def test_a_notice_moves_through_its_lifecycle_with_history_audit_and_the_ladder(database, services, org_ids):
    org = org_ids["03N"]
    manager, _ = await act_as(database, services.authorizer, CONTRACTS)
    director, director_access = await act_as(database, services.authorizer, DIRECTOR)
    async with database.session(director_access) as session:
        contract = await contract_of(session, org, "RHQ")
        assert contract is not None and contract.monitoring_unit == "03N-PROV-STH" and contract.forum == "CMB-STH"
        # Each step is recorded in its actor's own name (row-level security checks it): the director acts throughout here.
        raised = await raise_notice(session, services.authorizer, director, org_id=org, provider_code="RHQ",
                                    given=NoticeInput("A&E four-hour standard", "Missed for three months", ("AE4H",)),
                                    indicator_choices=contract.indicators, now=AT)
        assert isinstance(raised, NoticeSaved) and raised.notice.status == "raised" and raised.role == "commissioner"
        notice = raised.notice
        refused = await take_step(session, services.authorizer, manager, org_id=org, notice_id=notice.id,
                                  given=StepInput("issue", notice.version), now=AT)
        assert isinstance(refused, NoticeRefused) and refused.reason == "not_allowed"  # the board issues, not the contract manager
        wrong = await take_step(session, services.authorizer, director, org_id=org, notice_id=notice.id,
                                given=StepInput("close", notice.version, note="x"), now=AT)
        assert isinstance(wrong, NoticeRefused) and wrong.reason == "wrong_status"
        issued = await take_step(session, services.authorizer, director, org_id=org, notice_id=notice.id,
                                 given=StepInput("issue", notice.version), now=AT)
        assert isinstance(issued, NoticeSaved) and issued.notice.status == "issued"
        stale = await take_step(session, services.authorizer, director, org_id=org, notice_id=notice.id,
                                given=StepInput("withdraw", notice.version, note="twice"), now=AT)
        assert isinstance(stale, NoticeRefused) and stale.reason == "changed"
        level = (await session.exec(text(
            "select level, explanation -> 'facts' ->> 'performance_notice_issued', explanation -> 'facts' ->> 'remedial_action_plan_agreed'"
            " from escalation where org_id = :o and ladder_code = 'sheffield-provider' and subject_key = 'contract:RHQ' and status <> 'closed'"
        ), params={"o": org})).one()
        assert level == (4, "true", "false")  # the issued notice holds the provider at the notice level
        no_plan = await take_step(session, services.authorizer, director, org_id=org, notice_id=notice.id,
                                  given=StepInput("agree_plan", issued.notice.version, remedial_plan=" "), now=AT)
        assert isinstance(no_plan, NoticeRefused) and no_plan.field == "remedial_plan"
        agreed = await take_step(session, services.authorizer, director, org_id=org, notice_id=notice.id,
                                 given=StepInput("agree_plan", issued.notice.version, remedial_plan="Extra triage capacity",
                                                 remedial_plan_due=dt.date(2027, 2, 1)), now=AT)
        assert isinstance(agreed, NoticeSaved) and agreed.notice.status == "plan_agreed"
        closed = await take_step(session, services.authorizer, director, org_id=org, notice_id=notice.id,
                                 given=StepInput("close", agreed.notice.version, note="Standard met for three months"), now=AT)
        assert isinstance(closed, NoticeSaved) and closed.notice.status == "closed"
        assert [(e.event, e.to_status, e.actor_role) for e in closed.notice.events] == [
            ("raised", "raised", "commissioner"), ("issue", "issued", "executive"), ("agree_plan", "plan_agreed", "commissioner"),
            ("close", "closed", "executive")]
        audit = (await session.exec(text(
            "select action from audit_event where org_id = :o and object_type = 'contract_notice' and object_id = :id order by id"
        ), params={"o": org, "id": str(notice.id)})).scalars().all()
        assert audit == ["contract_notice.raised", "contract_notice.issue", "contract_notice.agree_plan", "contract_notice.close"]
        await session.rollback()


@pytest.mark.parametrize(("given", "field"), [
    (NoticeInput(" ", "why"), "title"), (NoticeInput("t", ""), "reason"), (NoticeInput("t", "r", ("QIPP",)), "indicators"),
])
async def test_raising_refuses_what_is_missing_or_not_of_the_contract(database, services, org_ids, given, field):
    manager, access = await act_as(database, services.authorizer, CONTRACTS)
    async with database.session(access) as session:
        contract = await contract_of(session, org_ids["03N"], "RHQ")
        refused = await raise_notice(session, services.authorizer, manager, org_id=org_ids["03N"], provider_code="RHQ", given=given,
                                     indicator_choices=contract.indicators, now=AT)  # type: ignore[union-attr]
        await session.rollback()
    assert isinstance(refused, NoticeRefused) and (refused.reason, refused.field) == ("invalid", field)


async def test_the_contract_manager_raises_a_notice(database, services, org_ids):
    manager, access = await act_as(database, services.authorizer, CONTRACTS)
    async with database.session(access) as session:
        contract = await contract_of(session, org_ids["03N"], "TAH")
        raised = await raise_notice(session, services.authorizer, manager, org_id=org_ids["03N"], provider_code="TAH",
                                    given=NoticeInput("IAPT access", "Below 1.25% a month", ("IAPT",)),
                                    indicator_choices=contract.indicators, now=AT)  # type: ignore[union-attr]
        await session.rollback()
    assert isinstance(raised, NoticeSaved) and raised.role in ("commissioner", "performance_manager")
    assert [event.actor_name for event in raised.notice.events] == ["Ruth Barker"]


async def test_a_contract_boards_pack_shows_the_providers_figures_outturn_risks_and_forward_look(database, org_ids):
    from sqlmodel import select

    from server.db.models import Forum, Organisation
    from server.db.session import AccessContext
    from server.meetings.pack import build_pack
    from tests.meetings.helpers import create_meeting, rolled_back

    sheffield = org_ids["03N"]
    async with rolled_back(database, AccessContext.for_orgs([sheffield], write=True)) as session:
        meeting = await create_meeting(session, sheffield, "CMB-STH", dt.date(2031, 5, 6))
        organisation = await session.get(Organisation, sheffield)
        forum = (await session.exec(select(Forum).where(Forum.id == meeting.forum_id))).one()
        pack = await build_pack(session, organisation, meeting, forum, now=AT)
        board = await create_meeting(session, sheffield, "IPDB", dt.date(2031, 5, 6))
        ipdb = await build_pack(session, organisation, board, (await session.exec(select(Forum).where(Forum.id == board.forum_id))).one(), now=AT)
    assert pack["scope"]["kind"] == "contract" and pack["scope"]["code"] == "RHQ"
    assert [i["code"] for i in pack["indicators"]] == ["AE4H", "RTT18", "DM01", "CAN62", "LONGWAIT"]  # the provider's, not the CCG's
    assert all(i["series"] for i in pack["indicators"])  # each with its chart points at the contract unit
    contract = pack["contract"]
    assert contract["provider"]["code"] == "RHQ" and contract["recorded_at"] == "03N-PROV-STH"
    assert contract["outturn"]["contract_value"] == 380_000_000 and contract["outturn"]["forecast"] > 0
    assert all(e["subject_key"] == "contract:RHQ" for e in pack["escalations"])
    assert len(contract["risks"]) >= len(pack["escalations"]) and contract["forward_look"]
    assert "contract" not in ipdb and any(i["code"] == "QIPP" for i in ipdb["indicators"])  # the IPDB still reviews the CCG's own
