"""Setting a request's access context by hand, for tests that speak SQL as the application role."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

INSUFFICIENT_PRIVILEGE = "42501"  # RLS, grants and the history triggers all answer with this
INVALID_TEXT = "22P02"  # a context that is not a list of ids


def ids_csv(org_ids: Iterable[int]) -> str:
    return ",".join(str(int(i)) for i in org_ids)


async def set_access(connection: AsyncConnection, *, read: str = "", write: str = "", contract: str = "", user: str = "") -> None:
    """The four transaction-local settings the session hook sets, as raw strings (malformed ones too)."""
    await connection.execute(
        text("select set_config('app.org_ids', :read, true), set_config('app.write_org_ids', :write, true),"
             " set_config('app.contract_org_ids', :contract, true), set_config('app.user_id', :user, true)"),
        {"read": read, "write": write, "contract": contract, "user": user},
    )


def with_ids(sql: str, ids: Mapping[str, int]) -> str:
    """Integer ids written into the statement (asyncpg cannot type one parameter used as int and int[])."""
    for name, value in sorted(ids.items(), key=lambda item: -len(item[0])):
        sql = sql.replace(f":{name}", str(int(value)))
    return sql


def sqlstate(error: DBAPIError) -> str | None:
    original = error.orig
    return getattr(original, "sqlstate", None) or getattr(getattr(original, "__cause__", None), "sqlstate", None)
