"""Store checked measurements in bulk: one statement per batch upserts the current values; each
value it replaces is kept in ``measurement_revision`` by the table's trigger (migration 0030), so a
first value is stored once and ``measurement_history`` reads every version.

A row whose value, numerator, denominator and status equal what is stored is left alone: no new
revision, no new ``recorded_at``. Rows are written in key order, so two submissions that share rows
take their row locks in the same order and wait for each other instead of deadlocking.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.staging import stage_by_copy
from server.measurements.checks import CleanRow

BATCH_ROWS = 10_000
COPY_FROM_ROWS = 500

_UNNESTED = """
    select * from unnest(cast(:indicator_id as int[]), cast(:unit_id as int[]), cast(:period as date[]), cast(:value as numeric[]),
                         cast(:numerator as numeric[]), cast(:denominator as numeric[]), cast(:status as text[]))
        as batch(indicator_id, unit_id, period, value, numerator, denominator, status)
"""
_STAGED = "select indicator_id, unit_id, period, value, numerator, denominator, status from measurement_batch"
_STAGED_COLUMNS = (("indicator_id", "int"), ("unit_id", "int"), ("period", "date"), ("value", "numeric"), ("numerator", "numeric"),
                   ("denominator", "numeric"), ("status", "text"))


def _upsert(batch: str):  # type: ignore[no-untyped-def]
    return text(f"""
    with batch as ({batch}),
    -- Identical rows are left out of the upsert (skipping them there would still lock, i.e. write, each one).
    identical as (
        select same.id, same.indicator_id, same.unit_id, same.period, same.revision
        from batch b join measurement same
          on same.org_id = cast(:org_id as int) and same.indicator_id = b.indicator_id and same.unit_id = b.unit_id and same.period = b.period
          -- the batch's periods bound the stored rows read: only their yearly partitions, not every year's
          and same.period between (select min(period) from batch) and (select max(period) from batch)
        where (same.value, same.numerator, same.denominator, same.status) is not distinct from (b.value, b.numerator, b.denominator, b.status)
    ),
    changed as (
        insert into measurement as m (org_id, indicator_id, unit_id, period, value, numerator, denominator, status, source, recorded_by,
                                      recorded_at, reason, revision)
        select cast(:org_id as int), b.indicator_id, b.unit_id, b.period, b.value, b.numerator, b.denominator, b.status,
               cast(:source as text), cast(:user_id as int), cast(:now as timestamptz), cast(:reason as text), 1
        from batch b
        where not exists (select 1 from identical i where i.indicator_id = b.indicator_id and i.unit_id = b.unit_id and i.period = b.period)
        order by b.indicator_id, b.unit_id, b.period
        on conflict (org_id, indicator_id, unit_id, period) do update set  -- measurement_one_per_period
            value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator, status = excluded.status,
            source = excluded.source, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at, reason = excluded.reason,
            revision = m.revision + 1
        where (m.value, m.numerator, m.denominator, m.status)
              is distinct from (excluded.value, excluded.numerator, excluded.denominator, excluded.status)
        returning m.id, m.indicator_id, m.unit_id, m.period, m.revision
    )
    select id, indicator_id, unit_id, period, revision, true from changed
    union all
    select id, indicator_id, unit_id, period, revision, false from identical
""")


_UPSERT_UNNESTED = _upsert(_UNNESTED)
_UPSERT_STAGED = _upsert(_STAGED)
_CURRENT = text("""
    select m.id, m.indicator_id, m.unit_id, m.period, m.revision
    from measurement m
    join unnest(cast(:indicator_id as int[]), cast(:unit_id as int[]), cast(:period as date[])) as batch(indicator_id, unit_id, period)
      using (indicator_id, unit_id, period)
    where m.org_id = :org_id
