"""Mutations for running a meeting, as the meeting page does: record attendance, minute a decision.

Each calls the page's own service function (``server.meetings.minutes``) in one transaction, with
the page's rights: the organisation readable in full and ``meeting manage`` there (or, for a
system's own organisation, in the system). Both carry the meeting's version, so a tool working from
a stale copy is refused (``stale``) without changing anything, exactly as two people are.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from schema.governance import Meeting, meeting_from
from server.auth.authz import org_domain
from server.meetings.access import may_manage_meetings
from server.meetings.attendance import AttendanceMark
from server.meetings.minutes import Actor, MeetingChanged, Refused, SaveResult, record_attendance, record_decision
from server.meetings.queries import MeetingWithForum, meeting_in
from server.organisations import queries


@strawberry.enum(description="How a forum member was at a meeting.")
class Attendance(Enum):
    PRESENT = "present"
    DEPUTY = "deputy"
    ABSENT = "absent"


@strawberry.input(description="One forum member's attendance; a deputy's name when they sent one.")
class AttendanceInput:
    member: str
    attendance: Attendance
    deputy: str | None = None


@strawberry.type
class MeetingSaved:
    meeting: Meeting


@strawberry.type
class MeetingRefused:
    reason: str = strawberry.field(description="not_found, not_allowed, stale (changed since the version you sent) or invalid")
    message: str


MeetingResult = Annotated[MeetingSaved | MeetingRefused, strawberry.union("MeetingResult")]


@strawberry.type
class MeetingMutation:
    @strawberry.mutation(description="Record who attended a meeting (members or their deputies) and mark it held; "
                                     "members left out are recorded absent.")
    async def record_attendance(
        self, info: Info, organisation_code: str, meeting_id: int, version: int, attendance: list[AttendanceInput],
    ) -> MeetingResult:
        marks, problems = [], []
        for entry in attendance:
            deputy = (entry.deputy or "").strip()
            if entry.attendance is Attendance.DEPUTY and not deputy:
                problems.append(f"Enter the name of the deputy who attended for {entry.member}")
            marks.append((entry.member, entry.attendance, deputy))
        if problems:
            return MeetingRefused(reason="invalid", message="; ".join(problems))

        async def write(session, found: MeetingWithForum, actor: Actor) -> SaveResult:  # type: ignore[no-untyped-def]
            given = {member: AttendanceMark(member, present=kind is Attendance.PRESENT, deputy=deputy if kind is Attendance.DEPUTY else None)
                     for member, kind, deputy in marks}
            every = [*given.values(), *(AttendanceMark(member) for member in found.forum.members if member not in given)]
            return await record_attendance(session, found.meeting, expected_version=version, marks=every, members=found.forum.members,
                                           actor=actor, today=dt.date.today())

        return await _meeting_write(info, organisation_code, meeting_id, write)

    @strawberry.mutation(description="Minute a decision of a meeting (appended, never edited); the organisation's ladders run again.")
    async def record_decision(self, info: Info, organisation_code: str, meeting_id: int, version: int, decision: str) -> MeetingResult:
        async def write(session, found: MeetingWithForum, actor: Actor) -> SaveResult:  # type: ignore[no-untyped-def]
            return await record_decision(session, found.meeting, expected_version=version, decision=decision, actor=actor,
                                         now=dt.datetime.now(dt.UTC))

        return await _meeting_write(info, organisation_code, meeting_id, write)


async def _meeting_write(info: Info, organisation_code: str, meeting_id: int, write) -> MeetingResult:  # type: ignore[no-untyped-def]
    """Authorise as the meeting page does, act in one transaction, answer the meeting as saved or why not."""
    context = info.context
    principal = context.require_principal()
    async with context.session() as session:
        organisation = await queries.organisation_by_code(session, organisation_code)
        if organisation is None or organisation.id not in context.access.read_org_ids:
            return MeetingRefused(reason="not_found", message=f"There is no organisation {organisation_code} for you")
        found = await meeting_in(session, organisation.id, meeting_id)
        if found is None:
            return MeetingRefused(reason="not_found", message=f"{organisation_code} has no meeting {meeting_id}")
        if not await may_manage_meetings(session, context.authorizer, principal, organisation):
            return MeetingRefused(reason="not_allowed", message=f"You may not manage the meetings of {organisation_code}")
        roles = principal.roles_in(org_domain(organisation.code))
        result = await write(session, found, Actor(principal.user_id, principal.name, ", ".join(roles) or None))
        if isinstance(result, MeetingChanged):
            return MeetingRefused(reason="stale", message=result.message)
        if isinstance(result, Refused):
            return MeetingRefused(reason="invalid", message=result.message)
        fresh = await meeting_in(session, organisation.id, meeting_id)
        await session.refresh(fresh.meeting)  # type: ignore[union-attr]
        return MeetingSaved(meeting=meeting_from(fresh))  # type: ignore[arg-type]
