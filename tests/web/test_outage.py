"""A database outage under a running app: honest 503s with Retry-After while it lasts, and recovery after.

The test has its own embedded PostgreSQL (not the suite's shared one), stops it with the app
running, and starts it again.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest_asyncio

from server.app import build_services, create_app
from server.db import migrate
from server.db.server import EmbeddedPostgres
from server.db.session import Database
from tests.conftest import csrf_from

GRAPHQL_QUERY = {"query": "{ organisations { nodes { code } } }"}


@dataclass
class Outage:
    server: EmbeddedPostgres
    client: httpx.AsyncClient


@pytest_asyncio.fixture(loop_scope="session")
async def outage(test_settings) -> AsyncIterator[Outage]:
    directory = Path(tempfile.mkdtemp(prefix="accord-outage-pg-"))
    server = EmbeddedPostgres(directory, database="accord_outage")
    database = Database(server.start(), pool_size=2)
    try:
        await migrate.upgrade(database.owner_engine)
        app = create_app(services=build_services(test_settings, database))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50003), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Outage(server, client)
    finally:
        await database.dispose()
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def _log_in_attempt(client: httpx.AsyncClient) -> httpx.Response:
    """A login form post: it has to read the database to answer."""
    token = csrf_from((await client.get("/login")).text)
    return await client.post("/login", data={"email": "nobody@accord.example", "password": "wrong", "csrf_token": token, "next": "/"})


async def _graphql_with_a_token(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/graphql", json=GRAPHQL_QUERY, headers={"authorization": "Bearer acc_not-a-real-token"})


async def test_pages_and_api_say_unavailable_while_the_database_is_down_and_recover_after(outage):
    client = outage.client
    refused_login = (await _log_in_attempt(client)).status_code  # wrong password: the form again, with the error
    assert refused_login < 500
    assert (await _graphql_with_a_token(client)).status_code == 401

    outage.server.stop()
    try:
        page = await _log_in_attempt(client)
        assert page.status_code == 503
        assert int(page.headers["retry-after"]) > 0
        assert "nhsuk-header" in page.text and "cannot reach its database" in page.text
        assert "content-security-policy" in page.headers

        api = await _graphql_with_a_token(client)
        assert api.status_code == 503 and "retry-after" in api.headers
        assert api.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

        assert (await client.get("/readyz")).status_code == 503
    finally:
        outage.server.start()

    assert (await _log_in_attempt(client)).status_code == refused_login
    assert (await _graphql_with_a_token(client)).status_code == 401
    assert (await client.get("/readyz")).status_code == 200
