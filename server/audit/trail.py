"""Append to the audit trail. The table refuses updates and deletes; this only ever inserts.

Where a caller does not say where the request came from or in which role the actor acted, the
request's access context does (``request_labels``, attached by the web middleware): the client
address, and the roles the person holds in each organisation. Callers that know the exact
entitling role (role and token administration) pass it explicitly.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import AuditEvent

IP_LABEL = "ip"


def roles_label(org_id: int) -> str:
    return f"roles:{org_id}"


def request_labels(ip: str | None, roles_by_org_id: Mapping[int, list[str]]) -> dict[str, str]:
    """What a request's AccessContext carries for the audit trail: where it came from, who it acts as."""
    labels = {roles_label(org_id): ",".join(sorted(roles)) for org_id, roles in roles_by_org_id.items() if roles}
    if ip:
        labels[IP_LABEL] = ip
    return labels


async def record_event(
    session: AsyncSession, *, action: str, object_type: str, object_id: str | None = None, org_id: int | None = None,
    actor_user_id: int | None = None, actor_role: str | None = None, before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None, ip: str | None = None,
) -> None:
    access = session.info.get("access")
    labels: Mapping[str, str] = access.labels if access is not None else {}
    if ip is None:
        ip = labels.get(IP_LABEL)
    acting_for_this_request = access is not None and actor_user_id is not None and actor_user_id == access.user_id
    if actor_role is None and acting_for_this_request and org_id is not None:
        actor_role = labels.get(roles_label(org_id))
    # A Core insert with no RETURNING: an actor may append an event about an organisation they
    # cannot read (e.g. a partner completing a system plan); reading it back would be refused.
    await session.exec(AuditEvent.__table__.insert().values(
        org_id=org_id, actor_user_id=actor_user_id, actor_role=actor_role, action=action, object_type=object_type,
        object_id=object_id, before=before, after=after, ip=ip, at=dt.datetime.now(dt.UTC),
    ))
