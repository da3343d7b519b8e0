"""Who is calling: a session cookie (people) or a bearer token (tools), resolved to a Principal."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import HTTPConnection

from server.auth.authz import (
    NATIONAL_DOMAIN, Assignment, Authorizer, Principal, load_principal_assignments, org_domain, region_domain, system_domain,
)
from server.auth.sessions import SESSION_COOKIE, find_live_session
from server.auth.tokens import find_live_token
from server.db.models import ApiToken, AppUser, HealthSystem, Organisation, Region
from sqlmodel.ext.asyncio.session import AsyncSession
from server.settings import Settings


@dataclass(frozen=True)
class Authentication:
    principal: Principal | None
    bad_token: bool = False  # a bearer token was sent but is unknown, expired or revoked


async def authenticate_in(session: AsyncSession, connection: HTTPConnection, settings: Settings, authorizer: Authorizer) -> Authentication:
    """Who is calling, inside a transaction the caller opened (the request boundary resolves access
    in the same one: one transaction, not two, before the request's own work)."""
    authorization = connection.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = await find_live_token(session, authorization[7:].strip())
        if token is None:
            return Authentication(None, bad_token=True)
        user = await session.get(AppUser, token.user_id)
        if user is None or not user.is_active:
            return Authentication(None, bad_token=True)
        scope = await _token_scope(session, token)
        held = {a for a in await load_principal_assignments(session, user.id) if a.domain == scope}
        # A token carries at most the roles it was issued with and its account still holds.
        allowed = {Assignment(role, scope) for role in token.roles.split(",") if role} & held
        principal = Principal(
            subject=f"token:{token.id}", user_id=user.id, name=f"{user.name} (token {token.prefix}…)",
            email=user.email, assignments=tuple(sorted(allowed, key=lambda a: (a.domain, a.role))), via="token",
        )
    else:
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not cookie:
            return Authentication(None)
        web_session = await find_live_session(session, settings, cookie)
        if web_session is None:
            return Authentication(None)
        user = await session.get(AppUser, web_session.user_id)
        if user is None or not user.is_active:
            return Authentication(None)
        home = await session.get(Organisation, user.home_org_id) if user.home_org_id else None
        principal = Principal(
            subject=f"user:{user.id}", user_id=user.id, name=user.name, email=user.email,
            assignments=await load_principal_assignments(session, user.id), via="session",
            csrf_token=web_session.csrf_token, home_org_code=home.code if home else None,
        )
    authorizer.sync_subject(principal)
    return Authentication(principal)


async def _token_scope(session: AsyncSession, token: ApiToken) -> str:
    """The one domain a token acts in: an organisation, a system, a region, or national."""
    if token.national:
        return NATIONAL_DOMAIN
    if token.org_id is not None:
        return org_domain((await session.exec(select(Organisation.code).where(Organisation.id == token.org_id))).scalar_one())
    if token.system_id is not None:
        return system_domain((await session.exec(select(HealthSystem.code).where(HealthSystem.id == token.system_id))).scalar_one())
    return region_domain((await session.exec(select(Region.code).where(Region.id == token.region_id))).scalar_one())
