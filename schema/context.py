"""The per-request GraphQL context: who is asking, what they may touch, and one transaction.

A query is answered from one transaction opened with the request's access context (row-level
security applies to it): resolvers and DataLoader batches take turns on it through ``read``, so
sibling fields resolved concurrently by strawberry never share the session at the same moment,
and each level of a query costs one statement however many objects it holds. The transaction is
closed by ``RequestTransaction`` when the operation ends. Mutations open their own transaction per
field (``session()``), committed when the service function returns, as the pages do.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types import Info as StrawberryInfo
from strawberry.types.graphql import OperationType

from server.auth.authz import Authorizer, Principal, org_domain
from server.db.replica import Target
from server.db.session import AccessContext, Database

T = TypeVar("T")


class NotAuthenticated(Exception):
    """No valid session or token: the caller must log in or send a live token."""


class NotAuthorised(Exception):
    """Authenticated, but the accountability matrix does not allow this."""


class BadInput(Exception):
    """An argument the caller can correct (a bad cursor, an unknown enum-like value)."""


@dataclass
class AccordContext:
    request: Request | None
    principal: Principal | None
    access: AccessContext
    database: Database
    authorizer: Authorizer
    loaders: dict[str, Any] = field(default_factory=dict)
    # Lists whose selection maps to columns may be answered as JSON built by PostgreSQL
    # (schema/prerender.py): only where the answer is serialised by orjson (the HTTP view).
    sql_json: bool = False
    request_session: AsyncSession | None = None  # the request's own transaction, already given ``access``
    # With a read replica (server/db/replica.py): where the request boundary chose to read, and the
    # caller's last write; a mutation's reads stay on the primary, where it wrote.
    read_target: Target | None = None
    read_after: int | None = None
    primary_only: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _shared: AbstractAsyncContextManager[AsyncSession] | None = field(default=None, repr=False)
    _session: AsyncSession | None = field(default=None, repr=False)

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A transaction of its own (mutations: committed when the block ends)."""
        return self.database.session(self.access)

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` on the request's one read transaction: the one that authenticated the
        request when the request boundary kept it (web/middleware.py), else opened on first use."""
        async with self._lock:
            if self._session is None:
                if self.request_session is not None:
                    self._session = self.request_session  # ended by the request boundary, not here
                else:
                    target = "primary" if self.primary_only else self.read_target
                    self._shared = self.database.read_session(self.access, target=target, read_after=self.read_after)
                    self._session = await self._shared.__aenter__()
            return await work(self._session)

    async def close(self) -> None:
        # The loaders and their batches refer to one another and to this context: left as they are,
        # the request's rows would wait for the cyclic garbage collector, and memory under load
        # would grow with every request until it ran.
        for loader in self.loaders.values():
            clear = getattr(loader, "clear_all", None)
            if clear is not None:
                clear()
        self.loaders.clear()
        shared, self._shared, self._session = self._shared, None, None
        if shared is not None:
            await shared.__aexit__(None, None, None)

    def loader(self, name: str, factory: Callable[[], T]) -> T:
        """The request's DataLoader called ``name`` (created on first use: loaders live per request)."""
        if name not in self.loaders:
            self.loaders[name] = factory()
        return self.loaders[name]  # type: ignore[no-any-return]

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise NotAuthenticated("Log in or send an API token (Authorization: Bearer) to use this API")
        return self.principal

    def require(self, org_code: str, obj: str, act: str) -> Principal:
        principal = self.require_principal()
        if not self.authorizer.allows(principal, org_domain(org_code), obj, act):
            raise NotAuthorised(f"You may not {act} {obj.replace('_', ' ')} for {org_code}")
        return principal

    def can_read(self, org_id: int) -> bool:
        return org_id in self.access.read_org_ids or org_id in self.access.contract_org_ids

    @property
    def readable_org_ids(self) -> frozenset[int]:
        return self.access.read_org_ids | self.access.contract_org_ids


class RequestTransaction(SchemaExtension):
    """Closes the request's read transaction when the operation has been answered; a mutation reads
    the primary and tells the request boundary it wrote (read-your-writes, server/db/replica.py)."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        if isinstance(context, AccordContext) and self.execution_context.operation_type == OperationType.MUTATION:
            context.primary_only = True
            if context.request is not None:
                context.request.state.wrote = True
        yield

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, AccordContext):
                await context.close()


Info = StrawberryInfo[AccordContext, None]
