"""Read an organisation's audit trail, newest first, a page at a time, naming each actor."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import AppUser, AuditEvent

PAGE_SIZE = 25


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor_name: str | None  # None: the operator at the command line, or the system itself
    actor_email: str | None
    actor_role: str | None
    action: str
    object_type: str
    object_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


async def audit_page(
    session: AsyncSession, *, org_id: int, page: int = 1, page_size: int = PAGE_SIZE,
    object_types: Sequence[str] | None = None, oldest_first: bool = False,
) -> AuditPage:
    """One page of the organisation's events (only ``object_types`` when given). Row-level security also limits rows to readable organisations."""
    chosen = [AuditEvent.org_id == org_id, *([AuditEvent.object_type.in_(object_types)] if object_types else [])]
    total = (await session.exec(select(func.count()).select_from(AuditEvent).where(*chosen))).scalar_one()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = (await session.exec(
        select(AuditEvent, AppUser.name, AppUser.email)
        .join(AppUser, AppUser.id == AuditEvent.actor_user_id, isouter=True)
        .where(*chosen)
        .order_by(*((AuditEvent.at, AuditEvent.id) if oldest_first else (AuditEvent.at.desc(), AuditEvent.id.desc())))
        .offset((page - 1) * page_size).limit(page_size)
    )).all()
    entries = [
        AuditEntry(event.id, event.at, name, email, event.actor_role, event.action, event.object_type, event.object_id,
                   event.before, event.after, event.ip)
        for event, name, email in rows
    ]
    return AuditPage(entries, page, pages, total)
