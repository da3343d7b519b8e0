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
    select distinct u.id from role_assignment r join app_user u on u.id = r.user_id
    where u.is_active and r.role = any(cast(:roles as varchar[])) and (
      r.system_id in (select s.id from health_system s where s.organisation_id = :org)
      or (r.org_id = :org and not exists (select 1 from health_system s where s.organisation_id = :org)))
    """
)


async def people_holding(session: AsyncSession, org_id: int, roles: Iterable[str]) -> list[int]:
    """Active people holding any of ``roles`` for the organisation (or for the system it is)."""
    wanted = sorted(set(roles))
    if not wanted:
        return []
    return sorted((await session.exec(_HOLDERS, params={"roles": wanted, "org": org_id})).scalars().all())


@lru_cache(maxsize=4)
def policy_reader(policies_dir: Path) -> Authorizer:
    """The policy, for asking which roles grant a permission where no request's authorizer is at hand (the tick)."""
    return Authorizer(policies_dir)
