"""Small factories for the meetings tests: rolled-back transactions, meetings, users' access."""
from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Meeting
from server.db.session import AccessContext, Database


class _RollBack(Exception):
    """Raised at the end of a scenario so that nothing it changed is kept."""


@asynccontextmanager
async def rolled_back(database: Database, access: AccessContext) -> AsyncIterator[AsyncSession]:
    """A transaction that is always rolled back, for scenarios that rewrite shared demo data."""
    try:
        async with database.session(access) as session:
            yield session
            raise _RollBack
    except _RollBack:
        pass


async def create_meeting(
    session: AsyncSession, org_id: int, forum_code: str, day: dt.date, *, subject_key: str | None = None,
    subject_name: str | None = None, status: str = "scheduled",
) -> Meeting:
    forum_id = (await session.exec(text("select id from forum where org_id = :o and code = :c"), params={"o": org_id, "c": forum_code})).scalar_one()
    meeting = Meeting(org_id=org_id, forum_id=forum_id, scheduled_for=day, subject_key=subject_key, status=status,
                      cadence_reason={"subject_name": subject_name} if subject_name else {})
    session.add(meeting)
    await session.flush()
    return meeting
