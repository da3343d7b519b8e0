"""Gather the facts a ladder reads about indicators, units and contracts, from stored assessments, plans and contracts.

Facts that only people can supply (risk rating, a forum's "not assured", an Executive Team
decision) are left out unless recorded; the condition language treats a missing fact as unknown,
never as true, so a rule that needs one does not fire on a guess. Which facts each kind of subject
may be given is declared once, in server/escalation/facts.py (SUBJECT_FACTS).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation.periods import ReportingPeriod
from server.escalation_store.division import divisions_of
from server.escalation_store.history import read_histories

# ULHT 4: "significant failure against plan" — read here as a key indicator under target for a
# quarter or more with special-cause concern, or failing and forecast to keep failing.
CRITICAL_FAILURE_MONTHS = 3
# A plan is in place once its partners have agreed it, and a SPIP once the ICB Commissioning Working
# Group has formally signed it off (STW: "formal signing off of the plan"); a draft or a plan under
# critique is not yet one. So an agreement or a sign-off moves a ladder without any new measurement.
PLAN_IN_PLACE_SQL = "({p}.status in ('agreed', 'signed_off', 'presented', 'in_delivery', 'escalated') and not ({p}.kind = 'spip' and {p}.status = 'agreed'))"


@dataclass(frozen=True)
class Subject:
    key: str  # indicator:AE4H, unit:RWD-MED, domain:quality, organisation:RWD, contract:RXW, programme:UEC, plan:12
    name: str
    kind: str
    facts: dict[str, object]
    indicator_id: int | None = None
    unit_id: int | None = None
    period: ReportingPeriod | None = field(default=None, compare=False)  # the latest data period, for de-escalation
    evidence: dict[str, object] = field(default_factory=dict, compare=False)  # what the facts were read from, for the explanation


async def indicator_subjects(
    session: AsyncSession, org_id: int, *, at: dt.datetime | None = None, indicator_ids: Collection[int] | None = None,
) -> list[Subject]:
    """One subject per indicator at organisation level: its series' runs and verdicts, its plan and masking.

    With ``indicator_ids``, only those indicators' subjects (their facts read nothing else).
    """
    histories = await read_histories(session, [org_id], indicator_ids=indicator_ids)
    rows = (await session.exec(text(
        """
        select i.id, i.code, i.name, a.period,
               -- a failing unit hidden by a passing total (THGPCG 13); exists stops at the first (a join and
               -- group by over every unit's latest row cost 165 ms for ULHT, this 3 ms)
               exists (select 1 from assessment u where u.indicator_id = i.id and u.unit_id is not null and u.is_latest
                       and u.masked_failure) as masked,
               a.evidence -> 'improvement' ->> 'status', p.in_place, p.accountability, p.started_on
        from indicator i
        join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
        left join lateral (
          select {in_place} as in_place, accountability, started_on from improvement_plan pl
          where pl.indicator_id = i.id and pl.status not in ('closed', 'draft') order by {in_place} desc, pl.id desc limit 1
        ) p on true
        where i.org_id = :org and i.polarity <> 'neutral' {only}
        order by i.position
        """.format(in_place=PLAN_IN_PLACE_SQL.format(p="pl"), only="" if indicator_ids is None else "and i.id = any(:indicators)")
    ), params={"org": org_id, **({} if indicator_ids is None else {"indicators": list(indicator_ids)})})).all()
    subjects = []
    for indicator_id, code, name, period, masked, improvement, in_place, accountability, started_on in rows:
        history = histories.get((indicator_id, None))
        facts: dict[str, object] = history.facts() if history else {}
        under = facts.get("months_under_target", 0)
        facts.update({
            "masked_failure": bool(masked), "accountability": accountability or "sole", "improvement_plan_in_place": bool(in_place),
            "recovery_plan_in_place": bool(in_place),
            "critical_failure": isinstance(under, int) and under >= CRITICAL_FAILURE_MONTHS
                                and (facts.get("spc_variation") == "special_cause_concerning" or bool(facts.get("failure_forecast_next_quarter"))),
            "months_since_plan_without_improvement": months_without_improvement(started_on if in_place else None, period, improvement),
            # Accord's IPR scorecard lists every indicator of the organisation (server/reporting/scorecard.py).
            "in_integrated_performance_report": True,
        })
        subjects.append(Subject(f"indicator:{code}", name, "indicator", facts, indicator_id=indicator_id,
                                period=history.period if history else None, evidence=history.evidence() if history else {}))
    return subjects


def months_without_improvement(started_on: dt.date | None, latest: dt.date, improvement: str | None) -> int:
    """STW step 3: months since the plan started while the series has not improved.

    Whether it improved is the assessment engine's verdict, stored with the series' evidence
    (improvement.py: a special-cause improvement since the start, or the latest periods all better
    than the plan's baseline); an improved series counts zero.
    """
    if started_on is None or improvement == "improved":
        return 0
    return max(0, (latest.year - started_on.year) * 12 + latest.month - started_on.month)


async def unit_subjects(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> list[Subject]:
    """The units one tier below the organisation (ULHT divisions), rated on the tenant's criteria.

    The rating is division.py's, the same the meeting cadence reads. A recovery plan is in place
    when one is linked to the unit's open escalation.
    """
    planned = set((await session.exec(text(
        "select subject_key from escalation where org_id = :org and subject_type = 'unit' and status <> 'closed' and plan_id is not null"
    ), params={"org": org_id})).scalars())
    return [
        Subject(division.subject_key, division.name, "unit", {**division.facts(), "recovery_plan_in_place": division.subject_key in planned},
                unit_id=division.unit_id, period=division.reporting_period, evidence=division.evidence())
        for division in await divisions_of(session, org_id) if division.rating is not None
    ]
