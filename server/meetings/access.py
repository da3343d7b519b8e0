"""Who may run an organisation's meetings and mark its reports issued (Casbin ``meeting manage``)."""
from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, org_domain, system_domain
from server.db.models import HealthSystem, Organisation


async def may_manage_meetings(session: AsyncSession, authorizer: Authorizer, principal: Principal | None, organisation: Organisation) -> bool:
    """``meeting manage`` in the organisation's own domain, or — for a system's own organisation
    (the STW ICS's forums) — in the system's domain, where system roles are granted."""
    if authorizer.allows(principal, org_domain(organisation.code), "meeting", "manage"):
        return True
    system = (await session.exec(select(HealthSystem).where(HealthSystem.organisation_id == organisation.id))).first()
    return system is not None and authorizer.allows(principal, system_domain(system.code), "meeting", "manage")
