"""The per-request GraphQL context: who is asking, what they may touch, and how to open sessions."""
from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from strawberry.types import Info as StrawberryInfo

from server.auth.authz import Authorizer, Principal, org_domain
from server.db.session import AccessContext, Database


class NotAuthenticated(Exception):
    """No valid session or token: the caller must log in or send a live token."""


class NotAuthorised(Exception):
    """Authenticated, but the accountability matrix does not allow this."""


@dataclass
class AccordContext:
    request: Request
    principal: Principal | None
    access: AccessContext
    database: Database
    authorizer: Authorizer
    loaders: dict[str, Any] = field(default_factory=dict)

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A fresh session per resolver or loader batch (strawberry resolves siblings concurrently)."""
        return self.database.session(self.access)

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


Info = StrawberryInfo[AccordContext, None]
