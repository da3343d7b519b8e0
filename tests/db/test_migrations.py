"""Alembic owns the schema: every migration goes up, down to nothing, and up again."""
from __future__ import annotations

from sqlalchemy import text

from server.db import migrate
from server.db.session import Database
from tests.conftest import database_urls_for


async def test_migrations_go_down_and_up_again(postgres_server):
    database = Database(database_urls_for(postgres_server, "accord_migrations"), pool_size=1)
    try:
        await migrate.upgrade(database.owner_engine)
        assert await migrate.current_revision(database.owner_engine) == migrate.head_revision()
        await migrate.downgrade(database.owner_engine, "base")
        assert await migrate.current_revision(database.owner_engine) is None
        async with database.owner_engine.connect() as connection:
            tables = (await connection.execute(text(
                "select count(*) from information_schema.tables where table_schema = 'public' and table_name <> 'alembic_version'"))).scalar_one()
        assert tables == 0
        await migrate.upgrade(database.owner_engine)
        assert await migrate.current_revision(database.owner_engine) == migrate.head_revision()
    finally:
        await database.dispose()


def test_head_read_from_the_files_is_alembics_head():
    from alembic.script import ScriptDirectory

    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def test_a_current_schema_is_not_migrated_again(postgres_server, monkeypatch):
    """Upgrading a schema already at head does not start alembic (a serving process never loads it)."""
    database = Database(database_urls_for(postgres_server, "accord_migrations_current"), pool_size=1)
    try:
        await migrate.upgrade(database.owner_engine)
        ran = []
        monkeypatch.setattr(migrate, "_run", lambda *args: ran.append(args))
        await migrate.upgrade(database.owner_engine)
        assert ran == []
        async with database.owner_engine.begin() as connection:
            await connection.execute(text("update alembic_version set version_num = '0001'"))
        await migrate.upgrade(database.owner_engine)
        assert [args[1:] for args in ran] == [("upgrade", "head")]
    finally:
        await database.dispose()


async def test_every_tenant_table_forces_row_level_security(database):
    async with database.owner_engine.connect() as connection:
        rows = (await connection.execute(text(
            "select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_class c"
            " join information_schema.columns col on col.table_name = c.relname and col.column_name = 'org_id'"
            " where c.relkind in ('r', 'p') and col.table_schema = 'public'"))).all()
    unprotected = [name for name, enabled, forced in rows if not (enabled and forced) and name not in ("role_assignment", "api_token")]
    assert rows and not unprotected, f"tables with org_id but without forced RLS: {unprotected}"


async def test_application_role_neither_owns_tables_nor_bypasses_rls(database):
    async with database.session() as session:
        role = (await session.exec(text("select current_user"))).scalar_one()
        attributes = (await session.exec(text("select rolsuper, rolbypassrls from pg_roles where rolname = current_user"))).one()
        owned = (await session.exec(text("select count(*) from pg_tables where schemaname = 'public' and tableowner = current_user"))).scalar_one()
    assert role == "accord_app"
    assert tuple(attributes) == (False, False)
    assert owned == 0
