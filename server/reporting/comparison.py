"""One indicator compared across every organisation the caller may read (benchmarking).

Organisations are matched on the indicator's code (national codes where one exists). Each entry is
the organisation-level stored assessment at the period asked for, or at each organisation's
latest period; quartiles and ranks are over the entries with a value, best first by polarity.
Row-level security decides which organisations appear: the caller passes nothing wider.
"""
from __future__ import annotations

import datetime as dt
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.records import fetch_records


class ComparisonEntry(NamedTuple):  # a named tuple: every organisation's entry is made once, fast
    organisation_code: str
    organisation_name: str
    indicator_name: str
    period: dt.date | None
    value: float | None
    target: float | None
    rag: str
    variation: str
    assurance: str
    periods_under_target: int
    rank: int | None = None  # 1 = best, by the indicator's polarity
    quartile: int | None = None  # 1 = best quarter


@dataclass(frozen=True)
class Comparison:
    code: str
    name: str
    unit: str
    polarity: str
    period: dt.date | None
    entries: list[ComparisonEntry]
    lower_quartile: float | None = None
    median: float | None = None
    upper_quartile: float | None = None
    organisations_reporting: int = 0
    notes: list[str] = field(default_factory=list)


_COMPARISON = """
select i.code, o.code, o.name, i.name, i.unit, i.polarity,
       a.period, a.value::float8, a.target::float8, coalesce(a.rag, 'none'), coalesce(a.variation, 'none'), coalesce(a.assurance, 'none'),
       coalesce(a.periods_under_target, 0)
from indicator i
join organisation o on o.id = i.org_id
left join assessment a on a.indicator_id = i.id and a.unit_id is null and {assessment_at}
where i.code = any(:codes) and i.org_id = any(:org_ids)
order by i.code, o.name
"""


async def compare_indicators(
    session: AsyncSession, codes: Sequence[str], *, org_ids: Sequence[int], period: dt.date | None = None,
) -> list[Comparison]:
    """One comparison per code that at least one readable organisation reports, in the order asked."""
    if not codes or not org_ids:
        return []
    assessment_at = "a.is_latest" if period is None else "a.period = :period"
    params: dict[str, object] = {"codes": list(dict.fromkeys(codes)), "org_ids": list(org_ids)}
    if period is not None:
        params["period"] = period
    rows = await fetch_records(session, _COMPARISON.format(assessment_at=assessment_at), params)
    grouped: dict[str, list] = {}  # type: ignore[type-arg]
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [_comparison(code, grouped[code], period) for code in params["codes"] if code in grouped]  # type: ignore[attr-defined]


def _comparison(code: str, rows: list, period: dt.date | None) -> Comparison:  # type: ignore[type-arg]
    head = rows[0]
    values = [r[7] for r in rows]
    units = {r[4] for r in rows}
    notes = [f"Organisations record this code in different units ({', '.join(sorted(units))}): compare with care."] if len(units) > 1 else []
    reported = [value for value in values if value is not None]
    sign = -1 if head[5] == "lower_is_better" else 1
    # Ranks and quartiles first, so each entry is made once (best first by polarity; ties keep the rows' order).
    order = sorted((index for index, value in enumerate(values) if value is not None), key=lambda index: -sign * values[index])  # type: ignore[operator]
    rank = {index: position for position, index in enumerate(order, start=1)}
    quartiles = (statistics.quantiles(reported, n=4, method="inclusive") if len(reported) > 1 else [reported[0]] * 3) if reported else []
    make = ComparisonEntry._make  # value and target are float8 columns, the run an integer: no conversions per entry
    entries = [
        make((r[1], r[2], r[3], r[6], value, r[8], r[9], r[10], r[11], r[12], rank.get(index), None if value is None else _quartile(value, quartiles, sign)))
        for index, (r, value) in enumerate(zip(rows, values))
    ]
    if not reported:
        return Comparison(code, head[3], head[4], head[5], period, entries, notes=notes)
    return Comparison(code, head[3], head[4], head[5], period, entries, lower_quartile=quartiles[0], median=quartiles[1],
                      upper_quartile=quartiles[2], organisations_reporting=len(reported), notes=notes)


def _quartile(value: float, quartiles: list[float], sign: int) -> int:
    """1 = the best quarter by polarity (the top quarter when higher is better)."""
    from_bottom = 1 + bisect_left(quartiles, value)  # how many quartiles lie below the value (they ascend)
    return 5 - from_bottom if sign >= 0 else from_bottom
