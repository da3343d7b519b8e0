"""A division's rating on the four ULHT 5.2 criteria, from its stored unit-level assessments.

ULHT 5.2 rates each division monthly on: adherence to financial plan, all (key) quality
indicators met, all (key) performance indicators met, and full adherence to Trust policies and
protocols. The rating sets the PRM frequency through the tenant's cadence rules. Mapping used here
comes from the tenant file: ``assessment.unit_criteria`` names, for each criterion fact, the
scorecard domains whose key indicators must all be met (ULHT: finance -> financial_plan_adhered,
quality -> key_quality_indicators_met, operational -> key_performance_indicators_met).
``policies_adhered`` has no data source: it is a judgement people record (issue 11; the tenant file
declares it under ``judgements:``), failed when judged not adhered, and unknown until judged. Indicators of
domains that are no criterion (ULHT workforce) count towards ``all_indicators_met`` only. This is
the one producer of unit facts: the escalation ladders and the meeting cadence both read it.

"Met" means the latest RAG is green. Amber is on the failing side of the target within the
tenant's amber band, so it is a miss; an indicator with no target (RAG "none") is not counted.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation.periods import Frequency, ReportingPeriod, most_frequent
from server.tenants.load import framework_of

Criteria = Mapping[str, Collection[str]]  # criterion fact -> the domains it reads
# ULHT 4 "significant failure against plan": read, as server/escalation_store does, as more than two
# criteria failed with a key indicator under target for a quarter or more.
CRITICAL_FAILURE_MONTHS = 3
RAG_SEVERITY = {"green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class UnitIndicatorRating:
    """One indicator's latest assessment at one unit."""

    indicator_code: str
    indicator_name: str
    domain: str
    is_key: bool
    rag: str
    periods_under_target: int = 0

    @property
    def rated(self) -> bool:
        return self.rag in RAG_SEVERITY

    @property
    def met(self) -> bool:
        return self.rag == "green"


@dataclass(frozen=True)
class Criterion:
    fact: str
    domain: str | None  # the domains it reads, comma-separated
    met: bool
    failing_indicators: tuple[str, ...] = ()
    note: str | None = None
    judged: bool = True  # False: nobody has judged it yet, so it is no fact (and counts as no failure)


@dataclass(frozen=True)
class DivisionRating:
    criteria: tuple[Criterion, ...]
    key_indicators_met: bool
    all_indicators_met: bool
    worst_key_rag: str | None
    longest_key_run_under_target: int

    @property
    def failed_criteria(self) -> int:
        return sum(1 for criterion in self.criteria if not criterion.met)

    @property
    def critical_failure(self) -> bool:
        return self.failed_criteria > 2 and self.longest_key_run_under_target >= CRITICAL_FAILURE_MONTHS

    def facts(self) -> dict[str, object]:
        facts: dict[str, object] = {criterion.fact: criterion.met for criterion in self.criteria if criterion.judged}
        facts.update(
            failed_criteria=self.failed_criteria, key_indicators_met=self.key_indicators_met,
            all_indicators_met=self.all_indicators_met, critical_failure=self.critical_failure,
        )
        if self.worst_key_rag is not None:
            facts["rag"] = self.worst_key_rag  # a unit's RAG: the worst of its key indicators
        return facts


def rate_division(
    ratings: Sequence[UnitIndicatorRating], criteria_domains: Criteria, *, policies_adhered: bool | None = None,
) -> DivisionRating:
    """Rate one division from its indicators' latest assessments (ULHT 5.2)."""
    rated = [rating for rating in ratings if rating.rated]
    criteria = []
    for fact, domains in criteria_domains.items():
        failing = tuple(r.indicator_code for r in rated if r.domain in domains and r.is_key and not r.met)
        criteria.append(Criterion(fact, ", ".join(sorted(domains)), not failing, failing))
    criteria.append(Criterion(
        "policies_adhered", None, policies_adhered is not False, judged=policies_adhered is not None,
        note="Judged, not measured: " + ("not yet judged, so not counted as failed." if policies_adhered is None
                                         else "judged adhered." if policies_adhered else "judged not adhered."),
    ))
    key = [r for r in rated if r.is_key]
    worst = max((r.rag for r in key), key=RAG_SEVERITY.__getitem__, default=None)
    return DivisionRating(
        criteria=tuple(criteria), key_indicators_met=all(r.met for r in key), all_indicators_met=all(r.met for r in rated),
        worst_key_rag=worst, longest_key_run_under_target=max((r.periods_under_target for r in key), default=0),
    )


def months_sustained(history: Mapping[dt.date, Sequence[UnitIndicatorRating]], criteria_domains: Criteria) -> int:
    """Consecutive periods, up to the latest, in which the division failed no criterion (ULHT 5.2 "sustained")."""
    return _periods_without_failure({period: rate_division(ratings, criteria_domains).failed_criteria > 0
                                     for period, ratings in history.items()})


