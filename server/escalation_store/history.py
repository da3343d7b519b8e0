"""Series histories from the stored assessments, and the run facts the ladders read from them.

One statement reads, for a set of indicators at one level (the organisation, or one unit), every
stored period of the latest four years with its value, target and latest-period verdicts. From
those points this module computes, per series and per group of series (a scorecard domain, the
organisation, a contract's indicators, a programme's), the facts that count periods: under target,
sustained on target, improvement on the previous period, distance below target. Periods are the
indicator's own (weeks, months or quarters): a gap in the data ends a run, as in the assessment
engine's own count (server/assessment/underperformance.py).
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.derived import StoredDerivation, stored_derivation
from server.escalation.periods import Frequency, ReportingPeriod, months_spanned, most_frequent, next_period, run_up_to_latest

POLARITY_SIGN = {"higher_is_better": 1, "lower_is_better": -1}
RAG_SEVERITY = {"green": 0, "amber": 1, "red": 2}
HISTORY_YEARS = 4  # runs are counted over this much of the latest data: far beyond any seed's thresholds
_ASSURANCE_FACT = {"consistently_pass": "consistently_passing", "consistently_fail": "consistently_failing", "hit_and_miss": "hit_and_miss"}
_VARIATIONS = {"common_cause", "special_cause_improving", "special_cause_concerning"}


class Point(NamedTuple):  # a tuple: an organisation's histories hold some 12,000 of them
    period: dt.date
    value: float
    target: float | None


@dataclass(frozen=True)
class SeriesHistory:
    """One indicator's series at one level, newest point first, with its latest verdicts."""

    indicator_id: int
    org_id: int
    code: str
    name: str
    domain: str
    is_key: bool
    polarity: int  # +1 higher is better, -1 lower is better
    frequency: Frequency
    points: tuple[Point, ...]
    rag: str
    variation: str
    assurance: str
    failure_forecast: bool

    @property
    def latest(self) -> Point:
        return self.points[0]

    def fails(self, point: Point) -> bool:
        return point.target is not None and self.polarity * (point.value - point.target) < 0

    def meets(self, point: Point) -> bool:
        return point.target is not None and not self.fails(point)

    @property
    def period(self) -> ReportingPeriod:
        return ReportingPeriod(self.latest.period, self.frequency)

    def facts(self) -> dict[str, object]:
        """The series facts of the registry (server/escalation/facts.py) this history supplies."""
        facts: dict[str, object] = {"reporting_frequency": self.frequency, "failure_forecast_next_quarter": self.failure_forecast,
                                    "national_target_at_risk": self.failure_forecast}
        latest = self.latest
        if latest.target is not None:
            facts.update(_facts_of_runs(*self._runs, latest.period, self.fails(latest), self.frequency))
            shortfall = max(0.0, -self.polarity * (latest.value - latest.target))
            facts["target_shortfall"] = shortfall
            if latest.target != 0:
                facts["target_shortfall_percent"] = shortfall / abs(latest.target)
        previous = self.points[1] if len(self.points) > 1 else None
        if previous is not None and next_period(previous.period, self.frequency) == latest.period:
            facts["improved_on_previous_period"] = self.polarity * (latest.value - previous.value) > 0
        if self.rag in RAG_SEVERITY:
            facts["rag"] = self.rag
        if self.variation in _VARIATIONS:
            facts["spc_variation"] = self.variation
        if self.assurance in _ASSURANCE_FACT:
            facts["spc_assurance"] = _ASSURANCE_FACT[self.assurance]
        return facts


    def evidence(self) -> dict[str, object]:
        """What the facts were read from: the latest and previous points and where the current run began."""
        latest = self.latest
        found: dict[str, object] = {"period": latest.period.isoformat(), "value": latest.value, "target": latest.target,
                                    "frequency": self.frequency}
        if len(self.points) > 1:
            found.update(previous_period=self.points[1].period.isoformat(), previous_value=self.points[1].value)
        if latest.target is not None:
            (_, under_from), (_, sustained_from) = self._runs
            found.update(under_target_since=under_from.isoformat() if under_from else None,
                         on_target_since=sustained_from.isoformat() if sustained_from else None)
        return found

    @cached_property
    def _runs(self) -> tuple[tuple[int, dt.date | None], tuple[int, dt.date | None]]:
        """The runs under target and sustained on target up to the latest period, each (length, first period).

        Worked out once per series: its facts and its evidence both read them. At most one of the two
        runs: the latest point either misses its target or meets it (or has none, and neither runs), so
        one pass walks back while the points do as the latest does, as ``run_up_to_latest`` counts (a
        point without a target, or a gap in the periods, ends it).
        """
        latest = self.points[0]
        if latest.target is None:
            return (0, None), (0, None)
        missing = self.fails(latest)
        length, first = 0, None
        for point in self.points:
            if point.target is None or self.fails(point) != missing or (first is not None and next_period(point.period, self.frequency) != first):
                break
            length, first = length + 1, point.period
        return ((length, first), (0, None)) if missing else ((0, None), (length, first))


