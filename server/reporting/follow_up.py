"""What the IPR lists after the scorecard: open escalations and open actions (plans and meetings)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class FollowUpItem:
    title: str
    detail: str
    href: str | None = None


async def open_escalations(session: AsyncSession, *, org_id: int, unit_id: int | None = None) -> list[FollowUpItem]:
    """Escalations still open for the organisation, or for one unit and its indicators there."""
    rows = (await session.exec(text(
        """
        select e.id, o.code, e.subject_name, e.level, e.level_name, e.forum_code, e.status
        from escalation e join organisation o on o.id = e.org_id
        where e.org_id = :org and e.status <> 'closed' and (cast(:unit as int) is null or e.unit_id = :unit)
        order by e.level desc, e.opened_at, e.id limit 50
        """
    ), params={"org": org_id, "unit": unit_id})).all()
    return [
        FollowUpItem(
            title=subject, detail=f"Level {level}: {level_name}" + (f" · {forum}" if forum else "") + f" · {status.replace('_', ' ')}",
            href=f"/organisations/{code}/escalations/{escalation_id}",
        )
        for escalation_id, code, subject, level, level_name, forum, status in rows
    ]


async def open_actions(session: AsyncSession, *, org_id: int, unit_id: int | None = None) -> list[FollowUpItem]:
    """Open actions from the organisation's own plans and meetings, soonest due first."""
    rows = (await session.exec(text(
        """
        select a.description, a.owner, a.due_date, a.status, a.plan_id, a.meeting_id, o.code
        from action a join organisation o on o.id = a.org_id
        where a.org_id = :org and a.status in ('open', 'in_progress')
        order by a.due_date, a.id limit 50
        """
    ), params={"org": org_id})).all()
    return [
        FollowUpItem(
            title=description, detail=f"{owner} · due {due:%d %b %Y} · {status.replace('_', ' ')}",
            href=f"/plans/{plan_id}#actions" if plan_id else f"/organisations/{code}/meetings/{meeting_id}",
        )
        for description, owner, due, status, plan_id, meeting_id, code in rows
    ]
