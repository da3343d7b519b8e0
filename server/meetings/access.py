"""Who may run an organisation's meetings and mark its reports issued (Casbin ``meeting manage``)."""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, acting_domain, org_domain
from server.db.models import Organisation


async def may_manage_meetings(session: AsyncSession, authorizer: Authorizer, principal: Principal | None, organisation: Organisation) -> bool:
    """``meeting manage`` in the organisation's own domain, or — for a system's own organisation
    (the STW ICS's forums) — in the system's domain, where system roles are granted."""
    domains = {org_domain(organisation.code), await acting_domain(session, organisation.id)}
    return any(authorizer.allows(principal, domain, "meeting", "manage") for domain in domains)
