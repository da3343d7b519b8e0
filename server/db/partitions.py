"""Yearly partitions of measurement, measurement_revision and assessment, kept ahead of the data.

The tables are range-partitioned by ``period``, one partition a calendar year, plus a default
partition that takes any period without one (migration 0020). The application keeps the
partitions ahead: after every migration (``server.db.migrate.upgrade``) and at each daily tick it
asks for this year, the next and ``YEARS_BACK`` before, through the security-definer function
``create_period_partitions`` (so the application role can add partitions without owning a table).
An existing partition is left alone, so asking again costs a catalogue lookup per year.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

PARTITIONED = ("measurement", "measurement_revision", "assessment")
YEARS_BACK = 5  # five years of monthly history: the national data set's 60 periods
YEARS_AHEAD = 1  # next year's partitions exist all this year, so no January import waits on a tick

_CREATE = text("select partitioned_table, partition_year, outcome from create_period_partitions(:first, :last)")


class PartitionOutcome(NamedTuple):
    table: str
    year: int
    outcome: str  # 'created', or 'rows in the default partition' (left there: deploy/README.md, partitions)


def years_to_keep(today: dt.date) -> tuple[int, int]:
    return today.year - YEARS_BACK, today.year + YEARS_AHEAD


async def create_partitions_ahead(connection: AsyncConnection, today: dt.date | None = None) -> list[PartitionOutcome]:
    """Create the missing yearly partitions around ``today`` (default: now, UTC); answer what changed."""
    first, last = years_to_keep(today or dt.datetime.now(dt.UTC).date())
    result = await connection.execute(_CREATE, {"first": first, "last": last})
    outcomes = [PartitionOutcome(*row) for row in result.all()]
    for outcome in outcomes:
        if outcome.outcome == "created":
            log.info("created partition %s_y%d", outcome.table, outcome.year)
        else:
            log.warning("no partition %s_y%d: %s", outcome.table, outcome.year, outcome.outcome)
    return outcomes
