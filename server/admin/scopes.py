"""Region and national scopes: what a domain resolves to, and the operator granting the roles that read there.

Roles held for an organisation or a system are granted on that organisation's admin pages
(``server.admin.roles``). A region (``region:<code>``) or ``national`` belongs to no organisation,
so only the operator at the command line (``accord grant-role --region CODE`` / ``--national``)
grants or removes a role there, and only a role the policy lets read at that scope
(``regional_analyst``, ``national_analyst``). Each change is written to the audit trail of every
organisation the scope can read, where their own administrators see who may read them.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.admin.authority import ROLE_ASSIGNMENT, Actor, resolve_domain
from server.audit.trail import record_event
from server.auth.authz import NATIONAL_DOMAIN, Authorizer
from server.db.models import AppUser, HealthSystem, Organisation, Region, RoleAssignment, SystemMembership
from server.db.session import AccessContext, Database


@dataclass(frozen=True)
class Scope:
    """A domain resolved to the one column that scopes a role or token there, and the trails that record changes."""

    domain: str
    org_id: int | None = None
    system_id: int | None = None
    region_id: int | None = None
    national: bool = False
    audit_org_ids: tuple[int, ...] = ()  # an organisation's or system's own trail; for a region or national, every one it reads


async def resolve_scope(session: AsyncSession, domain: str) -> Scope | None:
    kind, _, code = domain.partition(":")
    if domain == NATIONAL_DOMAIN:
        org_ids = (await session.exec(select(Organisation.id).order_by(Organisation.id))).scalars().all()
        return Scope(domain, national=True, audit_org_ids=tuple(org_ids))
    if kind == "region":
        region_id = (await session.exec(select(Region.id).where(Region.code == code))).scalar_one_or_none()
        if region_id is None:
            return None
        in_region = select(HealthSystem.id).where(HealthSystem.region_id == region_id)
        members = select(SystemMembership.organisation_id).where(SystemMembership.system_id.in_(in_region))
        own = select(HealthSystem.organisation_id).where(HealthSystem.region_id == region_id)
        org_ids = (await session.exec(select(Organisation.id).where(Organisation.id.in_(members.union(own))).order_by(Organisation.id))).scalars().all()
        return Scope(domain, region_id=region_id, audit_org_ids=tuple(org_ids))
    ref = await resolve_domain(session, domain)
    if ref is None:
        return None
    return Scope(domain, org_id=ref.org_id, system_id=ref.system_id, audit_org_ids=(ref.audit_org_id,))


@dataclass(frozen=True)
class ScopeRoleChanged:
    email: str
    role: str
    domain: str
    granted: bool  # False: removed


@dataclass(frozen=True)
class ScopeRoleRefused:
    message: str


async def change_scope_role_at_command_line(
    database: Database, authorizer: Authorizer, *, email: str, role: str, domain: str, grant: bool,
) -> ScopeRoleChanged | ScopeRoleRefused:
    """``accord grant-role`` / ``accord revoke-role`` for a region or national scope, audited."""
    from server.admin.roles import role_scope

    kind = "national" if domain == NATIONAL_DOMAIN else domain.partition(":")[0]
    if kind not in ("region", "national"):
        return ScopeRoleRefused("Organisation and system roles are granted on the organisation's admin page")
    if role_scope(authorizer, role) != kind:
        allowed = sorted({rule[0] for rule in authorizer.enforcer.get_policy() if role_scope(authorizer, rule[0]) == kind})
        return ScopeRoleRefused(f"{role} is not held for a {kind} scope; the policy allows {', '.join(allowed) or 'no role'} there")
    async with database.session() as session:
        scope = await resolve_scope(session, domain)
        account = (await session.exec(select(AppUser).where(AppUser.email == email.strip().lower()))).scalars().first()
    if scope is None:
        return ScopeRoleRefused(f"There is no {domain}")
    if account is None or not account.is_active:
        return ScopeRoleRefused("There is no active Accord account with that email address")
    async with database.session(AccessContext.for_orgs(scope.audit_org_ids)) as session:
        in_region = RoleAssignment.region_id.is_(None) if scope.region_id is None else RoleAssignment.region_id == scope.region_id
        held = (RoleAssignment.user_id == account.id, RoleAssignment.role == role, in_region, RoleAssignment.national == scope.national)
        existing = (await session.exec(select(RoleAssignment.id).where(*held))).scalars().first()
        if grant and existing is not None:
            return ScopeRoleRefused(f"{account.email} already holds {role} for {domain}")
        if not grant and existing is None:
            return ScopeRoleRefused(f"{account.email} does not hold {role} for {domain}")
        if grant:
            assignment = RoleAssignment(user_id=account.id, role=role, region_id=scope.region_id, national=scope.national)
            session.add(assignment)
            await session.flush()
            assignment_id = assignment.id
        else:
            assignment_id = existing
            await session.exec(delete(RoleAssignment).where(RoleAssignment.id == existing))
        who = {"user_id": account.id, "user": account.email, "domain": domain}
        before, after = ([], [role]) if grant else ([role], [])
        for org_id in scope.audit_org_ids:
            await record_event(
                session, action="role.granted" if grant else "role.revoked", object_type=ROLE_ASSIGNMENT, object_id=str(assignment_id),
                org_id=org_id, actor_user_id=None, actor_role=Actor.operator().role, before={**who, "roles": before},
                after={**who, "roles": after},
            )
    return ScopeRoleChanged(account.email, role, domain, grant)
