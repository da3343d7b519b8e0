"""Data-pack deadlines and whether a pack met them. Pure.

ULHT 5.1: "Data packs will be provided to the Division no later than 1 week before the PRM and will
be circulated to all invitees no later than 2 days before the PRM." A forum declares these as
``pack_deadlines_days`` (``{division: 7, invitees: 2}``): each deadline is the meeting day minus N
days, and a pack issued on that day or earlier is on time. Days are counted on the UK calendar
(Europe/London), which is where the meetings happen, whatever the server's clock zone.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from server.meetings.calendar import long_date

UK = ZoneInfo("Europe/London")
AUDIENCE_WORDS = {"division": "the division", "invitees": "all invitees"}


@dataclass(frozen=True)
class PackDeadline:
    audience: str
    days_before: int
    due: dt.date
    issued_on: dt.date | None
    today: dt.date

    @property
    def audience_words(self) -> str:
        return AUDIENCE_WORDS.get(self.audience, self.audience.replace("_", " "))

    @property
    def days_late(self) -> int:
        """Days after the deadline the pack was issued (or, if not issued, today is); 0 when on time."""
        reference = self.issued_on or self.today
        return max(0, (reference - self.due).days)

    @property
    def status(self) -> str:
        if self.issued_on is not None:
            return "late" if self.days_late else "met"
        return "overdue" if self.days_late else "due"

    def sentence(self) -> str:
        due = f"to {self.audience_words} by {long_date(self.due)} ({self.days_before} {_days(self.days_before)} before the meeting)"
        if self.status == "met":
            return f"Issued {due}: on time."
        if self.status == "late":
            return f"Issued late {due}: {self.days_late} {_days(self.days_late)} after the deadline."
        if self.status == "overdue":
            return f"Not issued yet and overdue {due}: {self.days_late} {_days(self.days_late)} past the deadline."
        remaining = (self.due - self.today).days
        return f"Due {due}: {'today' if remaining == 0 else f'in {remaining} {_days(remaining)}'}."


def pack_deadlines(
    deadlines_days: Mapping[str, int], meeting_day: dt.date, *, issued_at: dt.datetime | None, now: dt.datetime,
) -> list[PackDeadline]:
    """Each declared deadline for this meeting, most demanding (earliest) first."""
    issued_on = issued_at.astimezone(UK).date() if issued_at else None
    today = now.astimezone(UK).date()
    deadlines = [
        PackDeadline(audience, int(days), meeting_day - dt.timedelta(days=int(days)), issued_on, today)
        for audience, days in deadlines_days.items()
    ]
    return sorted(deadlines, key=lambda deadline: deadline.due)


def uk_time(moment: dt.datetime | str) -> str:
    """A moment as people in the meeting read it: '23 November 2026 at 18:38', UK time."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    local = moment.astimezone(UK)
    return f"{long_date(local.date())} at {local:%H:%M}"


def _days(count: int) -> str:
    return "day" if count == 1 else "days"
