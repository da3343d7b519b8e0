"""Mutations for running meetings and reports, as the pages do: record attendance, minute a
decision, mark a scheduled report issued.

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
from server.meetings.access import may_manage_meetings, may_mark_reports
from server.meetings.attendance import AttendanceMark
from server.meetings.deadlines import UK
from server.meetings.minutes import Actor, MeetingChanged, Refused, SaveResult, record_attendance, record_decision
from server.meetings.reports import issued_reports, mark_report_issued, report_key
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


@strawberry.type(description="A scheduled report instance recorded as issued to its audience (once; asking again answers the first record).")
class ReportIssued:
    report: str
    due: dt.date
    issued_at: dt.datetime
    issued_by: str | None


ReportIssueResult = Annotated[ReportIssued | MeetingRefused, strawberry.union("ReportIssueResult")]


def _today() -> dt.date:
    """Today where the meetings happen (the pages' day too)."""
    return dt.datetime.now(UK).date()


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
                                           actor=actor, today=_today())

        return await _meeting_write(info, organisation_code, meeting_id, write)

    @strawberry.mutation(description="Minute a decision of a meeting (appended, never edited); the organisation's ladders run again.")
    async def record_decision(self, info: Info, organisation_code: str, meeting_id: int, version: int, decision: str) -> MeetingResult:
        async def write(session, found: MeetingWithForum, actor: Actor) -> SaveResult:  # type: ignore[no-untyped-def]
            return await record_decision(session, found.meeting, expected_version=version, decision=decision, actor=actor,
                                         now=dt.datetime.now(dt.UTC))

        return await _meeting_write(info, organisation_code, meeting_id, write)

    @strawberry.mutation(description="Mark a report of the organisation's reporting schedule issued for the date it was due "
                                     "(due within the next 60 days at most), as the reports page does; recorded in the audit trail.")
    async def mark_report_issued(self, info: Info, organisation_code: str, report: str, due: dt.date) -> ReportIssueResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            managed = await _managed_organisation(session, info, principal, organisation_code, may=may_mark_reports)
            if isinstance(managed, MeetingRefused):
                return managed
            result = await mark_report_issued(session, managed.id, code=report, due=due, actor=_actor(principal, managed), today=_today())
            if isinstance(result, Refused):
                return MeetingRefused(reason="invalid", message=result.message)
            # The record as stored (its time is the trail's), so this answer and every later read agree.
            stored = (await issued_reports(session, managed.id))[report_key(report, due)]
        return ReportIssued(report=report, due=due, issued_at=stored.issued_at, issued_by=stored.issued_by)


async def _managed_organisation(session, info: Info, principal, organisation_code: str, may=may_manage_meetings):  # type: ignore[no-untyped-def]
    """The organisation if the caller may read it in full and manage its meetings (``may``: or mark its reports), else why not."""
    context = info.context
    organisation = await queries.organisation_by_code(session, organisation_code)
    if organisation is None or organisation.id not in context.access.read_org_ids:
        return MeetingRefused(reason="not_found", message=f"There is no organisation {organisation_code} for you")
    if not await may(session, context.authorizer, principal, organisation):
        what = "mark the reports" if may is may_mark_reports else "manage the meetings"
        return MeetingRefused(reason="not_allowed", message=f"You may not {what} of {organisation_code}")
    return organisation


def _actor(principal, organisation) -> Actor:  # type: ignore[no-untyped-def]
    roles = principal.roles_in(org_domain(organisation.code))
    return Actor(principal.user_id, principal.name, ", ".join(roles) or None)


async def _meeting_write(info: Info, organisation_code: str, meeting_id: int, write) -> MeetingResult:  # type: ignore[no-untyped-def]
    """Authorise as the meeting page does, act in one transaction, answer the meeting as saved or why not."""
    context = info.context
    principal = context.require_principal()
    async with context.session() as session:
        organisation = await _managed_organisation(session, info, principal, organisation_code)
        if isinstance(organisation, MeetingRefused):
            return organisation
        found = await meeting_in(session, organisation.id, meeting_id)
        if found is None:
            return MeetingRefused(reason="not_found", message=f"{organisation_code} has no meeting {meeting_id}")
        result = await write(session, found, _actor(principal, organisation))
        if isinstance(result, MeetingChanged):
            return MeetingRefused(reason="stale", message=result.message)
        if isinstance(result, Refused):
            return MeetingRefused(reason="invalid", message=result.message)
        fresh = await meeting_in(session, organisation.id, meeting_id)
        await session.refresh(fresh.meeting)  # type: ignore[union-attr]
        return MeetingSaved(meeting=meeting_from(fresh))  # type: ignore[arg-type]
