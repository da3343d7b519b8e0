"""Evidence speaks in period indexes (columns of the organisation's series); people read dates.

``PeriodIndex`` maps each index to its period: exactly for observed points (paired, in order, with
the stored assessment rows), and by stepping the indicator's frequency from the nearest known
point for gaps and projections (a forecast's next three periods).
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping

from server.reporting.words import period_label


def add_periods(period: dt.date, steps: int, frequency: str) -> dt.date:
    if frequency == "weekly":
        return period + dt.timedelta(weeks=steps)
    months = steps * (3 if frequency == "quarterly" else 1)
    month_index = period.year * 12 + period.month - 1 + months
    return dt.date(month_index // 12, month_index % 12 + 1, 1)


class PeriodIndex:
    def __init__(self, known: Mapping[int, dt.date], frequency: str = "monthly"):
        self.known = dict(known)
        self.frequency = frequency
        self._indexes = sorted(self.known)

    def period(self, index: int) -> dt.date | None:
        if index in self.known:
            return self.known[index]
        if not self._indexes:
            return None
        position = bisect.bisect_right(self._indexes, index)
        nearest = self._indexes[position - 1] if position > 0 else self._indexes[0]
        return add_periods(self.known[nearest], index - nearest, self.frequency)

    def label(self, index: int | None) -> str:
        if index is None:
            return "no period"
        return period_label(self.period(index), self.frequency)

    def ranges(self, indexes: list[int]) -> str:
        """'Jan 2024 to Jun 2024, Sep 2024' for [0..5, 8]: consecutive indexes become one range."""
        if not indexes:
            return ""
        runs: list[tuple[int, int]] = []
        for index in sorted(indexes):
            if runs and index == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], index)
            else:
                runs.append((index, index))
        return ", ".join(self.label(a) if a == b else f"{self.label(a)} to {self.label(b)}" for a, b in runs)
