"""Read an organisation's series, rolled up in SQL through its unit tree, into dense arrays.

A series is indicator x unit, where the unit is any node of the tree (the organisation level is
the root). Each node's value per period is the roll-up of the leaf measurements beneath it, by
the indicator's method (DOMAIN 4.2): sum, sum(numerator)/sum(denominator), max or min; an
indicator that cannot be rolled up keeps only the value recorded at that node. A unit declared
``rolls_up: false`` (a commissioner's contract units) counts at itself and below, never above.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.organisations.queries import ROLLUP_SQL

EPOCH = dt.date(2000, 1, 1)
POLARITY_SIGN = {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}


@dataclass(frozen=True)
class SeriesKey:
    indicator_id: int
    unit_id: int
    depth: int
    parent_unit_id: int | None  # the unit its figures roll up into (None: the root, or a unit that does not roll up)


@dataclass(frozen=True)
class OrganisationSeries:
    org_id: int
    periods: list[dt.date]
    keys: list[SeriesKey]
    values: np.ndarray  # series x periods, NaN where there is no data
    polarity: np.ndarray  # +1 higher is better, -1 lower is better, 0 neutral
    indicator_codes: dict[int, str]
    indicator_domains: dict[int, int]
    indicator_is_key: dict[int, bool]


# Each measurement counts at its leaf and the units above it, up to its roll-up boundary (rolls_up,
# migration 0023); a unit that does not roll up has no parent total (masking). ``_UNITS`` gives, per
# leaf, those units: (leaf_id, unit_id, depth, parent_id, own). The roll-up is then grouped in the
# order the series are returned (one sort: a national trust 46 -> 23 ms, ULHT's 570 series 270 -> 62 ms).
_UNITS = """
  select leaf.id as leaf_id, u.id as unit_id, u.depth, case when u.rolls_up then u.parent_id end as parent_id, leaf.id = u.id as own
  from org_unit u
  join org_unit leaf on leaf.org_id = u.org_id and leaf.path like u.path || '%' and u.path like leaf.rollup_top_path || '%'
  where u.org_id = :org
"""
# (the units, how a measurement is joined to those of its leaf): see read_organisation_series
_UNIT_LEAF_PAIRS = (f"units as materialized ({_UNITS})", "join units a on a.leaf_id = m.unit_id")
_UNITS_BY_LEAF = (
    f"""leaves as materialized (
          select leaf_id, array_agg(unit_id) as unit_ids, array_agg(depth) as depths, array_agg(parent_id) as parent_ids,
                 array_agg(own) as owns
          from ({_UNITS}) units group by leaf_id)""",
    "join leaves l on l.leaf_id = m.unit_id cross join lateral unnest(l.unit_ids, l.depths, l.parent_ids, l.owns) as a(unit_id, depth, parent_id, own)",
)


async def read_organisation_series(session: AsyncSession, org_id: int, indicator_ids: list[int] | None = None) -> OrganisationSeries:
    indicator_filter = "and i.id = any(:indicator_ids)" if indicator_ids else ""
    indicators = (await session.exec(
        text(f"select i.id, i.code, i.polarity, i.domain_id, i.is_key, (select count(*) > 1 from org_unit u where u.org_id = i.org_id)"
             f" from indicator i where i.org_id = :org {indicator_filter} order by i.position"),
        params={"org": org_id, "indicator_ids": indicator_ids or []},
    )).all()
    # How a measurement reaches the units it counts at. Row-level security leaves the planner expecting
    # one row everywhere, so it looks each measurement's units up in a loop: over every (unit, leaf)
    # pair of the tree, or over the leaves, each with its units as arrays. The pairs cost least where
    # there is one unit (a national trust: 23 ms against 46 for its 250 series), the arrays where
    # there is a tree (ULHT: 570 series 72 -> 62 ms, one indicator's 24 -> 10 ms). Both give the same series.
    units, join_units = _UNITS_BY_LEAF if indicators and indicators[0][5] else _UNIT_LEAF_PAIRS
    # One row per series, its periods (days since EPOCH) and values in arrays: decoding 250 rows of
    # arrays costs a fraction of 15,000 rows of scalars, and the dense matrix is filled by numpy.
    rows = (await session.exec(
        text(
            f"""
            with {units}
            select unit_id, depth, parent_id, indicator_id, array_agg(period - date '{EPOCH.isoformat()}'), array_agg(value)
            from (
              select a.unit_id, a.depth, a.parent_id, i.id as indicator_id, m.period, cast({ROLLUP_SQL} as float8) as value
              from indicator i
              join measurement m on m.org_id = i.org_id and m.indicator_id = i.id
              {join_units}
              where i.org_id = :org {indicator_filter}
                and (i.rollup <> 'none' or a.own)
              group by i.id, a.depth, a.unit_id, a.parent_id, i.rollup, m.period
            ) rolled_up
            group by indicator_id, depth, unit_id, parent_id
            order by indicator_id, depth, unit_id
            """
        ),
        params={"org": org_id, "indicator_ids": indicator_ids or []},
    )).all()
    keys = [SeriesKey(indicator_id, unit_id, depth, parent_id) for unit_id, depth, parent_id, indicator_id, _, _ in rows]
    days = [np.asarray(row[4], dtype=np.int64) for row in rows]
    all_days = np.concatenate(days) if days else np.zeros(0, dtype=np.int64)
    period_days = np.unique(all_days)
    values = np.full((len(keys), len(period_days)), np.nan)
    if rows:
        series_index = np.repeat(np.arange(len(rows)), [len(d) for d in days])
        # None (a roll-up with no value) becomes NaN, as no data.
        values[series_index, np.searchsorted(period_days, all_days)] = np.concatenate([np.array(row[5], dtype=float) for row in rows])
    periods = [EPOCH + dt.timedelta(days=day) for day in period_days.tolist()]
    polarity_of = {row[0]: POLARITY_SIGN[row[2]] for row in indicators}
    return OrganisationSeries(
        org_id=org_id, periods=periods, keys=keys, values=values,
        polarity=np.array([polarity_of[k.indicator_id] for k in keys], dtype=int),
        indicator_codes={row[0]: row[1] for row in indicators},
        indicator_domains={row[0]: row[3] for row in indicators},
        indicator_is_key={row[0]: row[4] for row in indicators},
    )
