"""Scheduling from the tenant files and stored data: idempotent, fixed and derived cadence, escalations."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import text

from server.db.models import Escalation
from server.db.session import AccessContext
from server.meetings.schedule import schedule_meetings
from tests.meetings.helpers import rolled_back

APRIL_2031 = (dt.date(2031, 4, 1), dt.date(2031, 4, 30))
YEAR_2031 = (dt.date(2031, 4, 1), dt.date(2032, 3, 31))


async def meetings_in(session, org_id, start, end, *, status: str = "scheduled"):
    rows = await session.exec(text(
        "select f.code, m.subject_key, m.scheduled_for, m.cadence_reason from meeting m join forum f on f.id = m.forum_id"
        " where m.org_id = :o and m.scheduled_for between :s and :e and m.status = :status order by m.scheduled_for"
    ), params={"o": org_id, "s": start, "e": end, "status": status})
    return rows.all()


async def test_scheduling_the_same_range_twice_creates_nothing_the_second_time(database, org_ids):
    whssc = org_ids["WHSSC"]
    access = AccessContext.for_orgs([whssc], write=True)
    async with database.session(access) as session:
        first = await schedule_meetings(session, whssc, start=YEAR_2031[0], end=YEAR_2031[1])
    async with database.session(access) as session:
        second = await schedule_meetings(session, whssc, start=YEAR_2031[0], end=YEAR_2031[1])
        stored = await meetings_in(session, whssc, *YEAR_2031)
    assert first.created == len(first.planned) > 0
    assert (second.created, second.reinstated, second.superseded) == (0, 0, 0)
    assert second.planned == first.planned
    assert len(stored) == len(first.planned)


async def test_whssc_contract_tiers_set_sla_and_exec_to_exec_meetings_per_contract(database, org_ids):
    whssc = org_ids["WHSSC"]
    async with rolled_back(database, AccessContext.for_orgs([whssc], write=True)) as session:
        await session.exec(text("update escalation set status = 'closed' where org_id = :o"), params={"o": whssc})  # no service in escalation
        await schedule_meetings(session, whssc, start=YEAR_2031[0], end=YEAR_2031[1])
        counts = Counter((forum, subject) for forum, subject, _, _ in await meetings_in(session, whssc, *YEAR_2031))
    assert counts[("SLA", "contract:7A4")] == 6          # 6.1: over c40m -> bi-monthly SLA
    assert counts[("EXEC2EXEC", "contract:7A4")] == 1    # 6.1: annual exec to exec
    assert counts[("SLA", "contract:RET")] == 6          # 6.1: under 10m but strategically important
    assert counts[("SLA", "contract:REM")] == 2          # 6.2: 10m-40m -> bi-annual
    assert counts[("EXEC2EXEC", "contract:REM")] == 0
    assert counts[("SLA", "contract:RGM")] == 1          # 6.3: under 10m -> annual
    assert counts[("JC", None)] == 6 and counts[("MG", None)] == 12  # fixed frequencies (bi-monthly, monthly)
    assert not any(forum == "ESCMEET" for forum, _ in counts)  # nothing escalated: no escalation meetings


async def test_a_service_in_escalation_adds_meetings_at_its_levels_cadence(database, org_ids):
    whssc = org_ids["WHSSC"]
    async with rolled_back(database, AccessContext.for_orgs([whssc], write=True)) as session:
        await session.exec(text("update escalation set status = 'closed' where org_id = :o"), params={"o": whssc})
        session.add(Escalation(org_id=whssc, ladder_code="whssc-service-escalation", subject_type="contract", subject_key="contract:REM",
                               subject_name="Liverpool University Hospitals NHS Foundation Trust", level=2, level_code="formal-escalation",
                               level_name="Formal escalation", forum_code="ESCMEET", status="open"))
        await session.flush()
        await schedule_meetings(session, whssc, start=YEAR_2031[0], end=YEAR_2031[1])
        escalation_meetings = [row for row in await meetings_in(session, whssc, *YEAR_2031) if row[0] == "ESCMEET"]
    assert len(escalation_meetings) == 12  # level 2 -> monthly (whssc.yaml escalated-monthly)
    assert {row[1] for row in escalation_meetings} == {"contract:REM"}
    reason = escalation_meetings[0][3]
    assert (reason["basis"], reason["rule"], reason["level"]) == ("escalation_rule", "escalated-monthly", 2)


async def test_thgpcg_operational_performance_group_meets_monthly_on_the_first_tuesday(database, org_ids):
    thgpcg = org_ids["NL4"]
    async with rolled_back(database, AccessContext.for_orgs([thgpcg], write=True)) as session:
        await schedule_meetings(session, thgpcg, start=dt.date(2031, 4, 1), end=dt.date(2031, 6, 30))
        opg = [row for row in await meetings_in(session, thgpcg, dt.date(2031, 4, 1), dt.date(2031, 6, 30)) if row[0] == "OPG"]
    assert [row[2] for row in opg] == [dt.date(2031, 4, 1), dt.date(2031, 5, 6), dt.date(2031, 6, 3)]
    assert opg[0][3]["basis"] == "forum_frequency"


KEY_CRITERIA_INDICATORS = """
    select i.id from indicator i join domain d on d.id = i.domain_id
    where i.org_id = :o and i.is_key and d.code in ('finance', 'quality', 'operational')
