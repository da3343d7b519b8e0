"""Meetings, the reporting schedule and the audit trail of an organisation, for tools.

The same service functions as the meetings, reports and audit pages, with the same rights: any
reader of the organisation sees its meetings and reporting schedule (row-level security narrows
them as for the pages); the audit trail needs ``audit read`` in the organisation, as its page does.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from schema.context import BadInput, Info, NotAuthorised
from schema.pagination import Connection, connection, page_bounds
from server.admin.authority import AUDIT, acting_as
from server.audit.history import audit_page
from server.auth.authz import org_domain
from server.meetings.queries import MeetingWithForum, issued_packs, meetings_between
from server.meetings.reports import reporting_schedule

MAX_MEETING_SPAN = dt.timedelta(days=3 * 366)


@strawberry.type(description="One sitting of a forum, with its decisions and whether its pack was issued.")
class Meeting:
    id: int
    forum_code: str
    forum_name: str
    forum_tier: str
    chair: str
    scheduled_for: dt.date
    status: str
    subject_key: str | None
    pack_issued_at: dt.datetime | None
    decisions: JSON
    version: int


@strawberry.type(description="A meeting's data pack as issued: frozen when issued, never rebuilt (ULHT 5.1).")
class DataPack:
    meeting_id: int
    forum_code: str
    title: str = strawberry.field(description="The forum, and the meeting's subject where it has one (a division, a contract).")
    scheduled_for: dt.date
    issued_at: dt.datetime
    indicator_count: int
    concerns: list[str] = strawberry.field(description="Codes of the indicators the pack raises: red or amber, concerning variation, failure forecast.",
                                           metadata={"max_items": 300})
    content: JSON = strawberry.field(description="The pack as issued: scope, indicators, concerns, escalations, actions and agenda.")


def data_pack_from(found: MeetingWithForum) -> DataPack:
    pack = found.meeting.pack or {}
    return DataPack(meeting_id=found.meeting.id, forum_code=found.forum.code, title=found.title,  # type: ignore[arg-type]
                    scheduled_for=found.meeting.scheduled_for, issued_at=found.meeting.pack_issued_at,  # type: ignore[arg-type]
                    indicator_count=len(pack.get("indicators", [])), concerns=list(pack.get("concerns", [])), content=pack)


async def organisation_data_packs(info: Info, org_id: int, first: int, after: str | None) -> Connection[DataPack]:
    offset, limit = page_bounds(first, after)
    found = await info.context.read(lambda session: issued_packs(session, org_id, offset=offset, limit=limit + 1))
    return connection([data_pack_from(m) for m in found], first=first, after=after, offset=offset)


async def organisation_latest_data_pack(info: Info, org_id: int) -> DataPack | None:
    found = await info.context.read(lambda session: issued_packs(session, org_id, limit=1))
    return data_pack_from(found[0]) if found else None


@strawberry.type(description="A report the organisation's framework schedules, and one due date of it.")
class ReportDue:
    code: str
    name: str
    frequency: str
    audience: str
    sro: str
    due: dt.date
    issued_at: dt.datetime | None
    issued_by: str | None
    overdue: bool


@strawberry.type
class ReportingSchedule:
    today: dt.date
    overdue: list[ReportDue] = strawberry.field(metadata={"max_items": 100})
    upcoming: list[ReportDue] = strawberry.field(metadata={"max_items": 100})
    recently_issued: list[ReportDue] = strawberry.field(metadata={"max_items": 100})


@strawberry.type(description="One entry of the append-only audit trail.")
class AuditEntry:
    id: int
    at: dt.datetime
    actor_name: str | None
    actor_role: str | None
    action: str
    object_type: str
    object_id: str | None
    before: JSON | None
    after: JSON | None


@strawberry.type
class AuditTrailPage:
    page: int
    pages: int
    total: int
    entries: list[AuditEntry] = strawberry.field(metadata={"max_items": 100})


async def organisation_meetings(info: Info, org_id: int, start: dt.date | None, end: dt.date | None) -> list[Meeting]:
    today = dt.date.today()
    start, end = start or today - dt.timedelta(days=92), end or today + dt.timedelta(days=183)
    if end < start or end - start > MAX_MEETING_SPAN:
        raise BadInput("Ask for meetings from a date to a later one, at most three years apart")
    found = await info.context.read(lambda session: meetings_between(session, org_id, start, end))
    return [meeting_from(m) for m in found]


def meeting_from(found: MeetingWithForum) -> Meeting:
    meeting, forum = found.meeting, found.forum
    return Meeting(id=meeting.id, forum_code=forum.code, forum_name=forum.name, forum_tier=forum.tier, chair=forum.chair,  # type: ignore[arg-type]
                   scheduled_for=meeting.scheduled_for, status=meeting.status, subject_key=meeting.subject_key,
                   pack_issued_at=meeting.pack_issued_at, decisions=meeting.decisions, version=meeting.version)


async def organisation_reporting_schedule(info: Info, org_id: int) -> ReportingSchedule:
    schedule = await info.context.read(lambda session: reporting_schedule(session, org_id, today=dt.date.today()))

    def due(item: Any) -> ReportDue:
        report = item.report
        return ReportDue(code=report.code, name=report.name, frequency=str(report.frequency), audience=report.audience, sro=report.sro,
                         due=item.due, issued_at=item.issued.issued_at if item.issued else None,
                         issued_by=item.issued.issued_by if item.issued else None, overdue=item.issued is None and item.due < schedule.today)

    return ReportingSchedule(today=schedule.today, overdue=[due(i) for i in schedule.overdue], upcoming=[due(i) for i in schedule.upcoming],
                             recently_issued=[due(i) for i in schedule.recently_issued])


async def organisation_audit_trail(info: Info, org_id: int, org_code: str, page: int) -> AuditTrailPage:
    context = info.context
    principal = context.require_principal()

    async def work(session):  # type: ignore[no-untyped-def]
        reader = await acting_as(session, context.authorizer, principal, org_domain(org_code), AUDIT, "read")
        if reader is None:
            raise NotAuthorised(f"You may not read the audit trail of {org_code}")
        return await audit_page(session, org_id=org_id, page=max(1, min(page, 1_000_000)))

    found = await context.read(work)
    return AuditTrailPage(page=found.page, pages=found.pages, total=found.total, entries=[
        AuditEntry(id=e.id, at=e.at, actor_name=e.actor_name, actor_role=e.actor_role, action=e.action, object_type=e.object_type,
                   object_id=e.object_id, before=e.before, after=e.after)
        for e in found.entries
    ])


FromDate = Annotated[dt.date | None, strawberry.argument(name="from")]
