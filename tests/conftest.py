"""Shared fixtures: a real PostgreSQL, migrated by Alembic, loaded with the real tenant files.

Where a Docker engine answers, tests use testcontainers; otherwise the embedded PostgreSQL in a
temporary directory. ``ACCORD_TEST_DATABASE_URL`` points the suite at any other server. The
database-backed fixtures start lazily, so the pure-computation tests need no database at all.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from server.db.server import DatabaseUrls, EmbeddedPostgres, to_async_url
from server.db.session import AccessContext, Database
from server.settings import PROJECT_ROOT, Settings

TEST_MONTHS = 24


def _docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, object]]:
    """('url', owner URL) for an external/container server, or ('embedded', EmbeddedPostgres)."""
    if url := os.environ.get("ACCORD_TEST_DATABASE_URL"):
        yield "url", to_async_url(url)
        return
    if _docker_available():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:18.1-alpine", driver="asyncpg") as container:
            yield "url", container.get_connection_url()
        return
    directory = Path(tempfile.mkdtemp(prefix="accord-test-pg-"))
    embedded = EmbeddedPostgres(directory, database="accord_test")
    embedded.start()
    yield "embedded", embedded
    embedded.stop()
    shutil.rmtree(directory, ignore_errors=True)


def database_urls_for(postgres_server: tuple[str, object], database: str) -> DatabaseUrls:
    """URLs for a named database on the test server, creating it when needed."""
    kind, server = postgres_server
    if kind == "embedded":
        assert isinstance(server, EmbeddedPostgres)
        return EmbeddedPostgres(server.data_dir, database=database).start()
    from sqlalchemy.engine import make_url

    base = make_url(str(server))
    _create_database_sync(base, database)
    url = base.set(database=database).render_as_string(hide_password=False)
    return DatabaseUrls(owner=url, app=url, assume_app_role=True)


def _create_database_sync(base, name: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            if not await connection.fetchval("select 1 from pg_database where datname = $1", name):
                await connection.execute(f'create database "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())


@pytest.fixture(scope="session")
def test_settings() -> Settings:
    return Settings(environment="test", data_dir=Path(tempfile.gettempdir()) / "accord-test-unused")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database(postgres_server, test_settings) -> AsyncIterator[Database]:
    """The shared test database: migrated, tenants loaded, demo users and data, assessments stored."""
    db = await seeded_database(database_urls_for(postgres_server, "accord_test"), test_settings)
    yield db
    await db.dispose()


async def seeded_database(urls: DatabaseUrls, test_settings: Settings) -> Database:
    """A database on the test server as the shared one is made (tests/deploy makes its own for app processes)."""
    from server.assessment_store.recompute import recompute_all
    from server.db import migrate
    from server.demo.generate import create_demo_users, generate_demo_measurements
    from server.demo.contracts import generate_demo_notices
    from server.auth.authz import Authorizer
    from server.demo.generate import month_starts
    from server.demo.programmes import generate_demo_programmes
    from server.demo.stories import generate_demo_decisions, grant_demo_autonomy, record_demo_judgements, record_demo_maturity
    from server.tenants.load import load_tenants, organisation_ids, validate_tenants

    db = Database(urls, pool_size=5)
    await migrate.upgrade(db.owner_engine)
    await load_tenants(db, test_settings.tenants_dir)
    async with db.session() as session:
        ids = await organisation_ids(session)
    await create_demo_users(db)
    import datetime as dt

    async with db.session(AccessContext.for_orgs(ids.values(), write=True)) as session:
        tenants = validate_tenants(test_settings.tenants_dir)
        await generate_demo_measurements(session, tenants, months=TEST_MONTHS, until=dt.date(2026, 11, 1))
        await generate_demo_programmes(session, tenants, authorizer=Authorizer(test_settings.policies_dir))
        await generate_demo_notices(session, tenants)
        await generate_demo_decisions(session, tenants, latest=month_starts(1, dt.date(2026, 11, 1))[-1])
    await recompute_all(db)
    await grant_demo_autonomy(db, Authorizer(test_settings.policies_dir), today=dt.date(2026, 11, 10))
    await record_demo_judgements(db, Authorizer(test_settings.policies_dir), tenants, now=dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC))
    # Today, as the ladders last ran (recompute_all): the service re-runs the organisation's ladders with each.
    await record_demo_maturity(db, Authorizer(test_settings.policies_dir), tenants)
    return db


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def org_ids(database) -> dict[str, int]:
    from server.tenants.load import organisation_ids

    async with database.session() as session:
        return await organisation_ids(session)


@pytest.fixture(scope="session")
def services(database, test_settings):  # type: ignore[no-untyped-def]
    from server.app import build_services

    return build_services(test_settings, database)


@pytest.fixture(scope="session")
def app(services):  # type: ignore[no-untyped-def]
    from server.app import create_app

    return create_app(services=services)


@pytest_asyncio.fixture(loop_scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False) as http:
        yield http


async def login(client: httpx.AsyncClient, email: str, password: str | None = None) -> httpx.Response:
    """Log in through the real form, CSRF token and all."""
    from server.demo.users import DEMO_PASSWORD

    page = await client.get("/login")
    token = csrf_from(page.text)
    return await client.post("/login", data={"email": email, "password": password or DEMO_PASSWORD, "csrf_token": token, "next": "/"})


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


async def act_as(database, authorizer, email: str):  # type: ignore[no-untyped-def]
    """(principal, access) for a demo user, resolved exactly as a request would resolve it."""
    from sqlalchemy import select

    from server.auth.authz import Principal, load_principal_assignments, read_directory, resolve_access
    from server.db.models import AppUser

    async with database.session() as session:
        user = (await session.exec(select(AppUser).where(AppUser.email == email))).scalars().one()
        principal = Principal(
            subject=f"user:{user.id}", user_id=user.id, name=user.name, email=user.email,
            assignments=await load_principal_assignments(session, user.id),
        )
        directory = await read_directory(session)
    authorizer.sync_subject(principal)
    return principal, resolve_access(authorizer, principal, directory)
