"""Reporting periods: counting a subject's periods in its own frequency (weekly, monthly, quarterly).

A monthly series' periods are months, a quarterly series' quarters. Facts that count periods
(``periods_under_target``, ``periods_sustained``, ``periods_in_level``) count in the subject's own
periods; facts that count months (``months_under_target``, ``months_sustained``) count the calendar
months those periods span, so "two months under target" means the same for every frequency and a
quarter under target is three months.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Frequency = Literal["weekly", "monthly", "quarterly"]
MONTHS_IN = {"monthly": 1, "quarterly": 3}
# The most frequent first: a group of indicators reports as often as its most frequent member.
BY_FREQUENCY: tuple[Frequency, ...] = ("weekly", "monthly", "quarterly")


@dataclass(frozen=True)
class ReportingPeriod:
    """The latest period a subject has data for, and how often its data come."""

    latest: dt.date
    frequency: Frequency = "monthly"

    def periods_since(self, earlier: dt.date) -> int:
        """Whole periods from ``earlier`` (a period start) to the latest period; never negative."""
        return periods_between(earlier, self.latest, self.frequency)


def periods_between(earlier: dt.date, later: dt.date, frequency: Frequency) -> int:
    if frequency == "weekly":
        return max(0, (later - earlier).days // 7)
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return max(0, months // MONTHS_IN[frequency])


def next_period(period: dt.date, frequency: Frequency) -> dt.date:
    if frequency == "weekly":
        return period + dt.timedelta(days=7)
    month = period.month - 1 + MONTHS_IN[frequency]
    return period.replace(year=period.year + month // 12, month=month % 12 + 1)


def months_spanned(first: dt.date, last: dt.date, frequency: Frequency) -> int:
    """Calendar months from the start of ``first`` to the end of ``last`` (weekly: whole months only)."""
    end = next_period(last, frequency)
    months = (end.year - first.year) * 12 + end.month - first.month
    return max(0, months - (1 if end.day < first.day else 0))


def most_frequent(frequencies: set[str]) -> Frequency:
    """The frequency a group of indicators reports at: its most frequent member's (monthly if none)."""
    return next((frequency for frequency in BY_FREQUENCY if frequency in frequencies), "monthly")


def run_up_to_latest(points: Sequence[tuple[dt.date, bool]], frequency: Frequency) -> tuple[int, dt.date | None]:
    """(length, first period) of the run of periods, newest first, for which the flag holds.

    ``points`` are (period, flag), newest first. The run stops at the first period whose flag is
    false, or at a gap (a period with no data breaks it, as the assessment engine's count does).
    """
    run, first = 0, None
    for index, (period, holds) in enumerate(points):
        if not holds or (index and next_period(period, frequency) != points[index - 1][0]):
            break
        run, first = run + 1, period
    return run, first