def group_evidence(series: Sequence[SeriesHistory]) -> dict[str, object]:
    """Which indicators of a group missed in their latest period, and each one's latest period."""
    targeted = [s for s in series if s.points and s.latest.target is not None]
    return {
        "missed": [s.code for s in targeted if s.fails(s.latest)],
        "key_missed": [s.code for s in targeted if s.is_key and s.fails(s.latest)],
        "latest_periods": {s.code: s.latest.period.isoformat() for s in targeted},
    }


def run_facts(failing: Sequence[tuple[dt.date, bool]], meeting: Sequence[tuple[dt.date, bool]], frequency: Frequency) -> dict[str, object]:
    """Runs up to the latest period (newest first): under target and sustained on target, in periods and months."""
    return _facts_of_runs(run_up_to_latest(failing, frequency), run_up_to_latest(meeting, frequency), failing[0][0], failing[0][1], frequency)


def _facts_of_runs(
    under_run: tuple[int, dt.date | None], sustained_run: tuple[int, dt.date | None], latest: dt.date, missed: bool, frequency: Frequency,
) -> dict[str, object]:
    (under, under_from), (sustained, sustained_from) = under_run, sustained_run
    return {
        "target_missed": bool(missed),
        "periods_under_target": under, "months_under_target": months_spanned(under_from, latest, frequency) if under_from else 0,
        "periods_sustained": sustained, "months_sustained": months_spanned(sustained_from, latest, frequency) if sustained_from else 0,
    }


def group_facts(series: Sequence[SeriesHistory]) -> tuple[dict[str, object], ReportingPeriod | None]:
    """Facts about several series together (a domain, the organisation, a contract's indicators).

    A period of the group is missed when any of its indicators reported then misses its target, and
    on target when every one reported then meets it. "Latest" facts take each indicator's latest
    point, as the scorecard does.
    """
    targeted = [s for s in series if s.points and s.latest.target is not None]
    if not targeted:
        return {}, None
    frequency = most_frequent({s.frequency for s in targeted})
    missed: dict[dt.date, int] = {}
    rated: dict[dt.date, int] = {}
    for history in targeted:
        for point in history.points:
            if point.target is not None:
                rated[point.period] = rated.get(point.period, 0) + 1
                missed[point.period] = missed.get(point.period, 0) + history.fails(point)
    periods = sorted(rated, reverse=True)
    facts = run_facts([(p, missed[p] > 0) for p in periods], [(p, missed[p] == 0) for p in periods], frequency)
    if len(periods) > 1 and next_period(periods[1], frequency) == periods[0]:
        facts["improved_on_previous_period"] = missed[periods[0]] < missed[periods[1]]
    latest_missed = [s for s in targeted if s.fails(s.latest)]
    key = [s for s in targeted if s.is_key]
    worst = max((s.rag for s in (key or targeted) if s.rag in RAG_SEVERITY), key=RAG_SEVERITY.__getitem__, default=None)
    shortfalls = [max(0.0, -s.polarity * (s.latest.value - s.latest.target)) / abs(s.latest.target)  # type: ignore[operator]
                  for s in targeted if s.latest.target]
    facts.update(
        target_missed=bool(latest_missed), targets_missed=len(latest_missed),
        kpi_targets_missed=sum(1 for s in latest_missed if s.is_key),
        all_indicators_met=not latest_missed, key_indicators_met=not any(s.is_key for s in latest_missed),
        all_targets_exceeded=bool(key) and all(s.polarity * (s.latest.value - s.latest.target) > 0 for s in key),  # type: ignore[operator]
        failure_forecast_next_quarter=any(s.failure_forecast for s in series), reporting_frequency=frequency,
    )
    if shortfalls:
        facts["target_shortfall_percent"] = max(shortfalls)
    if worst is not None:
        facts["rag"] = worst
    return facts, ReportingPeriod(periods[0], frequency)


