"""Reads from a streaming replica (``ACCORD_READ_DATABASE_URL``), with read-your-writes by WAL position.

GraphQL queries and report pages may read from a physical replica of the primary. The replica runs
the same schema, roles and row-level security (it replays the primary's WAL), and its sessions get
the request's access context after BEGIN exactly as the primary's do (server/db/session.py).

Read-your-writes: a request that wrote notes the primary's ``pg_current_wal_lsn()`` after its commit
and hands it to the caller in a signed, short-lived cookie (``READ_AFTER_COOKIE``) and, for a
token, keeps it on the token's row (``api_token.read_after_lsn``), so it holds across app processes. The caller's next requests read the replica only once its
``pg_last_wal_replay_lsn()`` has reached that position; until then they read the primary.

Each process asks the replica where it is at most every ``REFRESH_SECONDS`` (concurrent requests
share one answer). A replica that cannot be reached, or is more than ``max_lag_seconds`` behind, is
not used: reads go to the primary and the change of state is logged once.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

Target = Literal["primary", "replica"]
REFRESH_SECONDS = 0.1
READ_AFTER_COOKIE = "accord_read_after"

_POSITION = text(
    "select pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn, pg_last_wal_receive_lsn() - '0/0'::pg_lsn,"
    " extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())"
)
_CURRENT_LSN = text("select pg_current_wal_lsn() - '0/0'::pg_lsn")


@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    replay_lsn: int  # bytes from 0/0 (pg_lsn as a number)
    lag_seconds: float | None
    reason: str  # why it is not usable ('' when it is)
    checked_at: float


def lag_of(replay_lsn: int | None, receive_lsn: int | None, replay_age: float | None) -> float:
    """How far behind the replica is, in seconds: nothing when it has replayed all it received (an idle
    primary sends nothing, so the last replayed transaction's age says nothing then)."""
    if replay_lsn is None:
        return float("inf")
    if receive_lsn is None or replay_lsn >= receive_lsn:
        return 0.0
    return max(replay_age or 0.0, 0.0)


class ReplicaRouter:
    """Chooses, per read, between the primary and the replica."""

    def __init__(self, url: str, *, connect_args: dict, pool_size: int, max_lag_seconds: float, session_class) -> None:  # type: ignore[no-untyped-def, type-arg]
        self.max_lag_seconds = max_lag_seconds
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=5, pool_pre_ping=True,
            connect_args={**connect_args, "timeout": 2},
        )
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, sync_session_class=session_class, expire_on_commit=False)
        self._state = ReplicaState(False, 0, None, "not checked yet", float("-inf"))
        self._refreshing: asyncio.Task[ReplicaState] | None = None

    @property
    def last_state(self) -> ReplicaState:
        return self._state

    async def state(self) -> ReplicaState:
        """The replica's position, asked at most every REFRESH_SECONDS by this process."""
        if time.monotonic() - self._state.checked_at < REFRESH_SECONDS:
            return self._state
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._refresh())
        return await asyncio.shield(self._refreshing)

    async def _refresh(self) -> ReplicaState:
        before = self._state
        try:
            async with self.engine.connect() as connection:
                in_recovery, replay, receive, age = (await connection.execute(_POSITION)).one()
        except Exception as error:  # noqa: BLE001 (any failure to reach it means: read the primary)
            state = ReplicaState(False, before.replay_lsn, None, f"unreachable ({type(error).__name__})", time.monotonic())
        else:
            lag = lag_of(replay, receive, float(age) if age is not None else None)
            if not in_recovery:
                reason = "not a replica (pg_is_in_recovery() is false)"
            elif lag > self.max_lag_seconds:
                reason = f"{lag:.1f} s behind (more than {self.max_lag_seconds:g} s)"
            else:
                reason = ""
            state = ReplicaState(not reason, int(replay or 0), lag, reason, time.monotonic())
        if state.usable != before.usable or (not state.usable and state.reason.split(" ")[0] != before.reason.split(" ")[0]):
            if state.usable:
                log.info("Read replica in use again (%.1f s behind)", state.lag_seconds or 0.0)
            else:
                log.warning("Read replica not used, reads go to the primary: %s", state.reason)
        self._state = state
        return state

    async def target(self, read_after: int | None) -> Target:
        """Where a read should go: the replica when it is usable and has replayed ``read_after``."""
        state = await self.state()
        if not state.usable or (read_after is not None and state.replay_lsn < read_after):
            return "primary"
        return "replica"

    def unreachable(self, error: BaseException) -> None:
        """A replica session failed to open: read the primary until the next check."""
        self._state = ReplicaState(False, self._state.replay_lsn, None, f"unreachable ({type(error).__name__})", time.monotonic())
        log.warning("Read replica not used, reads go to the primary: %s", self._state.reason)

    async def dispose(self) -> None:
        if self._refreshing is not None and not self._refreshing.done():
            self._refreshing.cancel()
        await self.engine.dispose()


async def current_wal_lsn(engine: AsyncEngine) -> int:
    """The primary's WAL position now, as a number: what a write just committed is at or before."""
    async with engine.connect() as connection:
        return int((await connection.execute(_CURRENT_LSN)).scalar_one())


# The read-after cookie: "<lsn>.<expires>.<signature>", bound to the caller it was given to.

def sign_read_after(secret: bytes, subject: str, lsn: int, expires: int) -> str:
    return f"{lsn}.{expires}.{_signature(secret, subject, lsn, expires)}"


def read_after_from(secret: bytes, subject: str, value: str | None, *, now: float | None = None) -> int | None:
    """The WAL position in a valid, unexpired cookie given to ``subject``; None otherwise."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    lsn, expires = int(parts[0]), int(parts[1])
    if expires < (time.time() if now is None else now):
        return None
    if not hmac.compare_digest(parts[2], _signature(secret, subject, lsn, expires)):
        return None
    return lsn


def _signature(secret: bytes, subject: str, lsn: int, expires: int) -> str:
    return hmac.new(secret, f"read-after|{subject}|{lsn}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]
