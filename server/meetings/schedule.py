"""Create an organisation's meetings for a date range from its forums and cadence rules.

Idempotent: each meeting is keyed by (forum, day, subject) and inserted only if absent, so
running the same range twice creates nothing the second time (an untouched scheduled meeting's
``cadence_reason`` is refreshed to the facts as evaluated now). When a cadence changes (a division
recovers, an escalation closes), future meetings that nobody has touched and that the new cadence
no longer needs are cancelled with the reason recorded; if the cadence returns they are reinstated.
Meetings already held, with a pack issued, attendance, decisions or actions are never changed.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import literal_column, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.db.models import Forum, Meeting
from server.meetings.calendar import meeting_dates
from server.meetings.requirements import MeetingRequirement, meeting_requirements
from server.tenants.load import framework_of


@dataclass(frozen=True)
class PlannedMeeting:
    forum: str
    scheduled_for: dt.date
    subject_key: str | None
    subject_name: str | None
    frequency: str


@dataclass(frozen=True)
class ScheduleOutcome:
    start: dt.date
    end: dt.date
    planned: tuple[PlannedMeeting, ...]
    created: int
    reinstated: int
    superseded: int
    requirements: tuple[MeetingRequirement, ...]


async def schedule_meetings(
    session: AsyncSession, org_id: int, *, start: dt.date, end: dt.date, now: dt.datetime | None = None,
    actor_user_id: int | None = None,
) -> ScheduleOutcome:
    """Create the meetings the tenant's forums and cadence rules need between start and end (inclusive)."""
    now = now or dt.datetime.now(dt.UTC)
    framework = await framework_of(session, org_id)
    if framework is None:
        return ScheduleOutcome(start, end, (), 0, 0, 0, ())
    forum_ids = {forum.code: forum.id for forum in (await session.exec(select(Forum).where(Forum.org_id == org_id))).all()}
    requirements = [r for r in await meeting_requirements(session, org_id, framework, at=now) if r.forum in forum_ids]
    planned: list[PlannedMeeting] = []
    created = reinstated = 0
    for requirement in requirements:
        for day in meeting_dates(requirement.frequency, start, end):
            planned.append(PlannedMeeting(requirement.forum, day, requirement.subject_key, requirement.subject_name, requirement.frequency))
            values = {"org_id": org_id, "forum_id": forum_ids[requirement.forum], "scheduled_for": day,
                      "subject_key": requirement.subject_key, "status": "scheduled", "cadence_reason": requirement.reason,
                      "decisions": [], "version": 1}
            statement = insert(Meeting).values(**values)
            # An untouched scheduled meeting takes the latest reason (facts as evaluated now); one
            # with its pack issued keeps the reason it was prepared under.
            statement = statement.on_conflict_do_update(
                constraint="meeting_one_per_forum_day_subject", set_={"cadence_reason": statement.excluded.cadence_reason},
                where=(Meeting.status == "scheduled") & Meeting.pack_issued_at.is_(None),
            )
            row = (await session.exec(statement.returning(Meeting.id, literal_column("xmax = 0")))).first()
            if row is not None:
                created += bool(row[1])  # xmax = 0: the row was inserted, not updated
            else:
                reinstated += await _reinstate(session, forum_ids[requirement.forum], day, requirement)
    # Only meetings from today on are ever cancelled: history is not rewritten.
    superseded = await _supersede(session, org_id, max(start, now.date()), end, planned, forum_ids, now)
    await record_event(
        session, action="meeting.scheduled", object_type="organisation", object_id=str(org_id), org_id=org_id,
        actor_user_id=actor_user_id, after={"start": start.isoformat(), "end": end.isoformat(), "needed": len(planned),
                                            "created": created, "reinstated": reinstated, "superseded": superseded},
    )
    return ScheduleOutcome(start, end, tuple(planned), created, reinstated, superseded, tuple(requirements))


async def _reinstate(session: AsyncSession, forum_id: int, day: dt.date, requirement: MeetingRequirement) -> int:
    """A meeting the scheduler cancelled as no longer needed is needed again: schedule it again."""
    result = await session.exec(text(
        """
        update meeting set status = 'scheduled', cadence_reason = cast(:reason as jsonb), version = version + 1
        where forum_id = :forum and scheduled_for = :day and subject_key is not distinct from :subject
          and status = 'cancelled' and cadence_reason ? 'superseded'
        """
    ), params={"forum": forum_id, "day": day, "subject": requirement.subject_key, "reason": _json(requirement.reason)})
    return result.rowcount


async def _supersede(
    session: AsyncSession, org_id: int, start: dt.date, end: dt.date, planned: list[PlannedMeeting],
    forum_ids: dict[str, int], now: dt.datetime,
) -> int:
    needed = {(forum_ids[p.forum], p.scheduled_for, p.subject_key) for p in planned}
    rows = (await session.exec(text(
        """
        select m.id, m.forum_id, m.scheduled_for, m.subject_key from meeting m
        where m.org_id = :org and m.scheduled_for between :start and :end and m.status = 'scheduled'
          and m.pack_issued_at is null and m.decisions = '[]'::jsonb and m.cadence_reason ? 'basis'
          and not exists (select 1 from meeting_attendance a where a.meeting_id = m.id)
          and not exists (select 1 from action x where x.meeting_id = m.id)
        """
    ), params={"org": org_id, "start": start, "end": end})).all()
    stale = [row[0] for row in rows if (row[1], row[2], row[3]) not in needed]
    if stale:
        reason = {"at": now.isoformat(), "explanation": "The forum's cadence for this subject no longer needs a meeting on this day."}
        await session.exec(text(
            "update meeting set status = 'cancelled', version = version + 1,"
            " cadence_reason = cadence_reason || jsonb_build_object('superseded', cast(:reason as jsonb)) where id = any(:ids)"
        ), params={"ids": stale, "reason": _json(reason)})
    return len(stale)


def _json(value: object) -> str:
    return json.dumps(value)
