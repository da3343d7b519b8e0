"""API tokens: issued once and audited, listed without secrets, revoked and expired at once,
never carrying more than the account holds — through the pages, the services and the command line."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from server.admin import tokens as token_admin
from server.admin.authority import Actor
from server.db.models import ApiToken, AuditEvent
from server.db.session import AccessContext, Database
from tests.conftest import csrf_from, login
from tests.security.people import create_person, remove_people

TOOL = "returns.tool@security.example"
ORGANISATIONS = "{ organisations { nodes { code } } }"


@pytest_asyncio.fixture(loop_scope="session")
async def tool_account(database):
    user_id = await create_person(database, TOOL, home="QOC", roles=[("performance_manager", "org:QOC"), ("viewer", "org:QOC")])
    yield user_id
    await remove_people(database, [TOOL])


async def _graphql(client, secret: str, query: str = ORGANISATIONS) -> dict:
    response = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {secret}"})
    # A dead token is refused outright (401 with a Bearer challenge), never answered as anonymous.
    assert response.status_code == 200 or (response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer"))
    return response.json()


def _refused(body: dict) -> bool:
    return "data" not in body and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _issue(database, **overrides) -> token_admin.TokenIssued:
    fields = {"email": TOOL, "domain": "org:QOC", "roles": ["viewer"], "days": 30, "name": "returns"} | overrides
    async with database.session(AccessContext.for_orgs([await _org_id(database, "QOC")])) as session:
        issued = await token_admin.issue(session, Actor.operator(), **fields)
    assert isinstance(issued, token_admin.TokenIssued), issued
    return issued


async def _org_id(database, code: str) -> int:
    from server.db.models import Organisation

    async with database.session() as session:
        return (await session.exec(select(Organisation.id).where(Organisation.code == code))).scalar_one()


async def _events(database, org_id: int, token_id: int) -> list[AuditEvent]:
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        rows = await session.exec(select(AuditEvent).where(AuditEvent.object_type == "api_token", AuditEvent.object_id == str(token_id)).order_by(AuditEvent.id))
        return list(rows.scalars())


async def test_an_administrator_issues_a_token_shown_once_and_audited_without_its_secret(client, database, tool_account):
    await login(client, "admin@accord.example")
    form = await client.get("/organisations/QOC/admin/tokens")
    assert form.status_code == 200
    response = await client.post("/organisations/QOC/admin/tokens", data={
        "csrf_token": csrf_from(form.text), "name": "National returns", "email": TOOL, "roles": ["performance_manager"], "days": "30"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    secret = re.search(r'id="token-secret">(acc_[^<]+)<', response.text).group(1)

    assert [o["code"] for o in (await _graphql(client, secret))["data"]["organisations"]["nodes"]] == ["QOC"]

    listing = await client.get("/organisations/QOC/admin/tokens")
    assert "National returns" in listing.text and secret[:10] in listing.text
    assert secret not in listing.text
    async with database.session() as session:
        token = (await session.exec(select(ApiToken).where(ApiToken.prefix == secret[:10]))).scalars().one()
    assert token.roles == "performance_manager" and token.token_hash != secret
    [issued] = await _events(database, await _org_id(database, "QOC"), token.id)
    assert issued.action == "api_token.issued" and issued.actor_role == "tenant_admin" and issued.ip == "127.0.0.1"
    assert issued.after["roles"] == ["performance_manager"] and issued.after["account"] == TOOL
    assert secret not in str(issued.after) and token.token_hash not in str(issued.after)


async def test_a_revoked_token_is_refused_on_its_very_next_request(client, database, tool_account):
    issued = await _issue(database)
    assert not _refused(await _graphql(client, issued.secret))
    await login(client, "admin@accord.example")
    page = await client.get("/organisations/QOC/admin/tokens")
    response = await client.post(f"/organisations/QOC/admin/tokens/{issued.token_id}/revoke", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert _refused(await _graphql(client, issued.secret))
    events = await _events(database, await _org_id(database, "QOC"), issued.token_id)
    assert [e.action for e in events] == ["api_token.issued", "api_token.revoked"]
    assert events[1].before["revoked_at"] is None and events[1].after["revoked_at"]


async def test_an_expired_token_is_refused(client, database, tool_account):
    issued = await _issue(database)
    async with database.session() as session:
        await session.exec(update(ApiToken).where(ApiToken.id == issued.token_id).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert _refused(await _graphql(client, issued.secret))


async def test_a_token_loses_a_role_as_soon_as_its_account_does(client, database, tool_account):
    issued = await _issue(database, roles=["viewer"])
    assert [o["code"] for o in (await _graphql(client, issued.secret))["data"]["organisations"]["nodes"]] == ["QOC"]
    await create_person(database, TOOL, home="QOC", roles=[("performance_manager", "org:RXW")])
    assert (await _graphql(client, issued.secret))["data"]["organisations"]["nodes"] == []


@pytest.mark.parametrize("overrides,field", [
    ({"roles": ["executive"]}, "roles"),  # not held by the account
    ({"roles": []}, "roles"),
    ({"days": 366}, "days"),
    ({"days": 0}, "days"),
    ({"name": " "}, "name"),
    ({"email": "nobody@security.example"}, "email"),
    ({"domain": "org:RXW"}, "roles"),  # the account holds nothing at SaTH
])
async def test_issuing_refuses_what_it_should(database, tool_account, overrides, field):
    fields = {"email": TOOL, "domain": "org:QOC", "roles": ["viewer"], "days": 30, "name": "returns"} | overrides
    async with database.session(AccessContext.for_orgs([await _org_id(database, "QOC")])) as session:
        result = await token_admin.issue(session, Actor.operator(), **fields)
    assert isinstance(result, token_admin.TokenRefused) and result.field == field


async def test_another_organisations_administrator_cannot_see_or_revoke_a_token(client, database, tool_account):
    issued = await _issue(database)
    await create_person(database, "sath.admin@security.example", home="RXW", roles=[("tenant_admin", "org:RXW")])
    try:
        await login(client, "sath.admin@security.example")
        listing = await client.get("/organisations/RXW/admin/tokens")
        assert issued.prefix not in listing.text
        for path in (f"/organisations/RXW/admin/tokens/{issued.token_id}/revoke", f"/organisations/QOC/admin/tokens/{issued.token_id}/revoke"):
            assert (await client.post(path, data={"csrf_token": csrf_from(listing.text)})).status_code == 404
        assert not _refused(await _graphql(client, issued.secret))
    finally:
        await remove_people(database, ["sath.admin@security.example"])


def test_the_command_line_issues_and_revokes_tokens_audited_as_the_operator(database, tool_account, monkeypatch, capsys):
    """``accord issue-token`` / ``accord revoke-token`` against the test database (their own event loop)."""
    from server import cli

    @contextlib.asynccontextmanager
    async def test_database(settings):  # type: ignore[no-untyped-def]
        fresh = Database(database.urls, pool_size=1)
        try:
            yield fresh
        finally:
            await fresh.dispose()

    monkeypatch.setattr(cli, "open_database", test_database)
    assert cli.main(["issue-token", "--email", TOOL, "--org", "QOC", "--roles", "viewer,performance_manager", "--days", "7"]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("acc_")
    token_id = asyncio.run(_token_id_by_prefix(database.urls, secret[:10]))
    assert cli.main(["issue-token", "--email", TOOL, "--org", "QOC", "--roles", "executive"]) == 2
    assert "does not hold the role executive" in capsys.readouterr().err
    assert cli.main(["revoke-token", str(token_id)]) == 0
    assert cli.main(["revoke-token", str(token_id)]) == 2
    actions = asyncio.run(_token_audit(database.urls, token_id))
    assert actions == [("api_token.issued", "operator", None), ("api_token.revoked", "operator", None)]


async def _token_id_by_prefix(urls, prefix: str) -> int:  # type: ignore[no-untyped-def]
    fresh = Database(urls, pool_size=1)
    try:
        async with fresh.session() as session:
            return (await session.exec(select(ApiToken.id).where(ApiToken.prefix == prefix))).scalar_one()
    finally:
        await fresh.dispose()


async def _token_audit(urls, token_id: int) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    fresh = Database(urls, pool_size=1)
    try:
        async with fresh.session() as session:
            org_ids = list((await session.exec(select(ApiToken.org_id).where(ApiToken.id == token_id))).scalars())
        async with fresh.session(AccessContext.for_orgs(org_ids)) as session:
            rows = await session.exec(select(AuditEvent.action, AuditEvent.actor_role, AuditEvent.actor_user_id)
                                      .where(AuditEvent.object_type == "api_token", AuditEvent.object_id == str(token_id)).order_by(AuditEvent.id))
            return [tuple(row) for row in rows.all()]
    finally:
        await fresh.dispose()
