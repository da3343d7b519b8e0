"""What happens at a meeting: attendance and decisions, each guarded by the meeting's version.

Two people editing the same meeting from stale pages must not silently overwrite each other: every
form carries the version it was rendered from, and a write whose version is no longer current is
refused (``MeetingChanged``) without changing anything.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.db.models import Meeting, MeetingAttendance
from server.meetings.attendance import AttendanceMark

STALE_MESSAGE = ("Someone else changed this meeting after you opened the page, so your change has not been saved. "
                 "The page now shows the latest version: check it and make your change again.")


@dataclass(frozen=True)
class Saved:
    version: int


@dataclass(frozen=True)
class MeetingChanged:
    message: str = STALE_MESSAGE


@dataclass(frozen=True)
class Refused:
    message: str


SaveResult = Saved | MeetingChanged | Refused


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    role: str | None = None


async def record_attendance(
    session: AsyncSession, meeting: Meeting, *, expected_version: int, marks: Sequence[AttendanceMark], members: Sequence[str],
    actor: Actor, today: dt.date,
) -> SaveResult:
    """Record who attended (member or deputy) and mark the meeting held."""
    if meeting.status == "cancelled":
        return Refused("This meeting was cancelled, so attendance cannot be recorded.")
    if meeting.scheduled_for > today:
        return Refused("Attendance can be recorded on or after the day of the meeting.")
    unknown = [mark.member for mark in marks if mark.member not in members]
    if unknown:
        return Refused(f"{', '.join(unknown)} is not a member of this forum.")
    version = await _bump(session, meeting.id, expected_version, status="held")
    if version is None:
        return MeetingChanged()
    for mark in marks:
        values = {"meeting_id": meeting.id, "member": mark.member, "org_id": meeting.org_id, "present": mark.present, "deputy": mark.deputy}
        await session.exec(insert(MeetingAttendance).values(**values).on_conflict_do_update(
            index_elements=["org_id", "meeting_id", "member"], set_={"present": mark.present, "deputy": mark.deputy},
        ))
    await record_event(
        session, action="meeting.attendance_recorded", object_type="meeting", object_id=str(meeting.id), org_id=meeting.org_id,
        actor_user_id=actor.user_id, actor_role=actor.role,
        after={"attendance": {mark.member: mark.status for mark in marks}, "deputies": {m.member: m.deputy for m in marks if m.deputy}},
    )
    return Saved(version)


async def record_decision(
    session: AsyncSession, meeting: Meeting, *, expected_version: int, decision: str, actor: Actor, now: dt.datetime,
    rerun_ladders: bool = True,
) -> SaveResult:
    """Append a decision with who recorded it and when; decisions are never edited or removed.

    A decision may change what the ladders know (issue 11), so the organisation's ladders re-run in
    the same transaction; a caller that runs them itself afterwards (a minuted judgement) says not to.
    """
    words = decision.strip()
    if not words:
        return Refused("Enter the decision")
    if meeting.status == "cancelled":
        return Refused("This meeting was cancelled, so no decision can be recorded.")
    entry = {"text": words, "recorded_by": actor.name, "recorded_by_user_id": actor.user_id, "recorded_at": now.isoformat()}
    version = await _bump(session, meeting.id, expected_version, decision=entry)
    if version is None:
        return MeetingChanged()
    await record_event(
        session, action="meeting.decision_recorded", object_type="meeting", object_id=str(meeting.id), org_id=meeting.org_id,
        actor_user_id=actor.user_id, actor_role=actor.role, after=entry,
    )
    if rerun_ladders:
        from server.escalation_store.triggers import rerun_ladders as rerun

        await rerun(session, [meeting.org_id])
    return Saved(version)


async def _bump(session: AsyncSession, meeting_id: int | None, expected_version: int, *, status: str | None = None,
                decision: Mapping[str, object] | None = None) -> int | None:
    """Move the meeting to the next version if it is still at ``expected_version``; None if it is not."""
    result = await session.exec(text(
        """
        update meeting set version = version + 1, status = coalesce(:status, status),
               decisions = case when cast(:decision as jsonb) is null then decisions else decisions || jsonb_build_array(cast(:decision as jsonb)) end
        where id = :id and version = :version
        returning version
        """
    ), params={"id": meeting_id, "version": expected_version, "status": status,
               "decision": None if decision is None else json.dumps(decision)})
    return result.scalar_one_or_none()
