"""Stage rows in a temporary table by COPY, inside the session's transaction.

COPY is the fastest way rows reach PostgreSQL from asyncpg (bench_write.py measures it against
unnest parameters); a set-based statement then merges the staged rows into the real table. The
table is created once per connection and emptied at each commit, so it never leaks between requests.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession


async def stage_by_copy(session: AsyncSession, table: str, columns: Sequence[tuple[str, str]], records: list[tuple]) -> None:  # type: ignore[type-arg]
    """Fill ``table`` (name, SQL type per column) with exactly ``records``."""
    connection = await (await session.connection()).get_raw_connection()
    driver = connection.driver_connection  # asyncpg, in the transaction the session began
    await driver.execute(
        f"create temporary table if not exists {table} ({', '.join(f'{name} {kind}' for name, kind in columns)}) on commit delete rows")
    await driver.execute(f"truncate {table}")
    await driver.copy_records_to_table(table, columns=[name for name, _ in columns], records=records)
