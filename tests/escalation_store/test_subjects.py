"""Every kind of subject is read from the store with its declared facts, in a fixed number of statements."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.db.models import Action, ImprovementPlan, PlanEvent, PlanTrajectory
from server.escalation.facts import SUBJECT_FACTS
from server.escalation_store.run import run_ladders
from server.escalation_store.subjects import SUBJECT_READERS, read_subjects
from tests.graphql.test_tool_questions import counted_statements

AT = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


def test_the_store_reads_every_subject_type_the_registry_declares() -> None:
    assert set(SUBJECT_READERS) == set(SUBJECT_FACTS)


# (organisation, kind, statements the reader sends whatever the number of subjects)
READS = [("RXW", "indicator", 2), ("RWD", "unit", 5), ("RWD", "domain", 2), ("RWD", "organisation", 2),
         ("QOC", "contract", 6), ("WHSSC", "contract", 6), ("03N", "contract", 6), ("03N", "programme", 1)]


@pytest.mark.parametrize(("org", "kind", "statements"), READS)
async def test_each_subject_type_is_read_with_its_declared_facts(database, org_ids, org, kind, statements) -> None:
    async with database.session(await runner_access(database, org_ids[org])) as session:
        await session.exec(text("select 1"))  # the access settings are sent on the first statement
        with counted_statements(database) as sent:
            subjects = await read_subjects(session, org_ids[org], kind, at=AT)
    assert subjects, f"{org} has {kind} subjects in the demo data"
    assert len(sent) <= statements, sent
    for subject in subjects:
        assert subject.key.startswith(f"{kind}:") and subject.kind == kind
        assert set(subject.facts) <= SUBJECT_FACTS[kind]  # type: ignore[index]
        # A contract with a provider that reports nothing here (WHSSC's English providers) has no runs: unknown, not on target.
        assert ("periods_sustained" in subject.facts) is (subject.period is not None)
    assert any("periods_sustained" in subject.facts for subject in subjects)


async def test_a_series_counts_its_runs_as_the_assessment_engine_does(database, org_ids) -> None:
    org = org_ids["RXW"]
    async with database.session(await runner_access(database, org)) as session:
        stored = dict((await session.exec(text(
            "select 'indicator:' || i.code, a.periods_under_target from assessment a join indicator i on i.id = a.indicator_id"
            " where a.org_id = :o and a.unit_id is null and a.is_latest and a.target is not null and i.polarity <> 'neutral'"
            " and i.frequency = 'monthly'"), params={"o": org})).all())
        subjects = {s.key: s for s in await read_subjects(session, org, "indicator", at=AT)}
    assert stored and any(stored.values())
    for key, under in stored.items():
        facts = subjects[key].facts
        assert (facts["periods_under_target"], facts["months_under_target"]) == (under, under), key
        assert facts["target_missed"] is (under > 0)
        assert (facts["periods_sustained"] > 0) is (under == 0)
        if under:
            assert facts["target_shortfall"] > 0 and facts["periods_sustained"] == 0


async def test_an_indicator_is_masked_when_any_unit_fails_under_a_passing_total(database, org_ids) -> None:
    found = 0
    for code in ("NL4", "RWD", "RXW"):
        org = org_ids[code]
        async with database.session(await runner_access(database, org)) as session:
            masked = set((await session.exec(text(
                "select distinct 'indicator:' || i.code from assessment u join indicator i on i.id = u.indicator_id"
                " where u.org_id = :o and u.unit_id is not null and u.is_latest and u.masked_failure"), params={"o": org})).scalars())
            subjects = await read_subjects(session, org, "indicator", at=AT)
        assert {s.key for s in subjects if s.facts["masked_failure"]} == masked & {s.key for s in subjects}
        found += len(masked)
    assert found, "the demo data hide some failing unit under a passing total"


async def test_a_domain_is_missed_when_any_of_its_indicators_is(database, org_ids) -> None:
    org = org_ids["RWD"]
    async with database.session(await runner_access(database, org)) as session:
        indicators = await read_subjects(session, org, "indicator", at=AT)
        read = await read_subjects(session, org, "domain", at=AT)
        domains = {s.key: s.facts for s in read}
        domain_of = dict((await session.exec(text(
            "select 'indicator:' || i.code, 'domain:' || d.code from indicator i join domain d on d.id = i.domain_id where i.org_id = :o"),
            params={"o": org})).all())
    for key, facts in domains.items():
        members = [s.facts for s in indicators if domain_of[s.key] == key and "target_missed" in s.facts]
        assert facts["targets_missed"] == sum(m["target_missed"] for m in members)
        assert facts["periods_under_target"] >= max(m["periods_under_target"] for m in members)
        assert facts["periods_sustained"] <= min(m["periods_sustained"] for m in members)
    for subject in read:  # the explanation names the indicators that missed
        assert len(subject.evidence["missed"]) == subject.facts["targets_missed"]
        assert {f"indicator:{code}" for code in subject.evidence["missed"]} <= {k for k, d in domain_of.items() if d == subject.key}


async def test_a_live_plan_is_a_subject_with_its_trajectory_and_overdue_actions(database, org_ids) -> None:
    org = org_ids["RXW"]
    access = await runner_access(database, org)
    async with database.session(access) as session:
        indicator_id, latest, value, polarity = (await session.exec(text(
            "select i.id, a.period, a.value, i.polarity from indicator i join assessment a on a.indicator_id = i.id and a.unit_id is null"
            " and a.is_latest where i.org_id = :o and i.polarity = 'higher_is_better' order by i.position limit 1"), params={"o": org})).one()
        plan = ImprovementPlan(org_id=org, title="Subject test plan", sro="COO", status="in_delivery", indicator_id=indicator_id,
                               started_on=latest, partner_org_ids=[org])
        session.add(plan)
        await session.flush()
        session.add(PlanEvent(plan_id=plan.id, event="created", to_status=plan.status, plan_version=plan.version))
        session.add(PlanTrajectory(plan_id=plan.id, period=latest, planned=value + 1))  # the plan wanted more than was achieved
        session.add(Action(org_id=org, plan_id=plan.id, description="Overdue", owner="COO", due_date=AT.date() - dt.timedelta(days=3)))
        session.add(Action(org_id=org, plan_id=plan.id, description="Not yet due", owner="COO", due_date=AT.date() + dt.timedelta(days=3)))
        await session.flush()
        with counted_statements(database) as sent:
            plans = {s.key: s for s in await read_subjects(session, org, "plan", at=AT)}
        await session.rollback()
    facts = plans[f"plan:{plan.id}"].facts
    assert len(sent) <= 2
    assert (facts["plan_status"], facts["plan_actions_overdue"], facts["plan_off_trajectory"]) == ("in_delivery", 1, True)
    assert facts["improvement_plan_in_place"] is True and "periods_under_target" in facts


async def test_sheffield_programmes_escalate_from_their_own_records(database, org_ids) -> None:
    """The demo's programme records (tenants/sheffield-ccg.yaml demo blocks): urgent care slipping for two
    months is at the IPDB, mental health with a red risk raised this month at the PMO, the others on track."""
    org = org_ids["03N"]
    async with database.session(await runner_access(database, org)) as session:
        await run_ladders(session, org)
        programmes = {s.key: s.facts for s in await read_subjects(session, org, "programme", at=dt.datetime.now(dt.UTC))}
        escalated = dict((await session.exec(text(
            "select subject_key, level_code from escalation where org_id = :o and subject_type = 'programme' and status <> 'closed'"),
            params={"o": org})).all())
        await session.rollback()
    assert set(programmes) == {"programme:UEC", "programme:ELECTIVE", "programme:PRIMARY", "programme:MH"}
    assert escalated == {"programme:UEC": "ipdb", "programme:MH": "pmo-exception"}
    slipping = programmes["programme:UEC"]
    assert slipping["months_exception_unresolved"] == 2 and slipping["milestones_overdue"] == 1 and slipping["high_risks"] == 1
    assert slipping["benefits_at_risk"] is True and 0 < slipping["qipp_shortfall_percent_ytd"] < 1
    assert programmes["programme:ELECTIVE"]["target_missed"] is False and programmes["programme:ELECTIVE"]["periods_sustained"] >= 1
