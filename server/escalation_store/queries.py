"""Reads of stored escalations for lists across organisations (GraphQL and the register share them)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Escalation, EscalationEvent


async def escalations_of_orgs(
    session: AsyncSession, org_ids: Sequence[int], *, statuses: Sequence[str] | None = None, min_level: int | None = None,
) -> dict[int, list[Escalation]]:
    """Per organisation, its escalations, highest level first then most recently changed: one statement."""
    statement = select(Escalation).where(Escalation.org_id.in_(list(org_ids)))
    if statuses:
        statement = statement.where(Escalation.status.in_(list(statuses)))
    if min_level is not None:
        statement = statement.where(Escalation.level >= min_level)
    rows = (await session.exec(statement.order_by(Escalation.org_id, Escalation.level.desc(), Escalation.updated_at.desc(), Escalation.id))).scalars().all()
    found: dict[int, list[Escalation]] = {org_id: [] for org_id in org_ids}
    for row in rows:
        found[row.org_id].append(row)
    return found


async def escalation_events(session: AsyncSession, escalation_ids: Sequence[int]) -> dict[int, list[EscalationEvent]]:
    """Every recorded transition of each escalation, oldest first: one statement."""
    rows = (await session.exec(
        select(EscalationEvent).where(EscalationEvent.escalation_id.in_(list(escalation_ids))).order_by(EscalationEvent.at, EscalationEvent.id)
    )).scalars().all()
    found: dict[int, list[EscalationEvent]] = {}
    for row in rows:
        found.setdefault(row.escalation_id, []).append(row)
    return found
