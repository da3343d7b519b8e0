"""Who is calling: a session cookie (people) or a bearer token (tools), resolved to a Principal."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from server.auth.authz import Assignment, Authorizer, Principal, load_principal_assignments
from server.auth.sessions import SESSION_COOKIE, find_live_session
from server.auth.tokens import find_live_token
from server.db.models import AppUser, Organisation
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
        if token is None:  # unknown, expired, revoked, or its account switched off
            return Authentication(None, bad_token=True)
        # A token carries at most the roles it was issued with and its account still holds there.
        allowed = sorted(set(token.roles) & token.held)
        principal = Principal(
            subject=f"token:{token.id}", user_id=token.user_id, name=f"{token.user_name} (token {token.prefix}…)",
            email=token.user_email, assignments=tuple(Assignment(role, token.domain) for role in allowed), via="token",
            read_after=token.read_after,
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
