"""Append to the audit trail. The table refuses updates and deletes; this only ever inserts."""
from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import AuditEvent


async def record_event(
    session: AsyncSession, *, action: str, object_type: str, object_id: str | None = None, org_id: int | None = None,
    actor_user_id: int | None = None, actor_role: str | None = None, before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None, ip: str | None = None,
) -> None:
    session.add(AuditEvent(
        org_id=org_id, actor_user_id=actor_user_id, actor_role=actor_role, action=action, object_type=object_type,
        object_id=object_id, before=before, after=after, ip=ip,
    ))
