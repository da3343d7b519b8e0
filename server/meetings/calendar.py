"""Which days a meeting of a given frequency falls on. Pure: dates in, dates out.

The seeds give frequencies, not days, so the day is a documented convention rather than a rule:

* Meetings sit on a **Tuesday**: weekly every Tuesday, fortnightly every other Tuesday counted
  from a fixed Tuesday (``FORTNIGHT_EPOCH``), so the pattern never depends on the range asked for.
* Monthly and longer cycles sit on the **first Tuesday of the month**, in months counted from
  **April**, the start of the NHS financial year (ULHT 5.1: "a clear and consistent schedule ...
  agreed at the start of each new financial year"): bi-monthly April, June, August, October,
  December, February; quarterly April, July, October, January; six-monthly and twice-yearly April
  and October; annual April.
* ``ad-hoc`` forums are never scheduled automatically.

Because every date is a function of the frequency alone, scheduling the same range twice gives the
same days, and the unique (forum, day, subject) key makes the second run a no-op.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

MEETING_WEEKDAY = 1  # Tuesday (Monday is 0)
FINANCIAL_YEAR_START_MONTH = 4  # April
FORTNIGHT_EPOCH = dt.date(2024, 1, 2)  # a Tuesday; fortnightly meetings fall 14k days from it

MONTHS_BETWEEN = {"monthly": 1, "bi-monthly": 2, "quarterly": 3, "six-monthly": 6, "twice-yearly": 6, "annual": 12}
DAYS_BETWEEN = {"weekly": 7, "fortnightly": 14}
UNSCHEDULED = frozenset({"ad-hoc"})

# "meets ..." in words.
FREQUENCY_WORDS = {"weekly": "weekly", "fortnightly": "fortnightly", "monthly": "monthly", "bi-monthly": "every two months",
                   "quarterly": "quarterly", "six-monthly": "every six months", "twice-yearly": "twice a year",
                   "annual": "once a year", "ad-hoc": "when called"}

# Meetings a year, to compare two cadences for the same forum and subject (the more frequent wins).
MEETINGS_PER_YEAR = {"weekly": 52, "fortnightly": 26, **{name: 12 // months for name, months in MONTHS_BETWEEN.items()}, "ad-hoc": 0}


def meeting_dates(frequency: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every meeting day from start to end inclusive for a forum meeting at this frequency."""
    if frequency in UNSCHEDULED or end < start:
        return []
    if frequency in DAYS_BETWEEN:
        return list(_every_n_days(DAYS_BETWEEN[frequency], start, end))
    if frequency in MONTHS_BETWEEN:
        step = MONTHS_BETWEEN[frequency]
        return [day for day in (_first_weekday(year, month) for year, month in _months(start, end)
                                if (month - FINANCIAL_YEAR_START_MONTH) % step == 0) if start <= day <= end]
    raise ValueError(f"unknown meeting frequency '{frequency}'")


def more_frequent(first: str, second: str) -> bool:
    """Whether ``first`` means more meetings a year than ``second``."""
    return MEETINGS_PER_YEAR[first] > MEETINGS_PER_YEAR[second]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def long_date(day: dt.date) -> str:
    """GOV.UK / NHS.UK style date: 7 April 2026."""
    return f"{day.day} {day:%B %Y}"


def month_label(iso_date: str | None) -> str:
    """'2026-10-01' -> 'Oct 2026', for the period an assessment covers."""
    return dt.date.fromisoformat(iso_date).strftime("%b %Y") if iso_date else "–"


def _every_n_days(interval: int, start: dt.date, end: dt.date) -> Iterator[dt.date]:
    offset = (start - FORTNIGHT_EPOCH).days % interval
    day = start if offset == 0 else start + dt.timedelta(days=interval - offset)
    while day <= end:
        yield day
        day += dt.timedelta(days=interval)


def _months(start: dt.date, end: dt.date) -> Iterator[tuple[int, int]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _first_weekday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(MEETING_WEEKDAY - first.weekday()) % 7)
