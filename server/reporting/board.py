"""The IPR as a board paper: for each indicator its recent SPC series, the latest and previous
values, and its rating told as a sentence ("Two months below the 92.0% target (88.1% in October,
87.4% in November)") instead of the rule that decided it.

The series of every indicator on the paper are read in one statement, with the SPC mean, limits,
segment and deciding rule of each point taken from the series' latest SPC points (the k-th observed
point is the k-th stored row: server/assessment_store/recompute.py stores exactly those), returned
once per series and paired with the rows here.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment.reference import consecutive_periods_under_target
from server.assessment_store.points import ChartPoint, observed_points
from server.db.records import fetch_records
from server.reporting.indicator import SeriesPoint
from server.reporting.scorecard import IndicatorRef, ScorecardRow
from server.reporting.status import IndicatorStatus
from server.reporting.words import FREQUENCY_PERIODS, period_label

# Two years of a monthly series: what Making Data Count charts in a board report show.
CHART_PERIODS = 24
LISTED_PERIODS = 3  # a run under target names at most its last three values
NUMBER_WORDS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve")

Formatter = Callable[[float | None], str]

_CHART_SERIES = """
with stored as (
  select a.indicator_id, a.period, a.value, a.target, a.trajectory, a.rag, a.masked_failure,
         row_number() over (partition by a.indicator_id order by a.period) - 1 as k
  from assessment a
  where a.indicator_id = any(:ids) and a.unit_id is not distinct from cast(:unit as integer)
), points as materialized (
  select a.indicator_id, a.spc_points
  from assessment a
  where a.indicator_id = any(:ids) and a.unit_id is not distinct from cast(:unit as integer) and a.is_latest
)
select s.indicator_id, s.period, s.value, s.target, s.trajectory, s.rag, s.masked_failure, s.k,
       -- the series' points on its first row returned only
       case when s.from_end = least(:periods, s.rows_before) then p.spc_points end
from (select *, row_number() over (partition by indicator_id order by period desc) as from_end,
             count(*) over (partition by indicator_id) as rows_before
      from stored where period < coalesce(cast(:before as date), 'infinity')) s
