"""The daily tick: time passing moves a rule with no new data; a day's tick runs once, however many ask.

STW SAPF: "if no improvement within 3 months of this report, System QPC will escalate to the ICB".
System QPC records "not assured"; three months on, with nothing else recorded or measured, the tick
finds the clock at three and the subject at the ICB level.
"""
from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import text

from server.db.session import AccessContext, Database
from server.escalation.engine import whole_months_between
from server.escalation_store.tick import UK, daily_tick, seconds_until_next_tick
from server.judgements.record import JudgementRecorded
from tests.judgements.helpers import QPC, escalation, record, rows


async def _events(database, org_id) -> int:
    return (await rows(database, org_id, "select count(*) from escalation_event where org_id = :o"))[0][0]


async def _tick_rows(database, day: dt.date) -> list:
    async with database.session() as session:
        return (await session.exec(text("select organisations, finished_at from ladder_tick where day = :d"), params={"d": day})).all()


async def test_months_after_qpc_was_not_assured_the_tick_escalates_to_the_icb(database, services, org_ids, stw_subject):
    stw = org_ids["STW"]
    recorded = await record(database, services, QPC, stw, kind="qpc_assured", subject_key=stw_subject, value="no",
                            reason="Delivery group report: recovery too slow")
    assert isinstance(recorded, JudgementRecorded)
    now = recorded.judgement.recorded_at
    before = await escalation(database, stw, stw_subject)
    assert before is None or before[0] < 6  # the ICB level needs three months (or a high patient-safety risk)
    try:
        outcome = await daily_tick(database, at=now + dt.timedelta(days=95))
        assert outcome.status == "ran" and outcome.organisations >= 9 and outcome.changed >= 1
        level, code, explanation = await escalation(database, stw, stw_subject)
        assert (level, code) == (6, "icb-escalation")
        assert explanation["facts"]["months_since_assurance_report_without_improvement"] == 3
    finally:
        await record(database, services, QPC, stw, kind="qpc_assured", subject_key=stw_subject, value=None, withdraw=True, reason="test over")
        await daily_tick(database, force=True)  # back to today's facts for the tests that follow
    after = await escalation(database, stw, stw_subject)
    assert after is None or after[0] < 6


async def test_a_days_tick_runs_once_and_a_second_changes_nothing(database, org_ids):
    at = dt.datetime(2031, 1, 6, 9, tzinfo=dt.UTC)  # a day of its own, so no other test has ticked it
    first = await daily_tick(database, at=at)
    events = await _events(database, org_ids["RWD"])
    second = await daily_tick(database, at=at + dt.timedelta(hours=3))
    assert (first.status, second.status) == ("ran", "done_already")
    assert await _events(database, org_ids["RWD"]) == events
    assert [row[0] for row in await _tick_rows(database, at.date())] == [first.organisations]
    await daily_tick(database, force=True)


async def test_two_processes_ticking_at_once_run_the_day_once(database, org_ids):
    """Two pools (two app processes) ask at the same moment: one runs, the other finds it busy or done."""
    other = Database(database.urls, pool_size=2)
    at = dt.datetime(2031, 2, 3, 1, tzinfo=dt.UTC)
    try:
        outcomes = await asyncio.gather(daily_tick(database, at=at), daily_tick(other, at=at))
    finally:
        await other.dispose()
    statuses = sorted(outcome.status for outcome in outcomes)
    assert statuses.count("ran") == 1 and set(statuses) <= {"ran", "busy", "done_already"}, statuses
    ticks = await _tick_rows(database, at.date())
    assert len(ticks) == 1 and ticks[0][1] is not None
    await daily_tick(database, force=True)


def test_the_scheduler_waits_until_two_in_the_morning_uk_time():
    summer_evening = dt.datetime(2026, 7, 1, 22, 30, tzinfo=UK)  # BST
    assert seconds_until_next_tick(summer_evening) == 3.5 * 3600
    winter_night = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    assert seconds_until_next_tick(winter_night) == 3600


