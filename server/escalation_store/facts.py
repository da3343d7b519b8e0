"""Gather the facts a ladder reads, from stored assessments, plans and contracts.

Facts that only people can supply (risk rating, a forum's "not assured", an Executive Team
decision) are left out unless recorded; the condition language treats a missing fact as unknown,
never as true, so a rule that needs one does not fire on a guess.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation_store.division import divisions_of

# The assessment engine's words for assurance, as the fact registry spells them.
_ASSURANCE_FACT = {"consistently_pass": "consistently_passing", "consistently_fail": "consistently_failing", "hit_and_miss": "hit_and_miss"}
_VARIATION_FACT = {"common_cause", "special_cause_improving", "special_cause_concerning"}
# ULHT 4: "significant failure against plan" — read here as a key indicator under target for a
# quarter or more with special-cause concern, or failing and forecast to keep failing.
CRITICAL_FAILURE_MONTHS = 3


@dataclass(frozen=True)
class Subject:
    key: str  # indicator:AE4H, unit:RWD-MED, contract:RXW
    name: str
    kind: str
    facts: dict[str, object]
    indicator_id: int | None = None
    unit_id: int | None = None


async def indicator_subjects(session: AsyncSession, org_id: int) -> list[Subject]:
    """One subject per indicator at organisation level, with series, plan and masking facts."""
    rows = (await session.exec(text(
        """
        select i.id, i.code, i.name, a.rag, a.variation, a.assurance, a.periods_under_target, a.failure_forecast,
               a.period, coalesce(bool_or(u.masked_failure), false) as masked, a.evidence -> 'improvement' ->> 'status',
               p.id as plan_id, p.accountability, p.started_on, p.kind
        from indicator i
        join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
        left join assessment u on u.indicator_id = i.id and u.unit_id is not null and u.is_latest
        left join lateral (
          select id, accountability, started_on, kind from improvement_plan pl
          where pl.indicator_id = i.id and pl.status not in ('closed', 'draft') order by pl.id desc limit 1
        ) p on true
        where i.org_id = :org and i.polarity <> 'neutral'
        group by i.id, i.code, i.name, a.rag, a.variation, a.assurance, a.periods_under_target, a.failure_forecast,
                 a.period, a.evidence, p.id, p.accountability, p.started_on, p.kind
        order by i.position
        """
    ), params={"org": org_id})).all()
    subjects = []
    for (indicator_id, code, name, rag, variation, assurance, under, forecast, period, masked, improvement,
         plan_id, accountability, started_on, _plan_kind) in rows:
        facts: dict[str, object] = {
            "target_missed": under > 0, "months_under_target": int(under), "failure_forecast_next_quarter": bool(forecast),
            "national_target_at_risk": bool(forecast), "masked_failure": bool(masked),
            "accountability": accountability or "sole", "improvement_plan_in_place": plan_id is not None,
            "recovery_plan_in_place": plan_id is not None,
            "critical_failure": under >= CRITICAL_FAILURE_MONTHS and (variation == "special_cause_concerning" or bool(forecast)),
        }
        if rag in ("red", "amber", "green"):
            facts["rag"] = rag
        if variation in _VARIATION_FACT:
            facts["spc_variation"] = variation
        if assurance in _ASSURANCE_FACT:
            facts["spc_assurance"] = _ASSURANCE_FACT[assurance]
        facts["months_since_plan_without_improvement"] = _months_without_improvement(started_on, period, improvement)
        subjects.append(Subject(f"indicator:{code}", name, "indicator", facts, indicator_id=indicator_id))
    return subjects


def _months_without_improvement(started_on: dt.date | None, latest: dt.date, improvement: str | None) -> int:
    """STW step 3: months since the plan started while the series has not improved.

    Whether it improved is the assessment engine's verdict, stored with the series' evidence
    (improvement.py: a special-cause improvement since the start, or the latest periods all better
    than the plan's baseline); an improved series counts zero.
    """
    if started_on is None or improvement == "improved":
        return 0
    return max(0, (latest.year - started_on.year) * 12 + latest.month - started_on.month)


async def unit_subjects(session: AsyncSession, org_id: int) -> list[Subject]:
    """The units one tier below the organisation (ULHT divisions), rated on the tenant's criteria.

    The rating is division.py's, the same the meeting cadence reads. A recovery plan is in place
    when one is linked to the unit's open escalation.
    """
    planned = set((await session.exec(text(
        "select subject_key from escalation where org_id = :org and subject_type = 'unit' and status <> 'closed' and plan_id is not null"
    ), params={"org": org_id})).scalars())
    return [
        Subject(division.subject_key, division.name, "unit", {**division.facts(), "recovery_plan_in_place": division.subject_key in planned},
                unit_id=division.unit_id)
        for division in await divisions_of(session, org_id) if division.rating is not None
    ]


async def contract_subjects(session: AsyncSession, org_id: int) -> list[Subject]:
    """One subject per contract this organisation commissions, with the provider's contractual performance."""
    rows = (await session.exec(text(
        """
        select p.code, p.name, c.annual_value, c.strategically_important,
               count(a.id) filter (where a.rag = 'red') as missed, coalesce(max(a.periods_under_target), 0) as worst_run,
               coalesce(bool_or(a.failure_forecast), false) as forecast
        from contract c join organisation p on p.id = c.provider_id
        left join indicator i on i.org_id = p.id and i.source = 'contractual'
        left join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
        where c.commissioner_id = :org
        group by p.code, p.name, c.annual_value, c.strategically_important order by p.code
        """
    ), params={"org": org_id})).all()
    return [
        Subject(f"contract:{code}", f"Contract with {name}", "contract", {
            "contract_value": float(value), "strategically_important": bool(strategic), "provider_code": code,
            "target_missed": missed > 0, "months_under_target": int(worst_run), "failure_forecast_next_quarter": bool(forecast),
        })
        for code, name, value, strategic, missed, worst_run, forecast in rows
    ]


SUBJECT_READERS = {"indicator": indicator_subjects, "unit": unit_subjects, "contract": contract_subjects}
