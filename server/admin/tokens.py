"""API tokens for tools, administered: issue (the secret shown once), list without secrets, revoke.

A token is scoped to one organisation, one system, one region (``region:<code>``: every member of
the region's systems) or nationally (``national``), and to a subset of its account's roles there;
``server.auth.principal`` also intersects those roles with what the account still holds at each
request, so revoking the account's role disarms the token at once. The policy decides what a role
held at a scope may do (only ``regional_analyst`` and ``national_analyst`` read at region and national
scope), and only the operator issues region and national tokens: no organisation's administrator
covers them. Their issue and revocation are written to the trail of every organisation they can read.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.admin.authority import API_TOKEN, Actor, resolve_domain
from server.admin.scopes import Scope, resolve_scope
from server.audit.trail import record_event
from server.auth.authz import NATIONAL_DOMAIN, load_principal_assignments, org_domain, region_domain, system_domain
from server.auth.tokens import issue_token
from server.db.models import ApiToken, AppUser, HealthSystem, Organisation, Region
from server.db.session import AccessContext, Database

DEFAULT_DAYS = 90
MAX_DAYS = 365  # a year at most: a tool's owner must come back and renew, and the renewal is audited


@dataclass(frozen=True)
class TokenIssued:
    token_id: int
    name: str
    prefix: str
    secret: str  # shown to the person once, never stored
    account_email: str
    roles: tuple[str, ...]
    domain: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenRevoked:
    token_id: int
    name: str
    prefix: str


@dataclass(frozen=True)
class TokenRefused:
    field: str  # "email", "roles", "days", "name", or "" for the request as a whole
    message: str


@dataclass(frozen=True)
class TokenSummary:
    """What a list shows: enough to tell tokens apart and judge them, never the secret or its hash."""

    id: int
    name: str
    prefix: str
    account_name: str
    account_email: str
    roles: tuple[str, ...]
    domain: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= dt.datetime.now(dt.UTC) else "active"


async def issue(
    session: AsyncSession, actor: Actor, *, email: str, domain: str, roles: list[str], days: int = DEFAULT_DAYS, name: str,
) -> TokenIssued | TokenRefused:
    if not actor.covers(domain):
        return TokenRefused("", f"You may not issue tokens for {domain}")
    target = await resolve_scope(session, domain)
    if target is None:
        return TokenRefused("", f"There is no {domain}")
    if not target.audit_org_ids:
        return TokenRefused("", f"{domain} has no organisations in Accord: a token there would read nothing")
    name = name.strip()
    if not name or len(name) > 100:
        return TokenRefused("name", "Give the token a name of up to 100 characters, saying which tool uses it")
    if not 1 <= days <= MAX_DAYS:
        return TokenRefused("days", f"A token lasts between 1 and {MAX_DAYS} days")
    account = (await session.exec(select(AppUser).where(AppUser.email == email.strip().lower()))).scalars().first()
    if account is None or not account.is_active:
        return TokenRefused("email", "There is no active Accord account with that email address")
    held = {a.role for a in await load_principal_assignments(session, account.id) if a.domain == domain}
    wanted = tuple(sorted(set(roles)))
    if not wanted:
        return TokenRefused("roles", "Choose at least one role for the token")
    if not_held := [role for role in wanted if role not in held]:
        named = ", ".join(role.replace("_", " ") for role in not_held)
        return TokenRefused("roles", f"The account does not hold the role {named} here; a token carries only roles its account holds")
    issued = await issue_token(
        session, name=name, user_id=account.id, roles=list(wanted), org_id=target.org_id, system_id=target.system_id,
        region_id=target.region_id, national=target.national, lifetime=dt.timedelta(days=days),
    )
    token = issued.token
    await _audit(session, actor, "api_token.issued", token, target, account, before=None, after={
        "name": token.name, "prefix": token.prefix, "account": account.email, "roles": list(wanted), "domain": domain,
        "expires_at": token.expires_at.isoformat(),
    })
    return TokenIssued(token.id, token.name, token.prefix, issued.secret, account.email, wanted, domain, token.expires_at)


async def revoke(session: AsyncSession, actor: Actor, *, token_id: int) -> TokenRevoked | TokenRefused:
    domain = await token_domain(session, token_id)
    if domain is None or not actor.covers(domain):
        return TokenRefused("", "There is no such token for you to revoke")
    token = await session.get(ApiToken, token_id)
    if token.revoked_at is not None:
        return TokenRefused("", "That token was already revoked")
    token.revoked_at = dt.datetime.now(dt.UTC)
    account = await session.get(AppUser, token.user_id)
    target = await resolve_scope(session, domain)
    summary = {"name": token.name, "prefix": token.prefix, "account": account.email, "domain": domain}
    await _audit(session, actor, "api_token.revoked", token, target, account,
                 before={**summary, "revoked_at": None}, after={**summary, "revoked_at": token.revoked_at.isoformat()})
    return TokenRevoked(token.id, token.name, token.prefix)


async def token_domain(session: AsyncSession, token_id: int) -> str | None:
    row = (await session.exec(
        select(Organisation.code, HealthSystem.code, Region.code, ApiToken.national).select_from(ApiToken)
        .join(Organisation, Organisation.id == ApiToken.org_id, isouter=True)
        .join(HealthSystem, HealthSystem.id == ApiToken.system_id, isouter=True)
        .join(Region, Region.id == ApiToken.region_id, isouter=True)
        .where(ApiToken.id == token_id)
    )).first()
    if row is None:
        return None
    org_code, system_code, region_code, national = row
    if national:
        return NATIONAL_DOMAIN
    if region_code:
        return region_domain(region_code)
    return org_domain(org_code) if org_code else system_domain(system_code)


async def list_tokens(session: AsyncSession, domains: list[str]) -> list[TokenSummary]:
    refs = [ref for ref in [await resolve_domain(session, d) for d in domains] if ref is not None]
    org_ids = [ref.org_id for ref in refs if ref.org_id is not None]
    system_ids = [ref.system_id for ref in refs if ref.system_id is not None]
    rows = (await session.exec(
        select(ApiToken, AppUser.name, AppUser.email).join(AppUser, AppUser.id == ApiToken.user_id)
        .where(or_(ApiToken.org_id.in_(org_ids), ApiToken.system_id.in_(system_ids)))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )).all()
    domain_of = {(ref.org_id, ref.system_id): ref.domain for ref in refs}
    return [
        TokenSummary(
            token.id, token.name, token.prefix, account_name, account_email, tuple(r for r in token.roles.split(",") if r),
            domain_of[(token.org_id, token.system_id)], token.created_at, token.expires_at, token.last_used_at, token.revoked_at,
        )
        for token, account_name, account_email in rows
    ]


async def issue_at_command_line(
    database: Database, *, email: str, domain: str, roles: list[str], days: int, name: str,
) -> TokenIssued | TokenRefused:
    """``accord issue-token``: the operator issues, recorded in the organisation's audit trail."""
    async with database.session() as session:
        target = await resolve_scope(session, domain)
    if target is None:
        return TokenRefused("", f"There is no {domain}")
    # The operator appends to the trails of organisations the transaction may read.
    async with database.session(AccessContext.for_orgs(target.audit_org_ids)) as session:
        return await issue(session, Actor.operator(), email=email, domain=domain, roles=roles, days=days, name=name)


async def revoke_at_command_line(database: Database, token_id: int) -> TokenRevoked | TokenRefused:
    """``accord revoke-token``."""
    async with database.session() as session:
        domain = await token_domain(session, token_id)
        target = await resolve_scope(session, domain) if domain else None
    if target is None:
        return TokenRefused("", f"There is no token {token_id}")
    async with database.session(AccessContext.for_orgs(target.audit_org_ids)) as session:
        return await revoke(session, Actor.operator(), token_id=token_id)


async def _audit(
    session: AsyncSession, actor: Actor, action: str, token: ApiToken, target: Scope, account: AppUser, *,
    before: dict | None, after: dict,
) -> None:
    for org_id in target.audit_org_ids:
        await record_event(
            session, action=action, object_type=API_TOKEN, object_id=str(token.id), org_id=org_id,
            actor_user_id=actor.user_id, actor_role=actor.role, before=before, after=after, ip=actor.ip,
        )
