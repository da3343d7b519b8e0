"""Helpers for import tests: sample files, the organisation's framework, what is stored."""
from __future__ import annotations

from pathlib import Path

import pytest_asyncio
from sqlalchemy import text

from server.db.session import AccessContext
from server.imports.framework import load_framework

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest_asyncio.fixture(loop_scope="session")
async def sath(database, org_ids):  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        return await load_framework(session, org_id=org_ids["RXW"])


async def stored_count(database, org_id: int, period: str) -> int:  # type: ignore[no-untyped-def]
    """Revisions stored for the organisation in that month."""
    import datetime as dt

    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text("select count(*) from measurement_history r join measurement m on m.id = r.measurement_id"
                                         " where m.org_id = :o and m.period = :p"), params={"o": org_id, "p": dt.date.fromisoformat(period)})).scalar_one()