left join points p on p.indicator_id = s.indicator_id
where s.from_end <= :periods
order by s.indicator_id, s.period
"""


# The page's trend column needs only the values: no SPC evidence (unpacking the latest rows' evidence
# was most of the 130 ms statement, and decoding its points most of the page's Python time). Each
# indicator's newest rows read backwards from its own index entries (org_id, indicator_id, unit_id,
# period): a window over every stored period of every indicator read all sixty months (15,000 rows
# at national scale) and matched the unit with IS NOT DISTINCT FROM, which no index serves.
_RECENT_VALUES = """
select i.id, t.period, t.value, t.target, t.trajectory, t.rag, t.masked_failure
from unnest(cast(:ids as integer[])) as i(id)
cross join lateral (
  select a.period, a.value, a.target, a.trajectory, a.rag, a.masked_failure from assessment a
  where a.org_id = :org and a.indicator_id = i.id and {unit_filter} and a.period < coalesce(cast(:before as date), 'infinity')
  order by a.period desc limit :periods
) t
order by i.id, t.period
"""


async def chart_series(
    session: AsyncSession, indicators: Sequence[IndicatorRef], *, unit_id: int | None, periods: int = CHART_PERIODS,
    before: dt.date | None = None, spc: bool = True, org_id: int | None = None,
) -> dict[int, tuple[SeriesPoint, ...]]:
    """Per indicator, its last ``periods`` stored points at the unit (None: organisation level) before
    the day ``before`` (None: all), oldest first; without ``spc``, the stored values only (no SPC
    mean, limits or point type: a trend line's needs) of the indicators of ``org_id``."""
    if not indicators:
        return {}
    frequency = {i.id: i.frequency for i in indicators}
    params = {"ids": list(frequency), "unit": unit_id, "periods": periods, "before": before}
    series: dict[int, list[SeriesPoint]] = {i.id: [] for i in indicators}
    if not spc:
        # value, target and trajectory are float8 columns: floats or None as they come. The same two
        # dozen months label every indicator's points: each label made once (6,000 points an IPR).
        if org_id is None:
            raise ValueError("the values-only series are read by organisation: org_id is required")
        labels: dict[tuple[dt.date, str], str] = {}
        statement = _RECENT_VALUES.format(unit_filter="a.unit_id is null" if unit_id is None else "a.unit_id = :unit")
        values_params = {"ids": params["ids"], "org": org_id, "periods": periods, "before": before, **({} if unit_id is None else {"unit": unit_id})}
        for indicator_id, period, value, target, trajectory, rag, masked in await fetch_records(session, statement, values_params):
            key = (period, frequency[indicator_id])
            label = labels.get(key)
            if label is None:
                label = labels[key] = period_label(*key)
            series[indicator_id].append(SeriesPoint(None, period, label, value, target, trajectory, rag, masked))
        return {indicator_id: tuple(points) for indicator_id, points in series.items()}
    rows = (await session.exec(text(_CHART_SERIES), params=params)).all()
    observed: list[ChartPoint] = []
    for indicator_id, period, value, target, trajectory, rag, masked, k, spc_points in rows:
        base = dict(period=period, label=period_label(period, frequency[indicator_id]), value=_float(value), target=_float(target),
                    trajectory=_float(trajectory), rag=rag or "none", masked_failure=bool(masked))
        if spc_points is not None or not series[indicator_id]:
            observed = observed_points(spc_points)
        if k < len(observed):
            point = observed[k]
            series[indicator_id].append(SeriesPoint(
                index=point.index, mean=point.mean, lower_limit=point.lower_limit, upper_limit=point.upper_limit, segment=point.segment,
                rules=point.rules, deciding_rule=point.deciding_rule, point_type=point.point_type, direction=point.direction, **base,
            ))
        else:
            series[indicator_id].append(SeriesPoint(index=None, **base))
    return {indicator_id: tuple(points) for indicator_id, points in series.items()}


# A point's SPC type as the verdict it would be were it the latest (server/assessment/spc.py).
POINT_VARIATIONS = {"common_cause": "common_cause", "special_cause_improvement": "special_cause_improving",
                    "special_cause_concern": "special_cause_concerning", "special_cause_neutral": "special_cause_neutral"}
POLARITY_SIGNS = {"higher_is_better": 1, "lower_is_better": -1}


def status_as_at(indicator: IndicatorRef, status: IndicatorStatus, points: Sequence[SeriesPoint]) -> IndicatorStatus:
    """An earlier period's status with what only the latest row stores filled in from the series:
    the point's SPC type as its variation (as the latest evidence reads that point) and the run under
    target to it. Assurance stays unjudged: it belongs to the process as it stands now."""
    if status.variation != "none":
        return status  # the series' latest row: its own verdicts
    upto = [p for p in points if p.period <= status.period]
    if not upto or upto[-1].period != status.period:
        return status
    point = upto[-1]
    sign = POLARITY_SIGNS.get(indicator.polarity, 0)
    run = 0
    if status.target is not None and sign:
        values = [math.nan if p.value is None else p.value for p in upto]
        run = consecutive_periods_under_target(values, status.target, sign)
    return dataclasses.replace(
        status, variation=POINT_VARIATIONS.get(point.point_type, "none"), variation_direction=point.direction or None, periods_under_target=run,
    )


@dataclass(frozen=True)
class BoardIndicator:
    row: ScorecardRow
    points: tuple[SeriesPoint, ...]
    rating_sentence: str
    change_sentence: str

    @property
    def indicator(self) -> IndicatorRef:
        return self.row.indicator

    @property
    def status(self) -> IndicatorStatus | None:
        return self.row.status

    @property
    def previous(self) -> SeriesPoint | None:
        observed = [p for p in self.points if p.value is not None]
        return observed[-2] if len(observed) > 1 else None


def board_indicator(row: ScorecardRow, points: Sequence[SeriesPoint], fmt: Formatter) -> BoardIndicator:
    return BoardIndicator(row, tuple(points), rating_sentence(row, points, fmt), change_sentence(row, points, fmt))


def rating_sentence(row: ScorecardRow, points: Sequence[SeriesPoint], fmt: Formatter) -> str:
    """The rating in words, with the values behind it."""
    status, indicator = row.status, row.indicator
    if status is None or status.value is None:
        return "No value reported yet."
    when = _when(status.period, status.period, indicator.frequency)
    if status.target is None:
        return f"No target is set; {fmt(status.value)} in {when}."
    side = "above" if indicator.polarity == "lower_is_better" else "below"
    run = status.periods_under_target
    if status.rag == "green":
        return f"Meets the {fmt(status.target)} target: {fmt(status.value)} in {when}."
    if run == 0:
        words = "At risk" if status.rag == "amber" else "Misses the target"
        return f"{words}: {fmt(status.value)} in {when} against the {fmt(status.target)} target."
    singular, plural = FREQUENCY_PERIODS.get(indicator.frequency, ("period", "periods"))
    count = NUMBER_WORDS[run] if run < len(NUMBER_WORDS) else str(run)
    observed = [p for p in points if p.value is not None][-min(run, LISTED_PERIODS):]
    listed = ", ".join(f"{fmt(p.value)} in {_when(p.period, status.period, indicator.frequency)}" for p in observed)
    head = f"{count} {singular if run == 1 else plural} {side} the {fmt(status.target)} target"
    if not listed:
        return f"{head}."
    if run > len(observed) == 1:
        return f"{head}; {listed}."
    if run > len(observed):
        return f"{head}; the last {NUMBER_WORDS[len(observed)].lower()}: {listed}."
    return f"{head} ({listed})."


def change_sentence(row: ScorecardRow, points: Sequence[SeriesPoint], fmt: Formatter) -> str:
    """'Up 1.3 percentage points from 80.0% in October (better)'; '' without two values."""
    observed = [p for p in points if p.value is not None]
    if len(observed) < 2:
        return ""
    latest, previous = observed[-1], observed[-2]
    assert latest.value is not None and previous.value is not None
    when = _when(previous.period, latest.period, row.indicator.frequency)
    difference = latest.value - previous.value
    if abs(difference) < 1e-9:
        return f"Unchanged from {when}."
    if row.indicator.unit == "percent":
        amount = f"{abs(difference) * 100:.1f} percentage {'point' if round(abs(difference) * 100, 1) == 1 else 'points'}"
    else:
        amount = fmt(abs(difference))
    better = {"higher_is_better": difference > 0, "lower_is_better": difference < 0}.get(row.indicator.polarity)
    verdict = "" if better is None else (" (better)" if better else " (worse)")
    return f"{'Up' if difference > 0 else 'Down'} {amount} from {fmt(previous.value)} in {when}{verdict}."


def _when(period: dt.date, latest: dt.date, frequency: str) -> str:
    """'October' within the latest period's year, 'October 2025' before it; weeks and quarters as labelled."""
    if frequency != "monthly":
        return period_label(period, frequency)
    return period.strftime("%B") if period.year == latest.year else period.strftime("%B %Y")


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
