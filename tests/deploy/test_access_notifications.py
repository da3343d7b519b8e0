"""Every table the access cache is built from tells the other processes when it changes (migration 0008)."""
from __future__ import annotations

import asyncio
import re

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.auth.authz import _DIRECTORY_FINGERPRINT, ACCESS_CHANNEL, AccessCache, AccessWatcher


def directory_tables() -> set[str]:
    """The tables the per-request fingerprint reads: exactly those a cached directory depends on."""
    return set(re.findall(r"\bfrom (\w+)\)", str(_DIRECTORY_FINGERPRINT)))


async def test_every_directory_table_notifies_the_access_channel(database):
    tables = directory_tables()
    assert {"organisation", "health_system", "system_membership", "contract"} <= tables
    async with database.owner_engine.connect() as connection:
        notifying = set((await connection.execute(text(
            "select c.relname from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid"
            " where p.proname = 'accord_notify_access' and not t.tgisinternal"
        ))).scalars())
    assert tables <= notifying, f"directory tables without the access trigger: {sorted(tables - notifying)}"


async def test_a_watcher_empties_the_cache_after_a_commit_and_not_after_a_rollback(database):
    cache = AccessCache()
    dsn = make_url(database.urls.owner).set(drivername="postgresql").render_as_string(hide_password=False)
    watcher = AccessWatcher(lambda: asyncpg.connect(dsn), cache, check_seconds=1)
    await watcher.start()
    try:
        assert watcher.listening and cache.notified
        generation = cache._generation
        async with database.session() as session:
            await session.exec(text("update organisation set name = name where code = 'RL1'"))
            await asyncio.sleep(0.3)
            assert cache._generation == generation, "notified before the commit"
        await _until(lambda: cache._generation > generation)

        generation = cache._generation
        async with database.owner_engine.connect() as connection:
            await connection.execute(text("update organisation set name = name where code = 'RL1'"))
            await connection.rollback()
        await asyncio.sleep(0.3)
        assert cache._generation == generation, "a rolled-back change was notified"
    finally:
        await watcher.stop()
    assert not cache.notified, "a stopped watcher must hand back to the per-request fingerprint"


async def test_the_watcher_reconnects_after_losing_its_connection(database):
    cache = AccessCache()
    dsn = make_url(database.urls.owner).set(drivername="postgresql").render_as_string(hide_password=False)
    name = "accord-test-watcher"
    watcher = AccessWatcher(lambda: asyncpg.connect(dsn, server_settings={"application_name": name}), cache, check_seconds=1, retry_seconds=0.1)
    await watcher.start()
    try:
        async with database.owner_engine.connect() as connection:
            await connection.execute(text("select pg_terminate_backend(pid) from pg_stat_activity where application_name = :name"), {"name": name})
        await _until(lambda: not watcher.listening)
        await _until(lambda: watcher.listening)
        generation = cache._generation
        async with database.session() as session:
            await session.exec(text("update contract set commissioner_id = commissioner_id where false"))
        await _until(lambda: cache._generation > generation)
    finally:
        await watcher.stop()


async def _until(condition, seconds: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


def test_the_channel_is_the_one_the_migration_notifies(project_root):
    source = (project_root / "migrations" / "versions" / "0008_operations.py").read_text()
    assert f'ACCESS_CHANNEL = "{ACCESS_CHANNEL}"' in source


async def test_a_listening_process_resolves_cached_access_without_a_statement(database, test_settings):
    """What LISTEN saves: the fingerprint statement every authenticated request ran."""
    from sqlalchemy import event

    from server.auth.authz import Authorizer
    from tests.conftest import act_as

    authorizer = Authorizer(test_settings.policies_dir)
    principal, expected = await act_as(database, authorizer, "stw.lead@accord.example")
    cache = AccessCache()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(database.app_engine.sync_engine, "before_cursor_execute", count)
    try:
        async with database.session() as session:
            first, _ = await cache.resolve(session, authorizer, principal)
            statements.clear()
            await cache.resolve(session, authorizer, principal)
            checked = len(statements)
            cache.notified = True
            statements.clear()
            cached, _ = await cache.resolve(session, authorizer, principal)
            listening = len(statements)
    finally:
        event.remove(database.app_engine.sync_engine, "before_cursor_execute", count)
    assert first == cached == expected
    assert (checked, listening) == (1, 0)
