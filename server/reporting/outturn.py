"""Year-to-date and forecast outturn of the indicators whose tenant file asks for it (``outturn:``),
from their stored series (server/assessment/outturn.py gives the arithmetic).

One statement for any number of indicators: each stored assessment at the organisation level (or
one unit) with its target and trajectory, and the organisation-level trajectory of the months to
come. Read by the IPR (page and PDF), the indicator page and its CSV, and GraphQL.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment.outturn import Outturn, OutturnMonth, outturn_series
from server.assessment_store.series import POLARITY_SIGN

METHOD_WORDS = {
    "run_rate": "the months to come continue at this year's average so far (run rate)",
    "linear": "a straight line through this year's months, projected to the year end (linear trend)",
}

_WHICH = "i.outturn is not null and (cast(:ids as int[]) is null or i.id = any(cast(:ids as int[]))) and (cast(:org as int) is null or i.org_id = :org)"
_OUTTURN = text(
    f"""
    select i.id, i.outturn, i.polarity, a.period, a.value::float8, a.target::float8, a.trajectory::float8, false as ahead, d.position, i.position
    from indicator i
    join domain d on d.id = i.domain_id
    join assessment a on a.indicator_id = i.id and a.unit_id is not distinct from cast(:unit as int)
    where {_WHICH}
    union all
    select i.id, i.outturn, i.polarity, t.period, t.value::float8, null, null, true, d.position, i.position
    from indicator i
    join domain d on d.id = i.domain_id
    join trajectory t on t.indicator_id = i.id and t.unit_id is null
    where {_WHICH} and cast(:unit as int) is null
    order by 9, 10, 1, 8, 4
    """
)


@dataclass(frozen=True)
class IndicatorOutturn:
    """The outturn of one indicator's series at each reported month (oldest first); ``latest`` is now."""

    indicator_id: int
    method: str
    year_start_month: int
    points: tuple[Outturn, ...]

    @property
    def latest(self) -> Outturn | None:
        return self.points[-1] if self.points else None

    @property
    def method_words(self) -> str:
        return METHOD_WORDS[self.method]

    def at(self, period: dt.date) -> Outturn | None:
        return next((point for point in self.points if point.period == period), None)

    def as_at(self, before: dt.date | None) -> Outturn | None:
        """As it stood at the last month reported before ``before`` (None: the latest)."""
        return self.latest if before is None else next((point for point in reversed(self.points) if point.period < before), None)


async def indicator_outturns(
    session: AsyncSession, indicator_ids: Sequence[int] | None = None, *, org_id: int | None = None, unit_id: int | None = None,
) -> dict[int, IndicatorOutturn]:
    """Per indicator that declares an outturn (others are left out; all of ``org_id``'s when no ids
    are given), in scorecard order, its outturn at every reported month."""
    if indicator_ids is not None and not indicator_ids:
        return {}
    rows = (await session.exec(_OUTTURN.bindparams(ids=None if indicator_ids is None else list(indicator_ids), org=org_id, unit=unit_id))).all()
    by_indicator: dict[int, list] = {}  # type: ignore[type-arg]
    for row in rows:
        by_indicator.setdefault(row[0], []).append(row)
    return {indicator_id: _outturn(indicator_id, found) for indicator_id, found in by_indicator.items()}


def _outturn(indicator_id: int, rows: list) -> IndicatorOutturn:  # type: ignore[type-arg]
    settings, polarity = rows[0][1], POLARITY_SIGN[rows[0][2]]
    stored = [row for row in rows if not row[7]]
    last = stored[-1][3] if stored else None
    months = [OutturnMonth(row[3], row[4], row[6] if row[6] is not None else row[5]) for row in stored]
    ahead = {row[3]: row[4] for row in rows if row[7] and (last is None or row[3] > last)}
    points = outturn_series(
        months, year_start_month=settings["year_start_month"], method=settings["method"], polarity=polarity,
        plan_ahead=ahead, plan_otherwise=stored[-1][5] if stored else None,
    )
    return IndicatorOutturn(indicator_id, settings["method"], settings["year_start_month"], tuple(points))
