"""Who holds a role for an organisation, in the domain its business is decided in.

A system's organisation (the STW ICS) is governed by roles held for the system; any other
organisation by roles held for it (server/auth/authz.py ``acting_domain``). Role assignments and
people are identity tables: read without an organisation's access.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer

_HOLDERS = text(
    """
    select distinct o.id, u.id, u.name from organisation o
    join role_assignment r on r.system_id in (select s.id from health_system s where s.organisation_id = o.id)
      or (r.org_id = o.id and not exists (select 1 from health_system s where s.organisation_id = o.id))
    join app_user u on u.id = r.user_id
    where o.id = any(cast(:orgs as int[])) and u.is_active and r.role = any(cast(:roles as varchar[]))
    order by o.id, u.name, u.id
    """
)


async def people_holding(session: AsyncSession, org_id: int, roles: Iterable[str]) -> list[int]:
    """Active people holding any of ``roles`` for the organisation (or for the system it is)."""
    return sorted(user_id for user_id, _ in (await named_people_holding(session, [org_id], roles)).get(org_id, []))


async def named_people_holding(session: AsyncSession, org_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list[tuple[int, str]]]:
    """Per organisation, the active people (id, name, by name) holding any of ``roles`` for it (or for the system it is). One statement."""
    wanted, orgs = sorted(set(roles)), sorted(set(org_ids))
    found: dict[int, list[tuple[int, str]]] = {org_id: [] for org_id in orgs}
    if not wanted or not orgs:
        return found
    for org_id, user_id, name in (await session.exec(_HOLDERS, params={"roles": wanted, "orgs": orgs})).all():
        found[org_id].append((user_id, name))
    return found


@lru_cache(maxsize=4)
def policy_reader(policies_dir: Path) -> Authorizer:
    """The policy, for asking which roles grant a permission where no request's authorizer is at hand (the tick)."""
    return Authorizer(policies_dir)
