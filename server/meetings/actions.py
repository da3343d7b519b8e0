"""A forum's action log: actions raised at a meeting, carried forward to later sittings until closed.

ULHT 5.1: "The meetings will maintain action logs" and the Performance Manager keeps the log
"both during and after the meetings". An action raised at one sitting appears on every later sitting
of the same forum about the same subject until it is closed; closing records when.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.db.models import Action, Meeting
from server.db.models.plans import ACTION_STATUSES
from server.meetings.minutes import Actor, Refused

STATUS_WORDS = {"open": "Open", "in_progress": "In progress", "done": "Done, awaiting closure", "closed": "Closed"}


@dataclass(frozen=True)
class LoggedAction:
    action: Action
    raised_on: dt.date  # the sitting it was raised at
    carried_forward: bool

    def is_overdue(self, on: dt.date) -> bool:
        return self.action.status != "closed" and self.action.due_date < on


async def action_log(session: AsyncSession, meeting: Meeting) -> list[LoggedAction]:
    """Actions carried forward from earlier sittings, then this sitting's own.

    An earlier action is carried forward to this sitting if it was still open on the day of the
    sitting: not closed, or closed on or after that day (so a past sitting keeps showing what was
    open then, and the next sitting stops showing an action once it is closed).
    """
    rows = (await session.exec(text(
        """
        select x.id, m.scheduled_for, m.id = :meeting as own from action x join meeting m on m.id = x.meeting_id
        where m.forum_id = :forum and m.subject_key is not distinct from :subject
          and (m.id = :meeting or (m.scheduled_for < :day and m.status <> 'cancelled'
               and (x.closed_at is null or x.closed_at >= cast(:day as date))))
        order by own, m.scheduled_for, x.due_date, x.id
        """
    ), params={"meeting": meeting.id, "forum": meeting.forum_id, "subject": meeting.subject_key, "day": meeting.scheduled_for})).all()
    if not rows:
        return []
    actions = {a.id: a for a in (await session.exec(select(Action).where(Action.id.in_([r[0] for r in rows])))).all()}
    return [LoggedAction(actions[action_id], raised_on, not own) for action_id, raised_on, own in rows]


async def add_action(
    session: AsyncSession, meeting: Meeting, *, description: str, owner: str, due_date: dt.date, actor: Actor,
) -> Action | Refused:
    if not description.strip():
        return Refused("Enter what the action is")
    if not owner.strip():
        return Refused("Enter who owns the action")
    if meeting.status == "cancelled":
        return Refused("This meeting was cancelled, so no action can be raised at it.")
    action = Action(org_id=meeting.org_id, meeting_id=meeting.id, description=description.strip(), owner=owner.strip(), due_date=due_date)
    session.add(action)
    await session.flush()
    await record_event(
        session, action="meeting.action_raised", object_type="action", object_id=str(action.id), org_id=meeting.org_id,
        actor_user_id=actor.user_id, actor_role=actor.role,
        after={"meeting_id": meeting.id, "description": action.description, "owner": action.owner, "due_date": due_date.isoformat()},
    )
    return action


async def set_action_status(
    session: AsyncSession, org_id: int, action_id: int, *, status: str, actor: Actor, now: dt.datetime,
) -> Action | Refused | None:
    """Move an action on; closing records when, reopening clears it. None if there is no such action here."""
    if status not in ACTION_STATUSES:
        return Refused("Choose the action's status")
    action = (await session.exec(select(Action).where(Action.id == action_id, Action.org_id == org_id, Action.meeting_id.is_not(None)))).first()
    if action is None:
        return None
    before = {"status": action.status, "closed_at": action.closed_at.isoformat() if action.closed_at else None}
    action.status = status
    action.closed_at = (action.closed_at or now) if status == "closed" else None
    session.add(action)
    await session.flush()
    await record_event(
        session, action="meeting.action_updated", object_type="action", object_id=str(action.id), org_id=org_id,
        actor_user_id=actor.user_id, actor_role=actor.role, before=before,
        after={"status": action.status, "closed_at": action.closed_at.isoformat() if action.closed_at else None},
    )
    return action
