"""The seam for an organisation's identity provider (NHS Identity / CIS2, Entra ID, any OIDC provider).

Accord authenticates people itself today (argon2 passwords, ``server.auth.sessions``). An
organisation that runs its own IdP plugs in an :class:`IdentityProvider`: it completes the
provider's sign-in (the OIDC authorisation-code flow with PKCE) and hands back an
:class:`ExternalIdentity`. Accord then maps that identity to one of *its* accounts with
:func:`find_account` and starts an ordinary Accord session, so everything after sign-in — roles,
Casbin, row-level security, CSRF, timeouts, the audit trail — is unchanged. The provider proves who
someone is; Accord alone decides what they may do. See ``server/auth/README.md``.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

from server.db.models import AppUser


@dataclass(frozen=True)
class ExternalIdentity:
    """Who the provider says this is, taken from a validated ID token (signature, iss, aud, exp, nonce)."""

    issuer: str  # the ``iss`` claim: identifies the provider
    subject: str  # the ``sub`` claim: stable for this person at this provider
    email: str | None
    email_verified: bool
    name: str | None = None
    claims: dict[str, object] = field(default_factory=dict)  # e.g. CIS2 ``nhsid_useruid``, Entra ``tid``, ``acr``


@runtime_checkable
class IdentityProvider(Protocol):
    """One organisation's sign-in. Implementations hold their client id, secret and discovery URL."""

    name: str  # shown on the login page: "Sign in with NHS CIS2 Authentication"
    issuer: str
    allowed_email_domains: Collection[str]  # e.g. {"nhs.net"}; an identity outside them is refused

    def login_url(self, request: Request, *, next_url: str) -> str:
        """Where to send the browser to sign in (state, nonce and PKCE verifier kept server-side)."""
        ...

    async def authenticate(self, request: Request) -> ExternalIdentity | None:
        """Complete the callback: exchange the code, validate the ID token; None if anything fails."""
        ...


async def find_account(session: AsyncSession, provider: IdentityProvider, identity: ExternalIdentity) -> AppUser | None:
    """The active Accord account this identity signs in as, or None (never creates one: an admin grants access).

    Matching is by verified email within the provider's allowed domains. Mapping by ``(issuer,
    subject)`` is stronger — an email can be reassigned — and needs an ``app_user_identity`` table
    (issuer, subject, user_id, unique on the first two), to be added by migration when the first
    provider is connected; this function is the one place that would change.
    """
    if identity.issuer != provider.issuer or not identity.email or not identity.email_verified:
        return None
    email = identity.email.strip().lower()
    domain = email.rpartition("@")[2]
    if domain not in {d.lower() for d in provider.allowed_email_domains}:
        return None
    user = (await session.exec(select(AppUser).where(func.lower(AppUser.email) == email))).scalars().first()
    return user if user is not None and user.is_active else None
