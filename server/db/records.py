"""Long reads fetched through the driver, on the session's own transaction.

SQLAlchemy's result layer costs several microseconds a row for a wide ``text()`` statement: the
1,250 indicator rows (16 columns) of one system's position took 11 ms of CPU through
``session.exec(...).all()`` against 1.8 ms through asyncpg on the same connection (measured for
tests/benchmarks/bench_graphql.py). Reads that return long lists and need nothing from the ORM use
:func:`fetch_records`: the statement runs on the connection the session already holds, inside its
transaction, so the request's access context and row-level security apply exactly as they do to
every other statement, and SQLAlchemy's ``before/after_cursor_execute`` listeners hear it like any
other (the statement-count tests count it). The records index like rows (``record[0]``) and unpack
like tuples.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

# ``:name`` parameters as text() writes them; not ``::type`` casts. (Keep ``:word`` out of string literals.)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """The statement with ``:name`` parameters numbered ``$1..$n`` for asyncpg, and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


async def fetch_records(session: AsyncSession, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    """All rows of ``sql`` (text() style ``:name`` parameters) as asyncpg records, on the session's transaction."""
    statement, names = positional(sql)
    missing = [name for name in names if name not in (params or {})]
    if missing:
        raise KeyError(f"no value for the parameter(s) {', '.join(missing)} of this statement")
    values = [params[name] for name in names]  # type: ignore[index]
    connection = await session.connection()
    sync_connection, dispatch = connection.sync_connection, connection.sync_connection.dispatch  # type: ignore[union-attr]
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(sync_connection, None, statement, values, None, False)
    driver = (await connection.get_raw_connection()).driver_connection
    records = await driver.fetch(statement, *values)  # type: ignore[union-attr]
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(sync_connection, None, statement, values, None, False)
    return records
