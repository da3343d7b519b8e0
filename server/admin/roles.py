"""Role administration: grant or revoke a user's role in an organisation or a system, audited.

Role assignments are the ``g`` rows of the Casbin model kept as data (``role_assignment``); the
enforcer picks a change up on the user's next request (``Authorizer.sync_subject``). Services take
an :class:`~server.admin.authority.Actor`, obtained only through ``acting_as`` (or the operator at
the command line), and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.admin.authority import ROLE_ASSIGNMENT, Actor, DomainRef, resolve_domain
from server.audit.trail import record_event
from server.auth.authz import Authorizer, org_domain, system_domain
from server.db.models import AppUser, HealthSystem, Organisation, RoleAssignment


@dataclass(frozen=True)
class RoleChanged:
    assignment_id: int
    user_email: str
    role: str
    domain: str
    roles_before: tuple[str, ...]
    roles_after: tuple[str, ...]


@dataclass(frozen=True)
class RoleChangeRefused:
    field: str  # the form field the message is about ("email", "role"), or "" for the change as a whole
    message: str


RoleChangeResult = RoleChanged | RoleChangeRefused


@dataclass(frozen=True)
class HeldRole:
    assignment_id: int
    role: str
    domain: str


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    email: str
    is_active: bool
    roles: tuple[HeldRole, ...]


def role_scope(authorizer: Authorizer, role: str) -> str | None:
    """'system' for roles held for a system (they read the system), 'region' or 'national' for the
    regional and national readers, 'org' for the rest, None if unknown.

    Only roles named in the policy may be granted: a free-text role such as ``user:7`` would make the
    grantee inherit that user's roles, since Casbin role links are transitive.
    """
    rules = authorizer.enforcer.get_filtered_policy(0, role)
    if not rules:
        return None
    for scope in ("system", "region", "national"):  # region and national roles are never an organisation's to grant
        if any(rule[2:4] == [scope, "read"] for rule in rules):
            return scope
    return "org"


def grantable_roles(authorizer: Authorizer, scope: str) -> list[str]:
    return sorted({rule[0] for rule in authorizer.enforcer.get_policy() if role_scope(authorizer, rule[0]) == scope})


def domain_for_role(authorizer: Authorizer, role: str, *, org_code: str, system_code: str | None) -> str | None:
    """Where a role from an organisation's admin page is held: the organisation, or the system it represents."""
    scope = role_scope(authorizer, role)
    if scope == "org":
        return org_domain(org_code)
    if scope == "system" and system_code:
        return system_domain(system_code)
    return None


async def grant_role(session: AsyncSession, authorizer: Authorizer, actor: Actor, *, email: str, role: str, domain: str) -> RoleChangeResult:
    refused = _check_role(authorizer, actor, role, domain)
    if refused:
        return refused
    target = await resolve_domain(session, domain)
    if target is None:
        return RoleChangeRefused("", f"There is no {domain}")
    user = await user_by_email(session, email)
    if user is None:
        return RoleChangeRefused("email", "There is no Accord account with that email address")
    if not user.is_active:
        return RoleChangeRefused("email", "That account is switched off; it cannot be given roles")
    before = await _roles_held(session, user.id, target)
    if role in before:
        return RoleChangeRefused("role", f"{user.name} already has the role {role} here")
    assignment = RoleAssignment(user_id=user.id, role=role, org_id=target.org_id, system_id=target.system_id, granted_by=actor.user_id)
    session.add(assignment)
    await session.flush()
    after = tuple(sorted((*before, role)))
    await _audit(session, actor, "role.granted", assignment.id, target, user, before, after)
    return RoleChanged(assignment.id, user.email, role, domain, before, after)


async def revoke_role(session: AsyncSession, authorizer: Authorizer, actor: Actor, *, assignment_id: int) -> RoleChangeResult:
    held = await assignment_by_id(session, assignment_id)
    if held is None or not actor.covers(held.domain):
        return RoleChangeRefused("", "There is no such role assignment for you to remove")
    assignment = await session.get(RoleAssignment, assignment_id)
    user = await session.get(AppUser, assignment.user_id)
    if user.id == actor.user_id and held.role == actor.role:
        # An administrator cannot remove the role that lets them administer: ask another administrator.
        return RoleChangeRefused("", "You cannot remove your own administrator role")
    target = await resolve_domain(session, held.domain)
    before = await _roles_held(session, user.id, target)
    await session.delete(assignment)
    await session.flush()
    after = tuple(role for role in before if role != held.role)
    await _audit(session, actor, "role.revoked", assignment_id, target, user, before, after)
    return RoleChanged(assignment_id, user.email, held.role, held.domain, before, after)