"""


async def _set_division(session, org_id: int, unit_code: str, *, failing: bool) -> None:
    """Rewrite the division's stored assessments: three ULHT 5.2 criteria failing for four months, or all met."""
    unit_id = (await session.exec(text("select id from org_unit where org_id = :o and code = :c"), params={"o": org_id, "c": unit_code})).scalar_one()
    await session.exec(text("update escalation set status = 'closed' where org_id = :o and subject_key = :s"), params={"o": org_id, "s": f"unit:{unit_code}"})
    if failing:
        await session.exec(text(
            f"update assessment set rag = 'red', periods_under_target = 4 where unit_id = :u and is_latest and indicator_id in ({KEY_CRITERIA_INDICATORS})"
        ), params={"u": unit_id, "o": org_id})
    else:
        await session.exec(text("update assessment set rag = 'green', periods_under_target = 0 where unit_id = :u and rag <> 'none'"), params={"u": unit_id})


async def test_ulht_division_failing_more_than_two_criteria_severely_meets_weekly(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        await _set_division(session, ulht, "RWD-MED", failing=True)
        await schedule_meetings(session, ulht, start=APRIL_2031[0], end=APRIL_2031[1])
        prm = [row for row in await meetings_in(session, ulht, *APRIL_2031) if row[:2] == ("PRM", "unit:RWD-MED")]
    assert [row[2] for row in prm] == [dt.date(2031, 4, 1), dt.date(2031, 4, 8), dt.date(2031, 4, 15), dt.date(2031, 4, 22), dt.date(2031, 4, 29)]
    reason = prm[0][3]
    assert reason["rule"] == "prm-weekly-severe"  # 5.2: more than two failures, severe -> weekly
    assert reason["facts"]["failed_criteria"] == 3 and reason["facts"]["critical_failure"] is True
    assert {c["fact"]: c["met"] for c in reason["criteria"]} == {
        "financial_plan_adhered": False, "key_quality_indicators_met": False, "key_performance_indicators_met": False, "policies_adhered": True}


async def test_ulht_division_meeting_every_criterion_meets_six_monthly(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        await _set_division(session, ulht, "RWD-SURG", failing=False)
        await schedule_meetings(session, ulht, start=YEAR_2031[0], end=YEAR_2031[1])
        prm = [row for row in await meetings_in(session, ulht, *YEAR_2031) if row[:2] == ("PRM", "unit:RWD-SURG")]
    assert [row[2] for row in prm] == [dt.date(2031, 4, 1), dt.date(2031, 10, 7)]  # 5.2: all met -> six-monthly
    assert prm[0][3]["rule"] == "prm-six-monthly"
    assert prm[0][3]["facts"]["all_indicators_met"] is True


async def test_every_ulht_division_gets_prms_and_the_prm_forum_has_no_organisation_level_sitting(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        outcome = await schedule_meetings(session, ulht, start=YEAR_2031[0], end=YEAR_2031[1])
    prm_subjects = {p.subject_key for p in outcome.planned if p.forum == "PRM"}
    assert prm_subjects == {"unit:RWD-MED", "unit:RWD-SURG", "unit:RWD-FH", "unit:RWD-CSS"}
    assert {p.forum for p in outcome.planned if p.subject_key is None} >= {"BOARD", "FPEC", "EXEC", "ACCREVIEW"}


async def test_when_a_division_recovers_untouched_future_meetings_are_cancelled_and_come_back_if_it_fails_again(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        await _set_division(session, ulht, "RWD-MED", failing=True)
        await schedule_meetings(session, ulht, start=APRIL_2031[0], end=APRIL_2031[1])
        await _set_division(session, ulht, "RWD-MED", failing=False)
        recovered = await schedule_meetings(session, ulht, start=APRIL_2031[0], end=APRIL_2031[1])
        cancelled = [row for row in await meetings_in(session, ulht, *APRIL_2031, status="cancelled") if row[1] == "unit:RWD-MED"]
        await _set_division(session, ulht, "RWD-MED", failing=True)
        again = await schedule_meetings(session, ulht, start=APRIL_2031[0], end=APRIL_2031[1])
    assert recovered.superseded == 4  # weekly -> six-monthly: only 1 April is still needed
    assert {row[2] for row in cancelled} == {dt.date(2031, 4, 8), dt.date(2031, 4, 15), dt.date(2031, 4, 22), dt.date(2031, 4, 29)}
    assert "superseded" in cancelled[0][3]
    assert again.reinstated == 4 and again.created == 0
