"""Which stored assessment rows a submission can change, so that only those are built and merged.

A row other than a series' latest is a function of its own period: the value (rolled up from that
period's measurements), the target, the period's trajectory, its rating and whether it masks a
failure (its parent unit in the same period). The verdicts and the evidence sit on the latest row.
So a submission that changed periods P of an indicator can change, for that indicator, the rows at
P and the latest rows (the new latest and the one it replaces); every other row stays as it is.

That holds while the other inputs are those the stored rows were derived with. A target that
changed (a reloaded tenant file, a target whose validity started), a trajectory or a new rule set
shows on the stored latest rows; an indicator where one differs is stored in full.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.rows import Derivation, StoredDigests

ChangedPeriods = Mapping[int, Iterable[dt.date]]  # indicator id -> periods whose measurements changed

_STORED_LATEST = text("""
    select indicator_id, unit_id, period, target, trajectory, rule_set, value from assessment
    where org_id = :org_id and indicator_id = any(cast(:indicator_ids as int[])) and is_latest
""")
# Reading a digest decompresses the whole evidence document (about 30 kB), so only those are read
# that can match: a series whose latest period or value moved has new evidence (its points changed).
_DIGESTS = text("""
    select a.indicator_id, a.unit_id, a.period, a.evidence ->> 'digest' from assessment a
    join unnest(cast(:indicator_ids as int[]), cast(:unit_ids as int[])) as wanted(indicator_id, unit_id)
      on a.indicator_id = wanted.indicator_id and coalesce(a.unit_id, 0) = wanted.unit_id
    where a.org_id = :org_id and a.is_latest
""")


@dataclass(frozen=True)
class Scope:
    full: frozenset[int]  # indicators whose every row is stored
    periods: Mapping[int, frozenset[dt.date]] = field(default_factory=dict)  # the others: periods whose rows are stored

    def selects(self, series_indicators: list[int], periods: list[dt.date]) -> np.ndarray | None:
        """Series x periods: True where a row is in scope (None: everywhere)."""
        if not self.periods:
            return None
        column = {period: index for index, period in enumerate(periods)}
        mask = np.zeros((len(series_indicators), len(periods)), dtype=bool)
        for s, indicator_id in enumerate(series_indicators):
            if indicator_id in self.full:
                mask[s] = True
            else:
                mask[s, [column[p] for p in self.periods.get(indicator_id, ()) if p in column]] = True
        return mask

    def as_arrays(self) -> tuple[list[int], list[int], list[dt.date]]:
        """The full indicators, and the (indicator, period) pairs of the others, as SQL array parameters."""
        pairs = sorted((indicator_id, period) for indicator_id, periods in self.periods.items() for period in periods)
        return sorted(self.full), [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def everything(indicator_ids: Iterable[int]) -> Scope:
    return Scope(full=frozenset(indicator_ids))


@dataclass(frozen=True)
class StoredLatest:
    """What the stored latest rows of some indicators say: the inputs they were derived with, and the
    digests of the evidence of those whose latest period and value are what was derived now."""

    rows: list[tuple]  # type: ignore[type-arg]
    digests: StoredDigests


async def read_stored_latest(session: AsyncSession, derivation: Derivation, indicator_ids: list[int]) -> StoredLatest:
    series = derivation.series
    rows = list((await session.exec(_STORED_LATEST.bindparams(org_id=series.org_id, indicator_ids=indicator_ids))).all())
    derived_latest = {
        (key.indicator_id, None if key.depth == 0 else key.unit_id): (series.periods[t], float(series.values[s, t]))
        for s, (key, t) in enumerate(zip(series.keys, derivation.latest.tolist())) if t >= 0
    }
    unchanged = [(row[0], row[1]) for row in rows if derived_latest.get((row[0], row[1])) == (row[2], row[6])]
    digests: dict = {}
    if unchanged:
        found = await session.exec(_DIGESTS.bindparams(
            org_id=series.org_id, indicator_ids=[key[0] for key in unchanged], unit_ids=[key[1] or 0 for key in unchanged]))
        digests = {(indicator_id, unit_id, period): digest for indicator_id, unit_id, period, digest in found.all() if digest}
    return StoredLatest(rows, digests)


def submission_scope(derivation: Derivation, stored: StoredLatest, indicator_ids: list[int], changed: ChangedPeriods) -> Scope:
    """The rows a submission that changed ``changed`` can have changed, by the module's reasoning."""
    series = derivation.series
    position = {(key.indicator_id, None if key.depth == 0 else key.unit_id): s for s, key in enumerate(series.keys)}
    column = {period: index for index, period in enumerate(series.periods)}
    periods: dict[int, set[dt.date]] = {indicator_id: set(changed.get(indicator_id, ())) for indicator_id in indicator_ids}
    full: set[int] = set()
    for indicator_id, unit_id, period, target, trajectory, rule_set, _ in stored.rows:
        periods[indicator_id].add(period)
        s = position.get((indicator_id, unit_id))
        if s is None or period not in column:
            continue  # the series or its period is gone: its stored rows at ``period`` are in scope and will be deleted
        if (rule_set != derivation.rule_set or not _same(target, derivation.target[s])
                or not _same(trajectory, derivation.trajectory[s, column[period]])):
            full.add(indicator_id)
    for s, t in enumerate(derivation.latest.tolist()):
        if t >= 0:
            periods[series.keys[s].indicator_id].add(series.periods[t])
    return Scope(full=frozenset(full), periods={i: frozenset(p) for i, p in periods.items() if i not in full})


def _same(stored: float | None, derived: float) -> bool:
    return (stored is None and math.isnan(derived)) or (stored is not None and not math.isnan(derived) and float(stored) == float(derived))
