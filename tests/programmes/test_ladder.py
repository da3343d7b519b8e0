"""Sheffield 3.1: the programme route PMO -> PMDG -> IPDB -> CET runs on the programme's own record, and
each record made through the service re-runs it in the same transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest_asyncio
from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.db.session import AccessContext
from server.escalation_store.run import run_ladders
from server.programmes.facts import add_months, assess_programme, month_start
from server.programmes.record import ProgrammeRefused, ProgrammeSaved, RiskInput, record_milestone_achieved, record_qipp, save_risk
from server.programmes.records import read_programmes
from tests.conftest import act_as
from tests.programmes.helpers import CONTRACTS, LEAD, PMO, open_escalation, retire, slipping_programme


@pytest_asyncio.fixture(loop_scope="session")
async def slipping(database, org_ids):  # type: ignore[no-untyped-def]
    sheffield = org_ids["03N"]
    code = await slipping_programme(database, sheffield)
    async with database.session(await runner_access(database, sheffield)) as session:
        await run_ladders(session, sheffield)
    yield code
    await retire(database, sheffield, code)


async def _as(database, services, email, work):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    async with database.session(access) as session:
        return await work(session, services.authorizer, principal)


async def test_a_milestone_two_months_overdue_reaches_the_ipdb(database, org_ids, slipping):
    found = await open_escalation(database, org_ids["03N"], slipping)
    assert found is not None
    level, forum, explanation = found
    assert (level, forum) == ("ipdb", "IPDB")
    assert explanation["facts"]["milestones_overdue"] == 1 and explanation["facts"]["months_exception_unresolved"] == 2
    assert explanation["evidence"]["milestones_overdue"][0].startswith("Test hub open (due ")


async def test_recording_the_milestone_achieved_closes_the_exception_in_the_same_transaction(database, services, org_ids, slipping):
    sheffield = org_ids["03N"]
    async with database.session(AccessContext.for_orgs([sheffield])) as session:
        milestone_id = (await session.exec(text(
            "select m.id from programme_milestone m join programme p on p.org_id = m.org_id and p.id = m.programme_id where p.code = :code"
        ), params={"code": slipping})).scalar_one()
    today = dt.date.today()
    outcome = await _as(database, services, LEAD, lambda session, authorizer, principal: record_milestone_achieved(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping, milestone_id=milestone_id, achieved_on=today))
    assert isinstance(outcome, ProgrammeSaved), outcome
    assert "days late" in outcome.message and outcome.ladders.closed >= 1
    assert await open_escalation(database, sheffield, slipping) is None
    async with database.session(AccessContext.for_orgs([sheffield])) as session:
        audit = (await session.exec(text(
            "select actor_role, after ->> 'achieved_on' from audit_event where org_id = :org and action = 'programme.milestone_achieved'"
            " and object_id = :id"), params={"org": sheffield, "id": str(milestone_id)})).all()
    assert audit == [("programme_lead", today.isoformat())]


async def test_qipp_behind_plan_and_a_red_risk_are_exceptions(database, services, org_ids, slipping):
    sheffield = org_ids["03N"]
    last_month = add_months(month_start(dt.date.today()), -1)
    short = await _as(database, services, LEAD, lambda session, authorizer, principal: record_qipp(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping, month=last_month, realised=Decimal("4000")))
    assert isinstance(short, ProgrammeSaved), short
    risk = await _as(database, services, LEAD, lambda session, authorizer, principal: save_risk(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping,
        given=RiskInput(description="Provider capacity", likelihood=4, impact=5, owner="Head of Urgent Care")))
    assert isinstance(risk, ProgrammeSaved) and "score 20" in risk.message
    async with database.session(AccessContext.for_orgs([sheffield])) as session:
        programme = (await read_programmes(session, sheffield, code=slipping))[0]
    facts = assess_programme(programme, dt.date.today()).facts  # type: ignore[union-attr]
    assert facts["qipp_shortfall_ytd"] == 6000.0 and facts["qipp_shortfall_percent_ytd"] == 0.2  # £6,000 of £30,000 to date
    assert facts["high_risks"] == 1 and facts["highest_risk_score"] == 20 and facts["benefits_at_risk"] is True
    assert (await open_escalation(database, sheffield, slipping)) is not None


async def test_who_may_record_what(database, services, org_ids, slipping):
    sheffield = org_ids["03N"]
    this_month = month_start(dt.date.today())
    contracts = await _as(database, services, CONTRACTS, lambda session, authorizer, principal: record_qipp(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping, month=add_months(this_month, -1), realised=Decimal(1)))
    assert isinstance(contracts, ProgrammeRefused) and contracts.reason == "not_allowed"
    lead_plans = await _as(database, services, LEAD, lambda session, authorizer, principal: record_qipp(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping, month=this_month, planned=Decimal(1)))
    assert isinstance(lead_plans, ProgrammeRefused) and lead_plans.reason == "not_allowed"  # the plan is the PMO's
    future = await _as(database, services, PMO, lambda session, authorizer, principal: record_qipp(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping, month=this_month, realised=Decimal(1)))
    assert (future.reason, future.field) == ("invalid", "month")  # type: ignore[union-attr]
    unknown = await _as(database, services, PMO, lambda session, authorizer, principal: record_qipp(
        session, authorizer, principal, org_id=sheffield, programme_code="NOPE", month=this_month, realised=Decimal(1)))
    assert (unknown.reason, unknown.field) == ("not_found", "programme")  # type: ignore[union-attr]
    bad_score = await _as(database, services, PMO, lambda session, authorizer, principal: save_risk(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping,
        given=RiskInput(description="x", likelihood=6, impact=1, owner="x")))
    assert (bad_score.reason, bad_score.field) == ("invalid", "likelihood")  # type: ignore[union-attr]


async def test_a_programme_in_escalation_is_not_closed_by_the_pmo(database, services, org_ids, slipping):
    from server.programmes.record import ProgrammeInput, edit_programme

    sheffield = org_ids["03N"]
    outcome = await _as(database, services, PMO, lambda session, authorizer, principal: edit_programme(
        session, authorizer, principal, org_id=sheffield, programme_code=slipping,
        given=ProgrammeInput(name="Test", sro_user_id=None, status="closed", starts_on=None, ends_on=None, version=None)))
    assert isinstance(outcome, ProgrammeRefused) and outcome.field == "status"
    assert "open with the Integrated Performance and Delivery Board" in outcome.message
