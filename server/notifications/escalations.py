"""An escalation opened or moved to a forum: tell the people who sit on it (issue 15).

After a ladder run that opened or moved something (server/escalation_store/run.py), the ``opened`` and
``escalated`` events this transaction wrote (their ``xmin`` is its id: no statement before the run,
which keeps a run's fixed statement count) are read back. Each escalation still open at
that level tells the holders of its forum's ``roles`` (and of any additional forum's), for the
escalation's own organisation only. The event's id is the dedupe key: a re-run tells nobody twice.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.notifications.recipients import people_holding
from server.notifications.store import Notice, notify
from server.tenants.spec import TenantFile


_MOVES = text(
    """
    select distinct on (x.id) e.id, e.event, x.id, x.subject_name, x.level, x.level_name, x.forum_code,
           coalesce(x.explanation -> 'additional_forums', '[]'::jsonb), o.code
    from escalation_event e join escalation x on x.id = e.escalation_id join organisation o on o.id = x.org_id
    where e.org_id = :org and e.xmin = pg_current_xact_id_if_assigned()::xid and e.event in ('opened', 'escalated') and x.status <> 'closed' and e.to_level = x.level
    order by x.id, e.id desc
    """
)


async def notify_escalation_moves(session: AsyncSession, org_id: int, framework: TenantFile) -> int:
    """Tell each forum's people of the escalations this transaction opened or moved to them; returns notifications added.

    The transaction's own rows: server code writes escalation events outside savepoints (a row
    written inside one carries the savepoint's id and would not be told)."""
    forums = {forum.code: forum for forum in framework.forums}
    added = 0
    for event_id, event, escalation_id, subject, level, level_name, forum_code, extra, org_code in (
        await session.exec(_MOVES, params={"org": org_id})
    ).all():
        seats = [forums[code] for code in [forum_code, *extra] if code in forums]
        recipients = await people_holding(session, org_id, [role for forum in seats for role in forum.roles])
        if not recipients:
            continue
        forum_names = " and ".join(forum.name for forum in seats)
        verb = "opened at" if event == "opened" else "moved to"
        added += await notify(session, Notice(
            org_id=org_id, kind="escalation",
            subject=f"{subject}: escalation {verb} level {level} ({level_name})",
            body=f"{framework.organisation.name}: the escalation of {subject} {verb} level {level}, {level_name}. "
                 f"It is for {forum_names}, which you sit on.",
            link=f"/organisations/{org_code}/escalations/{escalation_id}", dedupe_key=f"escalation-event:{event_id}",
        ), recipients)
    return added