async def assignment_by_id(session: AsyncSession, assignment_id: int) -> HeldRole | None:
    row = (await session.exec(
        select(RoleAssignment.id, RoleAssignment.role, Organisation.code, HealthSystem.code)
        .join(Organisation, Organisation.id == RoleAssignment.org_id, isouter=True)
        .join(HealthSystem, HealthSystem.id == RoleAssignment.system_id, isouter=True)
        .where(RoleAssignment.id == assignment_id)
    )).first()
    if row is None:
        return None
    return HeldRole(row[0], row[1], org_domain(row[2]) if row[2] else system_domain(row[3]))


async def people_in(session: AsyncSession, domains: list[str], *, home_org_id: int) -> list[Person]:
    """Everyone whose home is this organisation or who holds a role in one of ``domains``, with those roles only."""
    refs = [ref for ref in [await resolve_domain(session, d) for d in domains] if ref is not None]
    org_ids = [ref.org_id for ref in refs if ref.org_id is not None]
    system_ids = [ref.system_id for ref in refs if ref.system_id is not None]
    in_domains = or_(RoleAssignment.org_id.in_(org_ids), RoleAssignment.system_id.in_(system_ids))
    rows = (await session.exec(
        select(AppUser.id, AppUser.name, AppUser.email, AppUser.is_active, RoleAssignment.id, RoleAssignment.role,
               RoleAssignment.org_id, RoleAssignment.system_id)
        .join(RoleAssignment, (RoleAssignment.user_id == AppUser.id) & in_domains, isouter=True)
        .where(or_(AppUser.home_org_id == home_org_id, RoleAssignment.id.is_not(None)))
        .order_by(AppUser.name, AppUser.id, RoleAssignment.role)
    )).all()
    domain_of = {(ref.org_id, ref.system_id): ref.domain for ref in refs}
    people: dict[int, Person] = {}
    for user_id, name, email, active, assignment_id, role, org_id, system_id in rows:
        person = people.setdefault(user_id, Person(user_id, name, email, active, ()))
        if assignment_id is not None:
            held = HeldRole(assignment_id, role, domain_of[(org_id, system_id)])
            people[user_id] = Person(user_id, name, email, active, (*person.roles, held))
    return list(people.values())


def _check_role(authorizer: Authorizer, actor: Actor, role: str, domain: str) -> RoleChangeRefused | None:
    if not actor.covers(domain):
        return RoleChangeRefused("", f"You may not manage roles for {domain}")
    scope = role_scope(authorizer, role)
    if scope is None:
        return RoleChangeRefused("role", "Choose a role from the list")
    if scope != domain.partition(":")[0]:
        kind = "a system" if scope == "system" else "an organisation"
        return RoleChangeRefused("role", f"{role} is held for {kind}, not here")
    return None


async def user_by_email(session: AsyncSession, email: str) -> AppUser | None:
    """The account with this email address, compared without case or surrounding spaces."""
    email = email.strip().lower()
    if not email:
        return None
    return (await session.exec(select(AppUser).where(func.lower(AppUser.email) == email))).scalars().first()


async def _roles_held(session: AsyncSession, user_id: int, target: DomainRef) -> tuple[str, ...]:
    scope = RoleAssignment.org_id == target.org_id if target.org_id is not None else RoleAssignment.system_id == target.system_id
    rows = await session.exec(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id, scope).order_by(RoleAssignment.role))
    return tuple(rows.scalars().all())


async def _audit(
    session: AsyncSession, actor: Actor, action: str, assignment_id: int, target: DomainRef, user: AppUser,
    before: tuple[str, ...], after: tuple[str, ...],
) -> None:
    who = {"user_id": user.id, "user": user.email, "domain": target.domain}
    await record_event(
        session, action=action, object_type=ROLE_ASSIGNMENT, object_id=str(assignment_id), org_id=target.audit_org_id,
        actor_user_id=actor.user_id, actor_role=actor.role, before={**who, "roles": list(before)},
        after={**who, "roles": list(after)}, ip=actor.ip,
    )