def _periods_without_failure(failing: Mapping[dt.date, bool]) -> int:
    """months_sustained from each period's verdict: consecutive periods, up to the latest, with no criterion failed."""
    run = 0
    for period in sorted(failing, reverse=True):
        if failing[period]:
            break
        run += 1
    return run


@dataclass(frozen=True)
class Division:
    unit_id: int
    code: str
    name: str
    rating: DivisionRating | None  # None: no stored assessment yet, so nothing is known
    months_sustained: int
    period: dt.date | None
    frequency: Frequency = "monthly"

    @property
    def subject_key(self) -> str:
        return f"unit:{self.code}"

    @property
    def reporting_period(self) -> ReportingPeriod | None:
        return ReportingPeriod(self.period, self.frequency) if self.period else None

    def evidence(self) -> dict[str, object]:
        """Each failed criterion with the indicators that failed it."""
        if self.rating is None:
            return {}
        return {"failed_criteria": {c.fact: list(c.failing_indicators) for c in self.rating.criteria if not c.met},
                "period": self.period.isoformat() if self.period else None}

    def facts(self) -> dict[str, object]:
        if self.rating is None:
            return {}
        # The division is rated each period its indicators report: its periods are theirs.
        return {**self.rating.facts(), "months_sustained": self.months_sustained, "periods_sustained": self.months_sustained,
                "reporting_frequency": self.frequency}


async def divisions_of(session: AsyncSession, org_id: int) -> list[Division]:
    """Every unit one tier below the organisation (ULHT divisions), rated from stored assessments."""
    framework = await framework_of(session, org_id)
    criteria: Criteria = {c.fact: set(c.domains) for c in framework.assessment.unit_criteria} if framework else {}
    units = (await session.exec(
        text("select id, code, name from org_unit where org_id = :org and depth = 1 order by path"), params={"org": org_id}
    )).all()
    # One row per division and period: whether a key indicator of a criterion's domains missed then
    # (what months_sustained counts), and the latest period's ratings themselves. A row per
    # assessment cost 60 periods x every indicator per division, read and rated period by period.
    rows = (await session.exec(text(
        """
        select a.unit_id, a.period, bool_or(i.is_key and a.rag in ('amber', 'red') and d.code = any(:domains)),
               array_agg(distinct i.frequency),
               array_agg(i.code order by i.position, i.id) filter (where a.is_latest),
               array_agg(i.name order by i.position, i.id) filter (where a.is_latest),
               array_agg(d.code order by i.position, i.id) filter (where a.is_latest),
               array_agg(i.is_key order by i.position, i.id) filter (where a.is_latest),
               array_agg(a.rag order by i.position, i.id) filter (where a.is_latest),
               array_agg(a.periods_under_target order by i.position, i.id) filter (where a.is_latest)
        from indicator i
        join domain d on d.id = i.domain_id
        join assessment a on a.indicator_id = i.id and a.unit_id = any(:units)  -- each indicator's series at each division
        where i.org_id = :org and i.polarity <> 'neutral'
        group by a.unit_id, a.period
        """
    ), params={"org": org_id, "units": [unit_id for unit_id, _, _ in units],
               "domains": sorted({domain for domains in criteria.values() for domain in domains})})).all() if units else []
    failing: dict[int, dict[dt.date, bool]] = {}
    latest: dict[int, list[UnitIndicatorRating]] = {}
    latest_period: dict[int, dt.date] = {}
    frequencies: dict[int, set[str]] = {}
    for unit_id, period, missed, unit_frequencies, codes, names, domains, keys, rags, runs in rows:
        frequencies.setdefault(unit_id, set()).update(unit_frequencies)
        failing.setdefault(unit_id, {})[period] = bool(missed)
        if codes:
            latest.setdefault(unit_id, []).extend(map(UnitIndicatorRating, codes, names, domains, keys, rags, runs))
            latest_period[unit_id] = max(period, latest_period.get(unit_id, period))
    adherence = await _policy_adherence(session, org_id, framework)
    return [
        Division(unit_id, code, name,
                 rate_division(latest[unit_id], criteria, policies_adhered=adherence.get(f"unit:{code}")) if unit_id in latest else None,
                 _periods_without_failure(failing.get(unit_id, {})), latest_period.get(unit_id), most_frequent(frequencies.get(unit_id, set())))
        for unit_id, code, name in units
    ]


async def _policy_adherence(session: AsyncSession, org_id: int, framework) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """Criterion 4 as people judged it, per unit subject key (only where the framework declares the judgement)."""
    if framework is None or "policies_adhered" not in framework.judgements:
        return {}
    from server.judgements.store import current_judgements, declared

    judged = declared(await current_judgements(session, org_id, at=dt.datetime.now(dt.UTC), kinds=["policies_adhered"]), framework)
    return {j.subject_key: bool(j.value) for j in judged if j.kind == "policies_adhered"}
