"""Data-pack deadlines (ULHT 5.1: the division 1 week before, all invitees 2 days before) and late packs."""
from __future__ import annotations

import datetime as dt

import pytest

from server.meetings.deadlines import pack_deadlines

ULHT = {"division": 7, "invitees": 2}
MEETING = dt.date(2027, 5, 11)  # a Tuesday


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.mark.parametrize(("issued", "division", "invitees"), [
    (dt.date(2027, 5, 1), ("met", 0), ("met", 0)),
    (dt.date(2027, 5, 4), ("met", 0), ("met", 0)),    # exactly 7 days before is on time
    (dt.date(2027, 5, 5), ("late", 1), ("met", 0)),
    (dt.date(2027, 5, 9), ("late", 5), ("met", 0)),   # 2 days before: on time for invitees
    (dt.date(2027, 5, 10), ("late", 6), ("late", 1)),
    (dt.date(2027, 5, 11), ("late", 7), ("late", 2)),
])
def test_a_pack_issued_after_a_deadline_is_flagged_late_by_days(issued, division, invitees):
    deadlines = {d.audience: d for d in pack_deadlines(ULHT, MEETING, issued_at=at(issued), now=at(dt.date(2027, 6, 1)))}
    assert (deadlines["division"].status, deadlines["division"].days_late) == division
    assert (deadlines["invitees"].status, deadlines["invitees"].days_late) == invitees
    assert deadlines["division"].due == dt.date(2027, 5, 4) and deadlines["invitees"].due == dt.date(2027, 5, 9)


def test_deadlines_are_counted_on_the_uk_calendar():
    # 23:30 UTC on 4 May is 00:30 on 5 May in London (BST): a day late for the division.
    issued = dt.datetime(2027, 5, 4, 23, 30, tzinfo=dt.UTC)
    [division, _] = pack_deadlines(ULHT, MEETING, issued_at=issued, now=issued)
    assert (division.status, division.days_late) == ("late", 1)


def test_before_issue_a_deadline_is_due_or_overdue():
    deadlines = pack_deadlines(ULHT, MEETING, issued_at=None, now=at(dt.date(2027, 5, 6)))
    assert [(d.audience, d.status, d.days_late) for d in deadlines] == [("division", "overdue", 2), ("invitees", "due", 0)]
    assert deadlines[0].sentence() == ("Not issued yet and overdue to the division by 4 May 2027 (7 days before the meeting): "
                                       "2 days past the deadline.")
    assert deadlines[1].sentence() == "Due to all invitees by 9 May 2027 (2 days before the meeting): in 3 days."


def test_a_forum_without_deadlines_has_none():
    assert pack_deadlines({}, MEETING, issued_at=None, now=at(MEETING)) == []