""")


# A revision's foreign key to its measurement is checked by PostgreSQL with a cached query, which it
# plans afresh for every row inserted: measurement is partitioned by year, and a plan for the one
# partition a row's key names looks cheaper than a generic plan over all of them. That was 140 µs a
# revision, half of the upsert of a national trust's month (36 of 70 ms; EXPLAIN ANALYZE's trigger
# time). A generic plan prunes to that partition when it runs (1.5 ms for the 250 checks), so the
# upserts run with generic plans, and the transaction's setting is put back after them.
_GENERIC_PLANS = text("select before, set_config('plan_cache_mode', 'force_generic_plan', true)"
                      " from (select current_setting('plan_cache_mode') as before) setting")
_PLANS_AS_BEFORE = text("select set_config('plan_cache_mode', :before, true)")


class RecordedMeasurement(NamedTuple):
    measurement_id: int
    indicator_id: int
    unit_id: int
    period: dt.date
    revision: int
    changed: bool = True  # False: the stored value was identical, so nothing new was written


async def store_measurements(
    session: AsyncSession, *, org_id: int, user_id: int | None, source: str, reason: str | None, rows: list[CleanRow],
    staging: str | None = None,
) -> list[RecordedMeasurement]:
    """Upsert every row, batch by batch; the result is in the order of ``rows``.

    ``staging`` is how a batch reaches the server: ``unnest`` (column arrays as parameters) or ``copy``
    (COPY into a temporary table: about twice as fast in bulk, three round trips more for a single
    row); by default COPY from ``COPY_FROM_ROWS`` rows. tests/benchmarks/bench_write.py measures both.
    """
    recorded: list[RecordedMeasurement] = []
    now = dt.datetime.now(dt.UTC)
    staging = staging or ("copy" if len(rows) >= COPY_FROM_ROWS else "unnest")
    stage = _staged_by_copy if staging == "copy" else _staged_by_unnest
    before = (await session.exec(_GENERIC_PLANS)).one()[0]
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start:start + BATCH_ROWS]
        statement, columns = await stage(session, batch)
        result = await session.exec(statement.bindparams(org_id=org_id, user_id=user_id, source=source, reason=reason, now=now, **columns))
        recorded += await _recorded(session, org_id, batch, {(i, u, p): (m, rev, changed) for m, i, u, p, rev, changed in result.all()})
    await session.exec(_PLANS_AS_BEFORE.bindparams(before=before))
    return recorded


async def _staged_by_unnest(session: AsyncSession, rows: list[CleanRow]):  # type: ignore[no-untyped-def]
    return _UPSERT_UNNESTED, {name: [getattr(r, name) for r in rows] for name, _ in _STAGED_COLUMNS}


async def _staged_by_copy(session: AsyncSession, rows: list[CleanRow]):  # type: ignore[no-untyped-def]
    await stage_by_copy(session, "measurement_batch", _STAGED_COLUMNS, rows)  # a CleanRow is a tuple in column order
    return _UPSERT_STAGED, {}


async def _recorded(session: AsyncSession, org_id: int, rows: list[CleanRow], stored: dict) -> list[RecordedMeasurement]:  # type: ignore[type-arg]
    """Each row's id and revision, in order. A row another transaction inserted with the same value
    while this statement ran is neither changed nor in its snapshot: it is looked up afterwards."""
    missing = [(r.indicator_id, r.unit_id, r.period) for r in rows if (r.indicator_id, r.unit_id, r.period) not in stored]
    if missing:
        current = await session.exec(_CURRENT.bindparams(
            org_id=org_id, indicator_id=[k[0] for k in missing], unit_id=[k[1] for k in missing], period=[k[2] for k in missing]))
        stored.update({(i, u, p): (m, rev, False) for m, i, u, p, rev in current.all()})
    recorded = []
    for r in rows:
        measurement_id, revision, changed = stored[(r.indicator_id, r.unit_id, r.period)]
        recorded.append(RecordedMeasurement(measurement_id, r.indicator_id, r.unit_id, r.period, revision, changed))
    return recorded