async def read_histories(
    session: AsyncSession, org_ids: Iterable[int], *, unit_ids: Sequence[int] = (), contractual_only: bool = False,
    indicator_ids: Collection[int] | None = None,
) -> dict[tuple[int, int | None], SeriesHistory]:
    """Per (indicator, unit — None for the organisation level), its history: one statement.

    With ``unit_ids``, the series at those units; otherwise at organisation level. With
    ``indicator_ids``, only those indicators' series. Neutral indicators have no target side and
    are left out.
    """
    org_ids = list(org_ids)
    if len(org_ids) == 1 and not unit_ids and not contractual_only:
        derived = stored_derivation(session, org_ids[0], indicator_ids)
        if derived is not None:  # this transaction has just derived and stored these series (assessment_store/derived.py)
            return await _derived_histories(session, derived, indicator_ids)
    level = "a.unit_id = any(:units)" if unit_ids else "a.unit_id is null"
    only = "" if indicator_ids is None else "and i.id = any(:indicators)"
    # One row per series, its points as arrays newest first (a row per point cost 12,000 rows for an
    # organisation of 250 indicators); the verdicts are those of its latest period.
    rows = (await session.exec(text(
        f"""
        -- each organisation's newest period (a series' newest row is its latest one); per organisation, as
        -- reading the latest rows by their partial index read every organisation's (66 ms, this 22 ms); a series'
        -- newest row is its latest, so the organisation's newest period is that of its newest latest row
        with newest as materialized (
          select o.org_id, (select max(x.period) from assessment x where x.org_id = o.org_id and x.is_latest) as period
          from unnest(cast(:orgs as int[])) as o(org_id))
        select i.id, i.org_id, a.unit_id, i.code, i.name, d.code, i.is_key, i.polarity, i.frequency,
               array_agg(a.period order by a.period desc), array_agg(a.value::float8 order by a.period desc),
               array_agg(a.target::float8 order by a.period desc),
               (array_agg(a.rag) filter (where a.is_latest))[1], (array_agg(a.variation) filter (where a.is_latest))[1],
               (array_agg(a.assurance) filter (where a.is_latest))[1], (array_agg(a.failure_forecast) filter (where a.is_latest))[1]
        from indicator i
        join domain d on d.org_id = i.org_id and d.id = i.domain_id
        join newest n on n.org_id = i.org_id
        join assessment a on a.org_id = i.org_id and a.indicator_id = i.id and {level}
        where i.org_id = any(:orgs) and i.polarity <> 'neutral' {"and i.source = 'contractual'" if contractual_only else ""} {only}
          and a.value is not null and a.period >= n.period - make_interval(years => :years)
        group by i.org_id, i.id, d.org_id, d.id, a.unit_id  -- (org_id, id): the keys, so every other column follows
        having bool_or(a.is_latest)
        order by i.position, i.id, a.unit_id
        """
    ), params={"orgs": list(org_ids), "units": list(unit_ids), "years": HISTORY_YEARS,
               **({} if indicator_ids is None else {"indicators": list(indicator_ids)})})).all()
    return {
        (indicator_id, unit_id): SeriesHistory(
            indicator_id, org_id, code, name, domain, is_key, POLARITY_SIGN[polarity], frequency,
            tuple(map(Point, periods, values, targets)), rag, variation, assurance, bool(forecast))
        for (indicator_id, org_id, unit_id, code, name, domain, is_key, polarity, frequency, periods, values, targets,
             rag, variation, assurance, forecast) in rows
    }


_INDICATORS = """
    select i.id, i.code, i.name, d.code, i.is_key, i.polarity, i.frequency from indicator i
    join domain d on d.org_id = i.org_id and d.id = i.domain_id
    where i.org_id = :org and i.polarity <> 'neutral' {only}
    order by i.position, i.id
"""
_NEWEST = text("select max(period) from assessment where org_id = :org and is_latest")


async def _derived_histories(
    session: AsyncSession, derived: StoredDerivation, indicator_ids: Collection[int] | None,
) -> dict[tuple[int, int | None], SeriesHistory]:
    """What ``read_histories`` reads at organisation level, from the derivation this transaction stored:
    the same points (the latest four years before the organisation's newest period) and verdicts."""
    org_id = derived.derivation.series.org_id
    only = "" if indicator_ids is None else "and i.id = any(:indicators)"
    indicators = (await session.exec(text(_INDICATORS.format(only=only)), params={
        "org": org_id, **({} if indicator_ids is None else {"indicators": list(indicator_ids)})})).all()
    newest = (await session.exec(_NEWEST, params={"org": org_id})).scalar()
    if newest is None or not indicators:
        return {}
    since = _years_before(newest, HISTORY_YEARS)
    series = {found.indicator_id: found for found in derived.derivation.organisation_level()}
    histories = {}
    for indicator_id, code, name, domain, is_key, polarity, frequency in indicators:
        found = series.get(indicator_id)
        if found is None or found.periods[0] < since:
            continue
        kept = bisect.bisect_right(found.periods, -since.toordinal(), key=_descending)  # the periods on or after ``since``
        histories[(indicator_id, None)] = SeriesHistory(
            indicator_id, org_id, code, name, domain, is_key, POLARITY_SIGN[polarity], frequency,
            tuple(map(Point, found.periods[:kept], found.values[:kept], [found.target] * kept)),
            found.rag, found.variation, found.assurance, found.failure_forecast)
    return histories


def _descending(period: dt.date) -> int:
    return -period.toordinal()


def _years_before(period: dt.date, years: int) -> dt.date:
    """``period - interval 'n years'`` as PostgreSQL computes it (29 February becomes the 28th)."""
    try:
        return period.replace(year=period.year - years)
    except ValueError:
        return period.replace(year=period.year - years, day=28)
