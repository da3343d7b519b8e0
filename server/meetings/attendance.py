"""Quorum and the attendance rule, computed from attendance marks. Pure: no database.

THGPCG OPG terms of reference (seed 001, appendix 1): "For the meeting to be quorate, the presence of
at least six members or their nominated deputy is required" (3), and "a member or their nominated
deputy will attend for a minimum of 75% of meetings in a year, which will be monitored by an
attendance matrix" (4). Each forum's own ``quorum`` and ``attendance_threshold`` come from its
tenant file; a forum without them gets no verdict rather than a guessed one.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ATTENDANCE_WINDOW_DAYS = 365  # "meetings in a year": the year up to and including the meeting


@dataclass(frozen=True)
class AttendanceMark:
    member: str
    present: bool = False
    deputy: str | None = None

    @property
    def attended(self) -> bool:
        """The member, or their nominated deputy, was there (both count, THGPCG appendix 1, 3 and 4)."""
        return self.present or bool(self.deputy)

    @property
    def status(self) -> str:
        return "present" if self.present else "deputy" if self.deputy else "absent"


@dataclass(frozen=True)
class QuorumStatus:
    required: int | None
    counted: int
    members: int

    @property
    def quorate(self) -> bool | None:
        return None if self.required is None else self.counted >= self.required

    def sentence(self) -> str:
        present = f"{self.counted} of {self.members} {'member' if self.members == 1 else 'members'} present in person or by deputy"
        if self.required is None:
            return f"{present}. This forum's terms of reference set no quorum."
        if self.quorate:
            return f"Quorate: {present}; at least {self.required} are needed."
        shortfall = self.required - self.counted
        return f"Not quorate: {present}; at least {self.required} are needed, {shortfall} more."


def quorum_status(members: Sequence[str], marks: Mapping[str, AttendanceMark], quorum: int | None) -> QuorumStatus:
    """Count members present or represented by a deputy against the forum's quorum."""
    counted = sum(1 for member in members if member in marks and marks[member].attended)
    return QuorumStatus(required=quorum, counted=counted, members=len(members))


@dataclass(frozen=True)
class MemberAttendance:
    member: str
    attended: int
    held: int
    threshold: float | None

    @property
    def rate(self) -> float | None:
        return None if self.held == 0 else self.attended / self.held

    @property
    def below_threshold(self) -> bool:
        return self.threshold is not None and self.rate is not None and self.rate < self.threshold

    def sentence(self) -> str:
        if self.held == 0:
            return "No meetings held in the last year."
        attended = f"attended {self.attended} of {self.held} meetings held in the last year ({self.rate:.0%})"
        if self.threshold is None:
            return attended[0].upper() + attended[1:] + "."
        verdict = "below" if self.below_threshold else "meets"
        return f"{attended[0].upper() + attended[1:]}: {verdict} the {self.threshold:.0%} attendance rule."


def attendance_record(
    members: Sequence[str], held_meetings: Sequence[Mapping[str, AttendanceMark]], threshold: float | None,
) -> list[MemberAttendance]:
    """Each member's attendance (in person or by deputy) over the held meetings given.

    A held meeting with no mark for a member counts as an absence: the attendance matrix has a cell
    for every member at every meeting.
    """
    return [
        MemberAttendance(
            member=member, attended=sum(1 for marks in held_meetings if member in marks and marks[member].attended),
            held=len(held_meetings), threshold=threshold,
        )
        for member in members
    ]


def attendance_window(meeting_day: dt.date) -> tuple[dt.date, dt.date]:
    """The year of meetings the 75% rule looks at for a meeting on this day."""
    return meeting_day - dt.timedelta(days=ATTENDANCE_WINDOW_DAYS - 1), meeting_day
