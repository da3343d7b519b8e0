"""Append to the audit trail. The table refuses updates and deletes; this only ever inserts.

Where a caller does not say where the request came from or in which role the actor acted, the
request's access context does (``request_labels``, attached by the web middleware): the client
address, and the roles the person holds in each organisation. Callers that know the exact
entitling role (role and token administration) pass it explicitly.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


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
    await record_events(session, [dict(action=action, object_type=object_type, object_id=object_id, org_id=org_id,
                                       actor_user_id=actor_user_id, actor_role=actor_role, before=before, after=after, ip=ip)])


async def record_events(session: AsyncSession, events: Sequence[Mapping[str, Any]]) -> None:
    """Append events (each with ``record_event``'s keywords) in one statement (a ladder run's moves)."""
    access = session.info.get("access")
    labels: Mapping[str, str] = access.labels if access is not None else {}
    now = dt.datetime.now(dt.UTC)
    rows = []
    for event in events:
        actor_user_id, org_id, actor_role, ip = event.get("actor_user_id"), event.get("org_id"), event.get("actor_role"), event.get("ip")
        acting_for_this_request = access is not None and actor_user_id is not None and actor_user_id == access.user_id
        if actor_role is None and acting_for_this_request and org_id is not None:
            actor_role = labels.get(roles_label(org_id))
        rows.append({"org_id": org_id, "actor_user_id": actor_user_id, "actor_role": actor_role, "action": event["action"],
                     "object_type": event["object_type"], "object_id": event.get("object_id"),
                     # JSON null where nothing was given, as the ORM's JSONB binding always stored it
                     "before": json.dumps(event.get("before")), "after": json.dumps(event.get("after")),
                     "ip": labels.get(IP_LABEL) if ip is None else ip, "at": now})
    # No RETURNING: an actor may append an event about an organisation they cannot read (e.g. a
    # partner completing a system plan); reading it back would be refused.
    if rows:
        await session.exec(_APPEND.bindparams(**{column: [row[column] for row in rows] for column in _COLUMNS}))


_COLUMNS = ("org_id", "actor_user_id", "actor_role", "action", "object_type", "object_id", "before", "after", "ip", "at")
_APPEND = text(
    """
    insert into audit_event (org_id, actor_user_id, actor_role, action, object_type, object_id, before, after, ip, at)
    select org_id, actor_user_id, actor_role, action, object_type, object_id, before::jsonb, after::jsonb, ip, at
    from unnest(cast(:org_id as int[]), cast(:actor_user_id as int[]), cast(:actor_role as text[]), cast(:action as text[]),
                cast(:object_type as text[]), cast(:object_id as text[]), cast(:before as text[]), cast(:after as text[]),
                cast(:ip as text[]), cast(:at as timestamptz[]))
         with ordinality as batch(org_id, actor_user_id, actor_role, action, object_type, object_id, before, after, ip, at, position)
    order by position
    """
)

