"""A data pack or report deadline near: tell the people who issue them (issue 15, daily tick).

Those who issue packs and mark reports issued hold ``meeting manage`` for the organisation (the
policy says which roles). A pack's deadlines are its forum's ``pack_deadlines_days`` before the
meeting (server/meetings/deadlines.py); a report's due days come from the tenant's reporting
schedule (server/meetings/reports.py). Each deadline is told once, when it is ``within_days`` away
or nearer and not yet met.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Forum, Meeting, Organisation
from server.meetings.calendar import long_date
from server.meetings.deadlines import UK, pack_deadlines
from server.meetings.reports import issued_reports, schedule_of
from server.notifications.recipients import people_holding
from server.notifications.store import Notice, notify
from server.tenants.spec import TenantFile


def _in(days: int) -> str:
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


async def notify_deadlines(session: AsyncSession, org_id: int, framework: TenantFile, *, issuer_roles: list[str],
                           now: dt.datetime, within_days: int) -> int:
    """Tell the organisation's issuers of every unmet pack or report deadline within ``within_days``; returns notifications added."""
    recipients = await people_holding(session, org_id, issuer_roles)
    if not recipients:
        return 0
    today = now.astimezone(UK).date()
    horizon = today + dt.timedelta(days=within_days)
    code = (await session.exec(select(Organisation.code).where(Organisation.id == org_id))).scalar_one()
    added = 0
    issued = await issued_reports(session, org_id)
    for due in schedule_of(framework.reporting_schedule, start=today, end=horizon, today=today, issued=issued):
        if due.status != "due":
            continue
        added += await notify(session, Notice(
            org_id=org_id, kind="report_deadline", subject=f"{due.report.name} is due {_in(due.days_until_due)}",
            body=f"{due.report.name} is due to {due.report.audience} on {long_date(due.due)} and has not been marked issued.",
            link=f"/organisations/{code}/reports", dedupe_key=f"report:{code}:{due.key}",
        ), recipients)
    longest = max((max(f.pack_deadlines_days.values(), default=0) for f in framework.forums), default=0)
    meetings = (await session.exec(
        select(Meeting, Forum).join(Forum, Forum.id == Meeting.forum_id).where(
            Meeting.org_id == org_id, Meeting.status == "scheduled", Meeting.pack_issued_at.is_(None),
            Meeting.scheduled_for >= today, Meeting.scheduled_for <= horizon + dt.timedelta(days=longest))
    )).all()
    for meeting, forum in meetings:
        for deadline in pack_deadlines(forum.pack_deadlines_days, meeting.scheduled_for, issued_at=None, now=now):
            if deadline.status != "due" or deadline.due > horizon:
                continue
            added += await notify(session, Notice(
                org_id=org_id, kind="pack_deadline",
                subject=f"Data pack for {forum.name} on {long_date(meeting.scheduled_for)} is due {_in((deadline.due - today).days)}",
                body=f"The data pack for {forum.name} on {long_date(meeting.scheduled_for)} is due to {deadline.audience_words} "
                     f"by {long_date(deadline.due)} ({deadline.days_before} days before the meeting) and has not been issued.",
                link=f"/organisations/{code}/meetings/{meeting.id}", dedupe_key=f"pack:{meeting.id}:{deadline.audience}",
            ), recipients)
    return added
