"""The daily tick: re-run every organisation's ladders for time passing, once a day across processes.

Rules that read time move without any new data: a judgement's clock (STW: three months after System
QPC was not assured, the ICB), months in a level, a judgement that lapses. Each app process starts an
in-process scheduler (:func:`run_scheduler`) and cron may run ``accord tick``; whichever gets the
session-level advisory lock first does the day's run, the others find it busy or done. The day is
claimed in ``ladder_tick`` before the run and marked finished after it, so a run cut short (the process
died) is retried by the next tick. Each organisation runs in its own transaction with the engine's
access (as a recompute does), so a tick never holds every organisation's ladder lock at once.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from server.db.models import Organisation
from server.db.partitions import create_partitions_ahead
from server.db.session import Database
from server.escalation_store.run import run_ladders
from server.notifications.tick import notification_tick

log = logging.getLogger(__name__)
UK = ZoneInfo("Europe/London")
TICK_LOCK = (0x41434C32, 0)  # 'ACL2': the daily tick (pg_try_advisory_lock(int, int), held by the session)
TICK_HOUR = 2  # 02:00 UK time, before the working day: the register is current when people open it


@dataclass(frozen=True)
class TickOutcome:
    status: Literal["ran", "done_already", "busy"]
    day: dt.date
    organisations: int = 0
    changed: int = 0  # escalations opened, moved or closed


async def daily_tick(database: Database, *, at: dt.datetime | None = None, force: bool = False) -> TickOutcome:
    """Run every tenant's ladders as at ``at`` (default now), unless this UK day's tick ran or is running."""
    from server.assessment_store.recompute import runner_access

    at = at or dt.datetime.now(dt.UTC)
    day = at.astimezone(UK).date()
    async with database.app_engine.connect() as lock_connection:
        if not (await lock_connection.execute(text("select pg_try_advisory_lock(:k, :i)"), {"k": TICK_LOCK[0], "i": TICK_LOCK[1]})).scalar_one():
            return TickOutcome("busy", day)
        try:
            async with database.session() as session:
                finished = (await session.exec(text("select finished_at from ladder_tick where day = :day"), params={"day": day})).first()
                if finished is not None and finished[0] is not None and not force:
                    return TickOutcome("done_already", day)
                await session.exec(text(
                    "insert into ladder_tick (day, started_at) values (:day, now()) on conflict (day) do update set started_at = now(), finished_at = null"
                ), params={"day": day})
                org_ids = (await session.exec(select(Organisation.id).where(Organisation.is_tenant).order_by(Organisation.id))).scalars().all()
            async with database.app_engine.begin() as connection:
                await create_partitions_ahead(connection)  # by the real calendar (``at`` may be a simulated day): next year before its first import
            changed = 0
            for org_id in org_ids:
                async with database.session(await runner_access(database, org_id)) as session:
                    summary = await run_ladders(session, org_id, at=at)
                    changed += summary.opened + summary.moved + summary.closed
            await notification_tick(database, at=at)  # issue 15: deadlines near, daily digests
            async with database.session() as session:
                await session.exec(text(
                    "update ladder_tick set finished_at = now(), organisations = :orgs, changed = :changed where day = :day"
                ), params={"day": day, "orgs": len(org_ids), "changed": changed})
            return TickOutcome("ran", day, len(org_ids), changed)
        finally:
            await lock_connection.execute(text("select pg_advisory_unlock(:k, :i)"), {"k": TICK_LOCK[0], "i": TICK_LOCK[1]})
            await lock_connection.commit()


def seconds_until_next_tick(now: dt.datetime) -> float:
    """Seconds from ``now`` to the next TICK_HOUR:00 UK time."""
    local = now.astimezone(UK)
    target = local.replace(hour=TICK_HOUR, minute=0, second=0, microsecond=0)
    if target <= local:
        target = (local + dt.timedelta(days=1)).replace(hour=TICK_HOUR, minute=0, second=0, microsecond=0)
    return (target - local).total_seconds()


async def run_scheduler(database: Database) -> None:
    """Tick once at start-up (catching up a missed day) and then daily; started with the app, cancelled at shutdown."""
    while True:
        try:
            outcome = await daily_tick(database)
            if outcome.status == "ran":
                log.info("ladder tick for %s: %d organisations, %d escalations changed", outcome.day, outcome.organisations, outcome.changed)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 (a failed tick must not stop tomorrow's; it is logged with its traceback)
            log.exception("ladder tick failed; the next one retries")
        await asyncio.sleep(seconds_until_next_tick(dt.datetime.now(dt.UTC)))
