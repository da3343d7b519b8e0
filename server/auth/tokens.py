"""API tokens for tools: shown once, stored as SHA-256, scoped, expiring and revocable."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import ApiToken
from server.db.records import fetch_records

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


class LiveToken(NamedTuple):
    """A live token with everything a request needs to act on it, read in one statement."""

    id: int
    prefix: str
    roles: tuple[str, ...]  # the roles it was issued with
    held: frozenset[str]  # the roles its account holds in its scope now
    domain: str  # org:<code>, system:<code>, region:<code> or national
    user_id: int
    user_name: str
    user_email: str
    read_after: int | None = None  # its last write's WAL position (server/db/replica.py)


# The token, its account (active), its one scope as a Casbin domain, and the roles the account
# holds in exactly that scope: one statement where a token request used to take four.
_LIVE_TOKEN = """
select t.id, t.prefix, t.roles, t.last_used_at, u.id, u.name, u.email, t.read_after_lsn,
       case when t.national then 'national' else coalesce('org:' || o.code, 'system:' || s.code, 'region:' || r.code) end,
       array(select ra.role from role_assignment ra
             where ra.user_id = t.user_id and ra.org_id is not distinct from t.org_id and ra.system_id is not distinct from t.system_id
               and ra.region_id is not distinct from t.region_id and ra.national = t.national)
from api_token t
join app_user u on u.id = t.user_id and u.is_active
left join organisation o on o.id = t.org_id
left join health_system s on s.id = t.system_id
left join region r on r.id = t.region_id
where t.token_hash = :token_hash and t.revoked_at is null and t.expires_at > now()
"""
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is for people judging a token, not an access log


async def find_live_token(session: AsyncSession, secret: str) -> LiveToken | None:
    """The token for this secret if it is live and its account active; its use noted at most once a minute
    (a write on every request would make each one commit, and concurrent requests queue on the row)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    rows = await fetch_records(session, _LIVE_TOKEN, {"token_hash": _hash(secret)})
    if not rows:
        return None
    token_id, prefix, roles, last_used_at, user_id, user_name, user_email, read_after, domain, held = rows[0]
    now = dt.datetime.now(dt.UTC)
    if last_used_at is None or now - last_used_at > TOUCH_EVERY:
        await session.exec(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        session.info["wrote"] = True  # the request boundary commits this at once (web/middleware.py)
    return LiveToken(token_id, prefix, tuple(r for r in roles.split(",") if r), frozenset(held), domain, user_id, user_name, user_email, read_after)


async def note_token_write(database, token_id: int, lsn: int) -> None:  # type: ignore[no-untyped-def]
    """Keep the primary's WAL position after a request made with this token wrote: whichever app
    process answers the tool next reads the primary until the replica has replayed it."""
    async with database.session() as session:
        await session.exec(update(ApiToken).where(ApiToken.id == token_id).values(
            read_after_lsn=func.greatest(func.coalesce(ApiToken.read_after_lsn, 0), lsn)))


async def revoke_token(session: AsyncSession, token_id: int) -> None:
    token = await session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = dt.datetime.now(dt.UTC)
