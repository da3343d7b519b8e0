"""Reads about meetings, shared by the pages and the pack. Row-level security has already narrowed them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Forum, Meeting, MeetingAttendance
from server.meetings.attendance import AttendanceMark, attendance_window


@dataclass(frozen=True)
class MeetingWithForum:
    meeting: Meeting
    forum: Forum

    @property
    def subject_name(self) -> str | None:
        name = self.meeting.cadence_reason.get("subject_name")
        return str(name) if name else None

    @property
    def title(self) -> str:
        return f"{self.forum.name} – {self.subject_name}" if self.subject_name else self.forum.name


async def forums_of(session: AsyncSession, org_id: int) -> list[Forum]:
    tiers = "array['oversight', 'assurance', 'management_escalation', 'management_delivery']"
    statement = select(Forum).where(Forum.org_id == org_id).order_by(text(f"array_position({tiers}, forum.tier)"), Forum.name)
    return list((await session.exec(statement)).all())


async def meeting_in(session: AsyncSession, org_id: int, meeting_id: int) -> MeetingWithForum | None:
    """The meeting if it belongs to this organisation (and row-level security lets us see it)."""
    row = (await session.exec(
        select(Meeting, Forum).join(Forum, Forum.id == Meeting.forum_id).where(Meeting.id == meeting_id, Meeting.org_id == org_id)
    )).first()
    return None if row is None else MeetingWithForum(*row)


async def meetings_between(session: AsyncSession, org_id: int, start: dt.date, end: dt.date, *, newest_first: bool = False) -> list[MeetingWithForum]:
    order = (Meeting.scheduled_for.desc(), Forum.name) if newest_first else (Meeting.scheduled_for, Forum.name)
    rows = (await session.exec(
        select(Meeting, Forum).join(Forum, Forum.id == Meeting.forum_id)
        .where(Meeting.org_id == org_id, Meeting.scheduled_for >= start, Meeting.scheduled_for <= end)
        .order_by(*order, Meeting.subject_key)
    )).all()
    return [MeetingWithForum(meeting, forum) for meeting, forum in rows]


async def issued_packs(session: AsyncSession, org_id: int, *, offset: int = 0, limit: int = 50) -> list[MeetingWithForum]:
    """Meetings whose data pack was issued (frozen), the latest issue first, ``limit`` from ``offset``."""
    rows = (await session.exec(
        select(Meeting, Forum).join(Forum, Forum.id == Meeting.forum_id)
        .where(Meeting.org_id == org_id, Meeting.pack_issued_at.is_not(None))  # type: ignore[union-attr]
        .order_by(Meeting.pack_issued_at.desc(), Meeting.id.desc()).offset(offset).limit(limit)  # type: ignore[union-attr]
    )).all()
    return [MeetingWithForum(meeting, forum) for meeting, forum in rows]


async def attendance_of(session: AsyncSession, meeting_id: int) -> dict[str, AttendanceMark]:
    rows = (await session.exec(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))).all()
    return {row.member: AttendanceMark(row.member, row.present, row.deputy) for row in rows}


async def held_meetings_attendance(session: AsyncSession, meeting: Meeting) -> list[dict[str, AttendanceMark]]:
    """Marks for each held meeting of the same forum and subject in the year up to this meeting.

    The series is per subject: the Medicine PRM's Divisional Managing Director is not Surgery's.
    """
    since, until = attendance_window(meeting.scheduled_for)
    rows = (await session.exec(text(
        """
        select m.id, a.member, a.present, a.deputy from meeting m
        left join meeting_attendance a on a.meeting_id = m.id
        where m.forum_id = :forum and m.subject_key is not distinct from :subject and m.status = 'held'
          and m.scheduled_for between :since and :until
        order by m.scheduled_for, m.id
        """
    ), params={"forum": meeting.forum_id, "subject": meeting.subject_key, "since": since, "until": until})).all()
    by_meeting: dict[int, dict[str, AttendanceMark]] = {}
    for meeting_id, member, present, deputy in rows:
        marks = by_meeting.setdefault(meeting_id, {})
        if member is not None:
            marks[member] = AttendanceMark(member, present, deputy)
    return list(by_meeting.values())


async def previous_meeting(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The last sitting of the same forum about the same subject before this one (not cancelled)."""
    return (await session.exec(
        select(Meeting).where(
            Meeting.forum_id == meeting.forum_id, Meeting.subject_key.is_not_distinct_from(meeting.subject_key),
            Meeting.scheduled_for < meeting.scheduled_for, Meeting.status != "cancelled",
        ).order_by(Meeting.scheduled_for.desc()).limit(1)
    )).first()
