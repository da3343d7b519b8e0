"""Alembic, configured in code (no alembic.ini): upgrade, downgrade and 'is the schema current?'.

Alembic is imported only when a migration runs: its script machinery (mako, pygments, every
migration module) holds ~12 MB that a serving process whose schema is current never needs. The
head revision is read from the migration files' own ``revision``/``down_revision`` lines
(tests/db/test_migrations.py checks it against alembic's).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from alembic.config import Config

VERSIONS = PROJECT_ROOT / "migrations" / "versions"
_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the schema; at head, also create the yearly partitions due (server/db/partitions.py)."""
    from server.db.partitions import create_partitions_ahead

    async with engine.begin() as connection:
        if revision != "head" or await _stored_revision(connection) != head_revision():
            await connection.run_sync(_run, "upgrade", revision)
        if revision == "head":
            await create_partitions_ahead(connection)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


def _run(connection, direction: str, revision: str) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The revision no migration file revises (the chain is single: alembic refuses branches)."""
    revisions, revised = set(), set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text()
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if (down := _DOWN_REVISION.search(source)) and down.group(1):
            revised.add(down.group(1))
    heads = revisions - revised
    if len(heads) > 1:
        raise RuntimeError(f"migrations/versions has more than one head: {sorted(heads)}")
    return next(iter(heads), None)


async def _stored_revision(connection) -> str | None:  # type: ignore[no-untyped-def]
    if (await connection.execute(text("select to_regclass('alembic_version')"))).scalar() is None:
        return None
    return (await connection.execute(text("select version_num from alembic_version"))).scalar()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await _stored_revision(connection)