async def test_the_ladders_read_every_judgement_of_an_organisation_in_one_statement(database, services, org_ids, stw_subject):
    """However many judgements and subjects, judgement_facts costs the framework and one query (and the access settings)."""
    from server.assessment_store.recompute import runner_access
    from server.escalation_store.judgement_facts import judgement_facts
    from tests.graphql.test_tool_questions import counted_statements

    stw = org_ids["STW"]
    access = await runner_access(database, stw)

    async def cost() -> tuple[int, dict]:
        async with database.session(access) as session:
            with counted_statements(database) as statements:
                facts = await judgement_facts(session, stw, at=dt.datetime.now(dt.UTC))
        return len(statements), facts

    one, _ = await cost()
    for kind, value in (("qpc_assured", "no"), ("patient_safety_risk", "yes")):
        assert isinstance(await record(database, services, QPC, stw, kind=kind, subject_key=stw_subject, value=value, reason="count"), JudgementRecorded)
    many, facts = await cost()
    assert many == one <= 3
    assert facts[stw_subject]["qpc_assured"] is False and facts[stw_subject]["patient_safety_risk"] is True
    assert facts[stw_subject]["months_since_assurance_report_without_improvement"] == 0


async def test_a_judgement_lapses_on_its_expiry_and_the_ladders_no_longer_read_it(database, services, org_ids, stw_subject):
    from server.assessment_store.recompute import runner_access
    from server.escalation_store.judgement_facts import judgement_facts
    from tests.judgements.helpers import LEAD

    stw = org_ids["STW"]
    recorded = await record(database, services, LEAD, stw, kind="risk_rating", subject_key=stw_subject, value="high", reason="Winter pressure",
                            expires_on=(dt.datetime.now(UK) + dt.timedelta(days=10)).date())
    assert isinstance(recorded, JudgementRecorded) and recorded.judgement.expires_at is not None
    async with database.session(await runner_access(database, stw)) as session:
        today = await judgement_facts(session, stw, at=dt.datetime.now(dt.UTC))
        later = await judgement_facts(session, stw, at=recorded.judgement.expires_at + dt.timedelta(minutes=1))
    assert today[stw_subject]["risk_rating"] == "high"
    assert "risk_rating" not in later.get(stw_subject, {})


async def test_the_clock_counts_from_when_the_verdict_began_not_from_its_renewal(database, services, org_ids, stw_subject):
    """System QPC saying "not assured" again next month does not restart the three months to the ICB."""
    from server.assessment_store.recompute import runner_access
    from server.escalation_store.judgement_facts import judgement_facts

    stw = org_ids["STW"]
    subject = "indicator:" + (await rows(database, stw, "select code from indicator where org_id = :o and 'indicator:' || code <> :k"
                                         " and polarity <> 'neutral' order by position limit 1", k=stw_subject))[0][0]
    # A subject of its own, recorded ahead of real time (so these are its newest rows whatever other tests
    # left) and withdrawn after, before the later days the tick tests tick.
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    first = await record(database, services, QPC, stw, now=start, kind="qpc_assured", subject_key=subject,
                         value="no", reason="The first QPC")
    again = await record(database, services, QPC, stw, now=start + dt.timedelta(days=40), kind="qpc_assured", subject_key=subject,
                         value="no", reason="The next QPC, still not assured")
    try:
        assert isinstance(first, JudgementRecorded) and isinstance(again, JudgementRecorded) and again.supersedes_id == first.judgement.id
        async with database.session(await runner_access(database, stw)) as session:
            facts = await judgement_facts(session, stw, at=start + dt.timedelta(days=80))
        # 80 days after the first verdict (two or three calendar months), 40 after its renewal (one or two)
        assert facts[subject]["months_since_assurance_report_without_improvement"] == whole_months_between(start, start + dt.timedelta(days=80))
    finally:
        await record(database, services, QPC, stw, now=start + dt.timedelta(days=81), kind="qpc_assured", subject_key=subject,
                     value=None, withdraw=True, reason="test over")
