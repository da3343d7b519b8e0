"""Stored series for many indicators at once: each period's value, target, rating and SPC limits.

One statement for any number of indicators. The rows are the stored assessments (one per
observed period, at organisation level or at one unit); the SPC mean, limits and point type of
each period come from the series' latest SPC points (stored column-wise: assessment_store/points.py),
whose observed points are the stored rows in the same order (server/assessment_store/recompute.py
stores exactly the observed columns): the statement returns them once per series, with each row's
position k in its series, and the k-th observed point is paired with the k-th row here.
Numerator and denominator are summed from the measurements below the unit, as roll-up does.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.points import observed_points
from server.db.records import fetch_records


class SeriesPoint(NamedTuple):  # a named tuple: a long series is made from rows fast (see IndicatorRecord)
    indicator_id: int
    period: dt.date
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    trajectory: float | None
    rag: str
    variation: str
    assurance: str
    periods_under_target: int
    is_latest: bool
    mean: float | None
    lower_limit: float | None
    upper_limit: float | None
    point_type: str | None


_SERIES = """
with stored as (
  select a.indicator_id, a.period, a.value, a.target, a.trajectory, a.rag, a.variation, a.assurance,
         a.periods_under_target, a.is_latest,
         row_number() over (partition by a.indicator_id order by a.period) - 1 as k
  from assessment a
  where a.indicator_id = any(:ids) and {unit_filter}
), points as materialized (
  select a.indicator_id, a.spc_points from assessment a where a.indicator_id = any(:ids) and {unit_filter} and a.is_latest
), parts as (
  select m.indicator_id, m.period, sum(m.numerator)::float8 as numerator, sum(m.denominator)::float8 as denominator
  from measurement m
  where m.indicator_id = any(:ids) and m.numerator is not null {measurement_unit_filter}
    and m.period >= :start and m.period <= :end
  group by m.indicator_id, m.period
)
select s.indicator_id, s.period, s.value, parts.numerator, parts.denominator, s.target, s.trajectory, s.rag, s.variation,
       s.assurance, s.periods_under_target, s.is_latest, s.k,
       -- the series' points on its first row returned only
       case when row_number() over (partition by s.indicator_id order by s.period) = 1 then p.spc_points end
from stored s
left join points p on p.indicator_id = s.indicator_id
left join parts on parts.indicator_id = s.indicator_id and parts.period = s.period
where s.period >= :start and s.period <= :end
order by s.indicator_id, s.period
"""

# The units whose measurements make the figure: the organisation's (those that roll up to it) or
# those below the unit up to their roll-up boundary (rolls_up, migration 0023), as derivation counts them.
_ORGANISATION_UNITS = """
  and not exists (select 1 from org_unit leaf where leaf.org_id = m.org_id and leaf.id = m.unit_id and leaf.rollup_top_path <> '')
"""
_UNIT_SUBTREE = """
  and m.unit_id in (
    select leaf.id from org_unit top join org_unit leaf on leaf.org_id = top.org_id and leaf.path like top.path || '%'
    where top.id = cast(:unit as int) and top.path like leaf.rollup_top_path || '%')
"""


async def indicator_series(
    session: AsyncSession, indicator_ids: Sequence[int], *, unit_id: int | None = None,
    start: dt.date | None = None, end: dt.date | None = None,
) -> dict[int, list[SeriesPoint]]:
    """Per indicator, its stored points from ``start`` to ``end`` (inclusive), oldest first."""
    if not indicator_ids:
        return {}
    unit_filter = "a.unit_id is null" if unit_id is None else "a.unit_id = :unit"
    statement = _SERIES.format(unit_filter=unit_filter, measurement_unit_filter=_ORGANISATION_UNITS if unit_id is None else _UNIT_SUBTREE)
    params: dict[str, object] = {"ids": list(indicator_ids), "start": start or dt.date.min, "end": end or dt.date.max}
    if unit_id is not None:
        params["unit"] = unit_id
    rows = await fetch_records(session, statement, params)
    series: dict[int, list[SeriesPoint]] = {indicator_id: [] for indicator_id in indicator_ids}
    observed = []
    for *stored, k, spc_points in rows:
        if spc_points is not None or not series[stored[0]]:
            observed = observed_points(spc_points)
        point = observed[k] if k < len(observed) else None
        if point is None:
            series[stored[0]].append(SeriesPoint(*stored, None, None, None, None))
        else:
            series[stored[0]].append(SeriesPoint(*stored, point.mean, point.lower_limit, point.upper_limit, point.point_type))
    return series
