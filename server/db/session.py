"""Engines and per-request sessions. Each transaction carries the organisations it may touch.

Row-level security reads three transaction-local settings, set right after BEGIN:
``app.org_ids`` (organisations readable in full), ``app.contract_org_ids`` (providers whose
contractual indicators a commissioner may read) and ``app.write_org_ids`` (organisations this
request may change). With no access context all three are empty and every policy returns nothing.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
import sqlmodel
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.replica import ReplicaRouter, Target, current_wal_lsn
from server.db.server import APP_ROLE, DatabaseUrls


@dataclass(frozen=True)
class AccessContext:
    """What one request may see and change, resolved before the transaction opens."""

    read_org_ids: frozenset[int] = frozenset()
    write_org_ids: frozenset[int] = frozenset()
    contract_org_ids: frozenset[int] = frozenset()
    user_id: int | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def for_orgs(cls, org_ids: Iterable[int], *, write: bool = False, user_id: int | None = None) -> AccessContext:
        ids = frozenset(org_ids)
        return cls(read_org_ids=ids, write_org_ids=ids if write else frozenset(), user_id=user_id)


NO_ACCESS = AccessContext()


def _csv(ids: frozenset[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))


class AccordSession(sqlmodel.Session):
    """Sync session class behind AsyncSession; its after_begin hook applies the access context."""


_SET_ACCESS = text(
    "select set_config('app.org_ids', :read, true), set_config('app.write_org_ids', :write, true),"
    " set_config('app.contract_org_ids', :contract, true), set_config('app.user_id', :user, true)"
)


def _access_settings(access: AccessContext, user_id: int | None) -> dict[str, str]:
    return {
        "read": _csv(access.read_org_ids),
        "write": _csv(access.write_org_ids),
        "contract": _csv(access.contract_org_ids),
        "user": "" if user_id is None else str(user_id),
    }


@event.listens_for(AccordSession, "after_begin")
def _apply_access_context(session: AccordSession, transaction, connection) -> None:  # type: ignore[no-untyped-def]
    access: AccessContext = session.info.get("access", NO_ACCESS)
    connection.execute(_SET_ACCESS, _access_settings(access, access.user_id))


async def apply_access(session: AsyncSession, access: AccessContext) -> None:
    """Set the open transaction's row-level security context to ``access``, keeping the session's user.

    Only the engine does this, for work the request's own context may not do (a system's figures
    recomputed in a member's submission, server/assessment_store/members.py), and it sets the
    session's own context back when that work is done.
    """
    own: AccessContext = session.info.get("access", NO_ACCESS)
    await session.exec(_SET_ACCESS, params=_access_settings(access, own.user_id))


@asynccontextmanager
async def acting_for(session: AsyncSession, access: AccessContext) -> AsyncIterator[None]:
    """Within this block, the transaction's row-level security context is ``access``; then the session's own again.

    Not restored when the block raises: the transaction is then rolled back anyway. Whatever the
    session holds unwritten is written first, under the context it was made in.
    """
    await session.flush()
    await apply_access(session, access)
    yield
    await apply_access(session, session.info.get("access", NO_ACCESS))


async def give_access(session: AsyncSession, access: AccessContext) -> None:
    """Give an open transaction the request's access context for good (row-level security reads
    it from now on, and so does any later work on the session): the request boundary
    authenticates with none, then reads on in the same transaction (web/middleware.py)."""
    session.info["access"] = access
    await apply_access(session, access)


class Database:
    """The owner engine (migrations, role set-up), the application engine (every request) and, when
    configured, a read replica for GraphQL queries and report pages (``read_session``)."""

    def __init__(self, urls: DatabaseUrls, *, pool_size: int = 10, max_replica_lag_seconds: float = 5.0):
        self.urls = urls
        connect_args = {"server_settings": {"role": APP_ROLE}} if urls.assume_app_role else {}
        # pool_timeout: a request waits this long for a connection, then is answered 503 (not 500).
        self.app_engine: AsyncEngine = create_async_engine(
            urls.app, pool_size=pool_size, max_overflow=pool_size, pool_timeout=5, pool_pre_ping=True, connect_args=connect_args
        )
        self._owner_engine: AsyncEngine | None = None
        self._sessions = async_sessionmaker(
            self.app_engine, class_=AsyncSession, sync_session_class=AccordSession, expire_on_commit=False
        )
        self.reads: Counter[str] = Counter()  # read_session transactions by target (Prometheus: server/observability)
        self.replica: ReplicaRouter | None = None
        if urls.read is not None:
            self.replica = ReplicaRouter(
                urls.read, connect_args=connect_args, pool_size=pool_size, max_lag_seconds=max_replica_lag_seconds, session_class=AccordSession,
            )

    @property
    def owner_engine(self) -> AsyncEngine:
        if self._owner_engine is None:
            self._owner_engine = create_async_engine(self.urls.owner, pool_size=2, max_overflow=0)
        return self._owner_engine

    @asynccontextmanager
    async def session(self, access: AccessContext = NO_ACCESS) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends cleanly, rolled back otherwise."""
        async with self._sessions() as session:
            session.info["access"] = access
            async with session.begin():
                yield session

    async def read_target(self, read_after: int | None = None) -> Target:
        """Where a read-only request should read: the replica when one is configured, usable and has
        replayed the caller's last write (``read_after``, a WAL position), else the primary."""
        if self.replica is None:
            return "primary"
        return await self.replica.target(read_after)

    @asynccontextmanager
    async def read_session(self, access: AccessContext = NO_ACCESS, *, target: Target | None = None,
                           read_after: int | None = None) -> AsyncIterator[AsyncSession]:
        """One read-only transaction with ``access``: on the replica when ``target`` (or, unset, the
        replica's position against ``read_after``) says so, otherwise on the primary. Never write in it."""
        if self.replica is None:
            self.reads["primary"] += 1
            async with self.session(access) as session:
                yield session
            return
        if target is None:
            target = await self.replica.target(read_after)
        if target == "replica":
            try:
                manager = self._replica_session(access)
                session = await manager.__aenter__()
            except (DBAPIError, OSError, asyncpg.PostgresError) as error:  # it went away since the last check
                self.replica.unreachable(error)
            else:
                self.reads["replica"] += 1
                try:
                    yield session
                except BaseException as error:
                    await manager.__aexit__(type(error), error, error.__traceback__)
                    raise
                else:
                    await manager.__aexit__(None, None, None)
                return
        self.reads["primary"] += 1
        async with self.session(access) as session:
            yield session

    @asynccontextmanager
    async def _replica_session(self, access: AccessContext) -> AsyncIterator[AsyncSession]:
        assert self.replica is not None
        async with self.replica.sessions() as session:
            session.info["access"] = access
            async with session.begin():
                await session.connection()  # BEGIN (and the access context) now: a dead replica fails here
                yield session

    async def current_wal_lsn(self) -> int:
        """The primary's WAL position now (read-your-writes: server/db/replica.py)."""
        return await current_wal_lsn(self.app_engine)

    def session_factory(self, access: AccessContext):  # type: ignore[no-untyped-def]
        """For strawberry DataLoaders: each batch gets its own session, with the same access."""
        return lambda: self.session(access)

    async def dispose(self) -> None:
        await self.app_engine.dispose()
        if self.replica is not None:
            await self.replica.dispose()
        if self._owner_engine is not None:
            await self._owner_engine.dispose()
