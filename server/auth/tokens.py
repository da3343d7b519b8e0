"""API tokens for tools: shown once, stored as SHA-256, scoped, expiring and revocable."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import ApiToken

TOKEN_PREFIX = "acc_"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time the full value exists outside the caller's hands


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_token(
    session: AsyncSession, *, name: str, user_id: int, roles: list[str], org_id: int | None = None,
    system_id: int | None = None, region_id: int | None = None, national: bool = False,
    lifetime: dt.timedelta = dt.timedelta(days=90),
) -> IssuedToken:
    """A new token for exactly one scope: an organisation, a system, a region, or national."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name, prefix=secret[:10], token_hash=_hash(secret), user_id=user_id, org_id=org_id, system_id=system_id,
        region_id=region_id, national=national, roles=",".join(sorted(roles)), expires_at=dt.datetime.now(dt.UTC) + lifetime,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token=token, secret=secret)


async def find_live_token(session: AsyncSession, secret: str) -> ApiToken | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (await session.exec(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))).scalars().first()
    now = dt.datetime.now(dt.UTC)
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    token.last_used_at = now
    return token


async def revoke_token(session: AsyncSession, token_id: int) -> None:
    token = await session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = dt.datetime.now(dt.UTC)
