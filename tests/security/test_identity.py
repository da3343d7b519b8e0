"""The identity-provider seam: an organisation's IdP proves who someone is; Accord maps that to one
of its own accounts (never creating one) and everything after sign-in is unchanged."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from starlette.requests import Request

from server.auth.identity import ExternalIdentity, IdentityProvider, find_account
from tests.security.people import create_person, remove_people

ISSUER = "https://login.example-nhs-idp.test/tenant/v2.0"
PERSON = "Jane.Clinician@NHS.example"


@dataclass
class StubProvider:
    """Stands in for an OIDC client in tests: what a real one returns after validating the ID token."""

    name: str = "Sign in with the test identity provider"
    issuer: str = ISSUER
    allowed_email_domains: Collection[str] = field(default_factory=lambda: {"nhs.example"})
    returns: ExternalIdentity | None = None

    def login_url(self, request: Request, *, next_url: str) -> str:
        return f"{self.issuer}/authorize?state=opaque"

    async def authenticate(self, request: Request) -> ExternalIdentity | None:
        return self.returns


def _identity(**overrides) -> ExternalIdentity:
    fields = {"issuer": ISSUER, "subject": "abc-123", "email": PERSON, "email_verified": True, "name": "Jane"} | overrides
    return ExternalIdentity(**fields)


@pytest_asyncio.fixture(loop_scope="session")
async def account(database):
    user_id = await create_person(database, PERSON.lower(), home="RXW", roles=[("viewer", "org:RXW")])
    yield user_id
    await remove_people(database, [PERSON.lower()])


def test_a_provider_satisfies_the_protocol():
    assert isinstance(StubProvider(), IdentityProvider)


async def test_a_verified_email_in_an_allowed_domain_signs_in_as_the_existing_account(database, account):
    async with database.session() as session:
        user = await find_account(session, StubProvider(), _identity())
    assert user is not None and user.id == account


@pytest.mark.parametrize("overrides", [
    {"email_verified": False},
    {"email": None},
    {"issuer": "https://someone-else.test"},  # a token minted by another provider
    {"email": "jane.clinician@gmail.example"},  # outside the organisation's domains
    {"email": "nobody@nhs.example"},  # no Accord account: an administrator grants access first
])
async def test_anything_less_signs_in_as_no_one(database, account, overrides):
    async with database.session() as session:
        assert await find_account(session, StubProvider(), _identity(**overrides)) is None


async def test_a_switched_off_account_cannot_sign_in_through_the_provider(database, account):
    from sqlalchemy import update

    from server.db.models import AppUser

    async with database.session() as session:
        await session.exec(update(AppUser).where(AppUser.id == account).values(is_active=False))
    async with database.session() as session:
        assert await find_account(session, StubProvider(), _identity()) is None
