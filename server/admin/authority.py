"""Who may administer which domain, and the Actor an administrative change is recorded against.

Decision (issue "Accountability and isolation"): a principal may manage a domain when Casbin allows
it there directly (``tenant_admin`` for ``org:X``, ``system_tenant_admin`` for ``system:S``), and a
system's administrator may also manage every member organisation of that system and the system's
own organisation. An ICS onboards and supports its members' people; every such change is written to
the *member's* audit trail, where the member's own administrators and performance team read it.
The reverse does not hold: a member's ``tenant_admin`` never manages the system domain.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, org_domain, system_domain
from server.db.models import HealthSystem, Organisation, SystemMembership

ROLE_ASSIGNMENT = "role_assignment"
API_TOKEN = "api_token"
AUDIT = "audit"


@dataclass(frozen=True)
class Actor:
    """The person (or the operator at the command line) making a change, as the audit trail names them."""

    user_id: int | None
    role: str  # the role that entitles them, e.g. "tenant_admin" or "system_tenant_admin@system:STW"
    domain: str | None  # the domain they were authorised for; None only for the operator
    ip: str | None = None

    @classmethod
    def operator(cls) -> "Actor":
        """Whoever runs ``accord`` on the server: trusted like the database owner, with every domain."""
        return cls(user_id=None, role="operator", domain=None)

    def covers(self, domain: str) -> bool:
        return self.domain is None or self.domain == domain


@dataclass(frozen=True)
class DomainRef:
    """A domain resolved to rows: the column a role assignment or token uses, and where its audit goes."""

    domain: str
    name: str
    org_id: int | None  # set for org:<code>
    system_id: int | None  # set for system:<code>
    audit_org_id: int  # the organisation whose trail records changes (a system's own organisation)


async def resolve_domain(session: AsyncSession, domain: str) -> DomainRef | None:
    kind, _, code = domain.partition(":")
    if kind == "org":
        row = (await session.exec(select(Organisation.id, Organisation.name).where(Organisation.code == code))).first()
        return DomainRef(domain, row[1], row[0], None, row[0]) if row else None
    if kind == "system":
        row = (await session.exec(
            select(HealthSystem.id, HealthSystem.name, HealthSystem.organisation_id).where(HealthSystem.code == code)
        )).first()
        return DomainRef(domain, row[1], None, row[0], row[2]) if row else None
    return None


async def systems_containing(session: AsyncSession, org_code: str) -> list[str]:
    """Codes of the systems this organisation belongs to, or represents."""
    org_id = select(Organisation.id).where(Organisation.code == org_code).scalar_subquery()
    rows = await session.exec(
        select(HealthSystem.code).distinct()
        .join(SystemMembership, SystemMembership.system_id == HealthSystem.id, isouter=True)
        .where(or_(HealthSystem.organisation_id == org_id, SystemMembership.organisation_id == org_id))
        .order_by(HealthSystem.code)
    )
    return list(rows.scalars().all())


async def system_of_organisation(session: AsyncSession, org_code: str) -> str | None:
    """The system this organisation represents (kind 'system'), if any."""
    row = await session.exec(
        select(HealthSystem.code).join(Organisation, Organisation.id == HealthSystem.organisation_id).where(Organisation.code == org_code)
    )
    return row.scalars().first()


def entitling_role(authorizer: Authorizer, principal: Principal, domain: str, obj: str, act: str) -> str | None:
    """The role through which the principal may act in this domain, or None if Casbin says no."""
    if not authorizer.allows(principal, domain, obj, act):
        return None
    granting = set(authorizer.roles_granting(obj, act))
    held = [role for role in principal.roles_in(domain) if role in granting]
    return held[0] if held else "unknown"


async def acting_as(
    session: AsyncSession, authorizer: Authorizer, principal: Principal | None, domain: str, obj: str,
    act: str = "manage", *, ip: str | None = None,
) -> Actor | None:
    """An Actor for ``act`` on ``obj`` in ``domain`` — directly, or as administrator of a system containing it."""
    if principal is None:
        return None
    if role := entitling_role(authorizer, principal, domain, obj, act):
        return Actor(principal.user_id, role, domain, ip)
    kind, _, code = domain.partition(":")
    if kind != "org":
        return None
    for system in await systems_containing(session, code):
        if role := entitling_role(authorizer, principal, system_domain(system), obj, act):
            return Actor(principal.user_id, f"{role}@{system_domain(system)}", domain, ip)
    return None


async def managed_domains(
    session: AsyncSession, authorizer: Authorizer, principal: Principal | None, org_code: str, obj: str, act: str = "manage",
    *, ip: str | None = None,
) -> dict[str, Actor]:
    """For one organisation's admin page: its own domain and, if it represents a system, the system's."""
    domains = [org_domain(org_code)]
    if system := await system_of_organisation(session, org_code):
        domains.append(system_domain(system))
    actors = {domain: await acting_as(session, authorizer, principal, domain, obj, act, ip=ip) for domain in domains}
    return {domain: actor for domain, actor in actors.items() if actor is not None}
