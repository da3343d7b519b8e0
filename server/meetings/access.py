"""Who may run an organisation's meetings (Casbin ``meeting manage``) and mark its reports issued
(``report mark_issued``)."""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, acting_domain, org_domain
from server.db.models import Organisation


async def may_manage_meetings(session: AsyncSession, authorizer: Authorizer, principal: Principal | None, organisation: Organisation) -> bool:
    """``meeting manage`` in the organisation's own domain, or — for a system's own organisation
    (the STW ICS's forums) — in the system's domain, where system roles are granted."""
    return await _allowed(session, authorizer, principal, organisation, "meeting", "manage")


async def may_mark_reports(session: AsyncSession, authorizer: Authorizer, principal: Principal | None, organisation: Organisation) -> bool:
    """``report mark_issued``, in the same domains as meetings: the reporting schedule's returns, one or a batch at a time."""
    return await _allowed(session, authorizer, principal, organisation, "report", "mark_issued")


async def _allowed(session: AsyncSession, authorizer: Authorizer, principal: Principal | None, organisation: Organisation,
                   obj: str, act: str) -> bool:
    domains = {org_domain(organisation.code), await acting_domain(session, organisation.id)}
    return any(authorizer.allows(principal, domain, obj, act) for domain in domains)
