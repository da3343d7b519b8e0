"""Meeting days: a documented convention, a function of the frequency alone (server/meetings/calendar.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from server.meetings.calendar import add_months, meeting_dates, more_frequent

YEAR = (dt.date(2027, 4, 1), dt.date(2028, 3, 31))  # financial year 2027/28


@pytest.mark.parametrize(("frequency", "count", "first"), [
    ("weekly", 52, dt.date(2027, 4, 6)),
    ("fortnightly", 26, dt.date(2027, 4, 6)),
    ("monthly", 12, dt.date(2027, 4, 6)),
    ("bi-monthly", 6, dt.date(2027, 4, 6)),
    ("quarterly", 4, dt.date(2027, 4, 6)),
    ("six-monthly", 2, dt.date(2027, 4, 6)),
    ("twice-yearly", 2, dt.date(2027, 4, 6)),
    ("annual", 1, dt.date(2027, 4, 6)),
    ("ad-hoc", 0, None),
])
def test_each_frequency_gives_its_number_of_tuesdays_in_a_financial_year(frequency, count, first):
    dates = meeting_dates(frequency, *YEAR)
    assert len(dates) == count
    assert all(day.weekday() == 1 for day in dates)  # Tuesday
    assert (dates[0] if dates else None) == first


def test_longer_cycles_sit_on_the_first_tuesday_of_months_counted_from_april():
    assert [d.month for d in meeting_dates("bi-monthly", *YEAR)] == [4, 6, 8, 10, 12, 2]
    assert [d.month for d in meeting_dates("quarterly", *YEAR)] == [4, 7, 10, 1]
    assert [d.month for d in meeting_dates("six-monthly", *YEAR)] == [4, 10]
    assert all(d.day <= 7 for d in meeting_dates("monthly", *YEAR))


def test_the_days_do_not_depend_on_the_range_asked_for():
    whole = meeting_dates("fortnightly", *YEAR)
    later = meeting_dates("fortnightly", dt.date(2027, 9, 15), YEAR[1])
    assert later == [day for day in whole if day >= dt.date(2027, 9, 15)]


def test_more_frequent_compares_meetings_a_year():
    assert more_frequent("weekly", "monthly")
    assert not more_frequent("six-monthly", "quarterly")
    assert not more_frequent("twice-yearly", "six-monthly")


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 23), 3) == dt.date(2028, 2, 23)
    assert add_months(dt.date(2027, 3, 15), -12) == dt.date(2026, 3, 15)
