"""Where each series' SPC segments start: the tenant file's rebase dates (every series) and the
live recalculations people recorded for one series (recalculations.py)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.series import OrganisationSeries

SeriesPeriods = dict[tuple[int, int], list[dt.date]]


async def live_recalculation_periods(session: AsyncSession, org_id: int, indicator_ids: Sequence[int]) -> SeriesPeriods:
    """Per series (indicator, unit): the periods its live recalculations start a new segment at."""
    rows = (await session.exec(text(
        "select indicator_id, unit_id, period from spc_recalculation"
        " where org_id = :org and indicator_id = any(:ids) and withdrawn_at is null order by period"
    ), params={"org": org_id, "ids": list(indicator_ids)})).all()
    periods: SeriesPeriods = defaultdict(list)
    for indicator_id, unit_id, period in rows:
        periods[(indicator_id, unit_id)].append(period)
    return dict(periods)


def rebase_mask(series: OrganisationSeries, rebase_dates: Sequence[dt.date], recalculated: SeriesPeriods) -> np.ndarray | None:
    """True where a new segment starts: at the first period on or after each date (never the first period)."""
    if not rebase_dates and not recalculated:
        return None
    mask = np.zeros(series.values.shape, dtype=bool)
    for rebase_date in rebase_dates:
        column = _first_column_from(series.periods, rebase_date)
        if column:
            mask[:, column] = True
    for s, key in enumerate(series.keys):
        for period in recalculated.get((key.indicator_id, key.unit_id), ()):
            column = _first_column_from(series.periods, period)
            if column:
                mask[s, column] = True
    return mask


def _first_column_from(periods: Sequence[dt.date], start: dt.date) -> int | None:
    return next((i for i, period in enumerate(periods) if period >= start), None)
