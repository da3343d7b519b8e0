"""People's sessions: random id in an HttpOnly cookie, only its hash stored, rotated at login,
ended at logout, with idle and absolute timeouts and throttled failed logins.

Everything here lives in PostgreSQL, none of it in the process: any app process accepts a session
another one started, and the throttle counts the failures made through all of them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import lock_for_transaction
from server.auth.passwords import verify_password
from server.db.models import AppUser, LoginAttempt, WebSession
from server.settings import Settings

SESSION_COOKIE = "accord_session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class LoginOutcome:
    user: AppUser | None
    session_token: str | None = None
    throttled: bool = False


async def attempt_login(
    session: AsyncSession, settings: Settings, *, email: str, password: str, ip: str | None, previous_token: str | None
) -> LoginOutcome:
    """Check credentials; on success end any previous session (no fixation) and start a new one."""
    email = email.strip().lower()
    await _serialise_attempts(session, email, ip)
    window_start = _now() - dt.timedelta(minutes=settings.login_lockout_minutes)
    recent_failures = (await session.exec(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.at >= window_start)
    )).scalar_one()
    from_address = 0
    if ip:
        from_address = (await session.exec(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ip == ip, LoginAttempt.at >= window_start)
        )).scalar_one()
    if recent_failures >= settings.login_max_failures or from_address >= settings.login_max_failures_per_address:
        return LoginOutcome(user=None, throttled=True)
    user = (await session.exec(select(AppUser).where(AppUser.email == email))).scalars().first()
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        session.add(LoginAttempt(email=email, ip=ip))
        return LoginOutcome(user=None)
    await session.exec(delete(LoginAttempt).where(LoginAttempt.email == email))
    if previous_token:
        await end_session(session, previous_token)
    token = secrets.token_urlsafe(32)
    now = _now()
    session.add(WebSession(id_hash=_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now, ip=ip))
    return LoginOutcome(user=user, session_token=token)


# The kind of advisory lock (assessment_store/locks.py): the failed logins of one address or one email address.
LOGIN_ATTEMPTS = 0x41434C47  # 'ACLG'


async def _serialise_attempts(session: AsyncSession, email: str, ip: str | None) -> None:
    """Until this transaction ends, hold the locks of this email address and this client address.

    The throttle counts failures and then records one: without the locks, attempts racing through
    several app processes would all read the same count and pass it. A sign-in holds them for one
    password check; lock_for_transaction takes them in key order, so two logins never wait in a circle.
    """
    names = [f"email:{email}"] + ([f"address:{ip}"] if ip else [])
    await lock_for_transaction(session, LOGIN_ATTEMPTS, (_lock_key(name) for name in names))


def _lock_key(name: str) -> int:
    """A 32-bit key for a name (a collision only makes two names share a lock)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


async def end_session(session: AsyncSession, token: str) -> None:
    await session.exec(update(WebSession).where(WebSession.id_hash == _hash(token), WebSession.ended_at.is_(None)).values(ended_at=_now()))


async def find_live_session(session: AsyncSession, settings: Settings, token: str) -> WebSession | None:
    """The session for this cookie if it has not ended, idled out or passed its absolute lifetime."""
    row = (await session.exec(select(WebSession).where(WebSession.id_hash == _hash(token)))).scalars().first()
    if row is None or row.ended_at is not None:
        return None
    now = _now()
    if now - row.last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes) or now - row.created_at > dt.timedelta(hours=settings.session_absolute_hours):
        row.ended_at = now
        return None
    # Touch at most once a minute: a busy page should not write on every request.
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        row.last_seen_at = now
    return row
