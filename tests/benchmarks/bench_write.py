"""Benchmark the write path: bulk recording against COPY in the same run, and one interactive save.

    .venv/bin/python tests/benchmarks/bench_write.py [--orgs 20] [--months 60] [--repeats 15]

Builds a throw-away embedded PostgreSQL with the seed tenants plus ``--orgs`` synthetic trusts
(copies of ULHT: 15 indicators at 21 wards), then prints rows/s for:

* COPY of every synthetic trust's rows into a scratch copy of the measurement table (same keys,
  indexes and checks, no history): the floor any write path is compared with;
* the bulk path (record_measurements: checks, upsert and revisions), one transaction per trust,
  with each way of staging a batch (unnest of column arrays, COPY into a temporary table);
* re-importing the same rows (nothing new may be stored) and importing them with changed values
  (every row gets a revision);
* a full recompute of the trusts' assessments, first with nothing stored, then with nothing changed
  (assessment rows/s; only changed rows are written);
* one interactive save (submit_measurements of one row: record, derive, ladders), median server time
  and median CPU time of this process, with the CPU of this process and PostgreSQL over all saves.

``--save-only`` loads one trust and measures only the saves (a quick reading on a busy machine).

Not a test: it prints numbers and ratios measured in one run.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.assessment_store.recompute import assessment_settings, derive_assessments, recompute_organisation, runner_access  # noqa: E402
from server.db.session import AccessContext, Database  # noqa: E402
from server.demo.generate import month_starts  # noqa: E402
from server.measurements.checks import Catalogue, check_submission  # noqa: E402
from server.measurements.record import MeasurementItem, read_catalogue, record_measurements  # noqa: E402
from server.measurements.store import store_measurements  # noqa: E402
from server.escalation_store.run import run_ladders  # noqa: E402
from server.measurements.submit import submit_measurements  # noqa: E402
from tests.benchmarks.bench_store import synthetic_database  # noqa: E402
from tests.benchmarks.national import CpuClock  # noqa: E402

COPY_COLUMNS = ("org_id", "indicator_id", "unit_id", "period", "value", "numerator", "denominator", "status", "source", "revision")


def trust_items(catalogue: Catalogue, periods: list[dt.date], shift: int = 0) -> list[MeasurementItem]:
    """Every indicator x leaf unit x period, with values each indicator accepts; ``shift`` changes every value."""
    leaves = sorted(code for code, unit_id in catalogue.units.items() if unit_id in catalogue.leaf_unit_ids)
    items = []
    for number, indicator in enumerate(sorted(catalogue.indicators.values(), key=lambda i: i.code)):
        for place, leaf in enumerate(leaves):
            for month, period in enumerate(periods):
                seed = number * 31 + place * 7 + month + shift
                if indicator.rollup == "rate":
                    items.append(MeasurementItem(indicator.code, leaf, period, numerator=str(80 + seed % 20), denominator="100"))
                else:
                    items.append(MeasurementItem(indicator.code, leaf, period, value=str(seed % 40 + 1)))
    return items


async def import_all(database: Database, trusts: dict[int, list[MeasurementItem]], staging: str | None) -> float:
    """Each trust in its own transaction; ``staging`` None runs record_measurements as callers do."""
    start = time.perf_counter()
    for org_id, items in trusts.items():
        async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
            if staging is None:
                outcome = await record_measurements(session, org_id=org_id, user_id=None, items=items, source="bench", reason="benchmark")
                assert outcome.ok, outcome.problems[:3]
                continue
            rows, problems = check_submission(items, await read_catalogue(session, org_id), may_validate=False, reason=None)
            assert not problems, problems[:3]
            await store_measurements(session, org_id=org_id, user_id=None, source="bench", reason="benchmark", rows=rows, staging=staging)
    return time.perf_counter() - start


async def copy_all(database: Database, trusts: dict[int, list[MeasurementItem]], catalogues: dict[int, Catalogue], *, foreign_keys: bool) -> float:
    """COPY the same rows into a scratch copy of the measurement table (its keys, indexes and checks;
    with ``foreign_keys`` its foreign keys too), one COPY per trust."""
    records = {
        org_id: [(org_id, catalogues[org_id].indicators[i.indicator_code].id, catalogues[org_id].units[i.unit_code], i.period, _number(i.value),
                  _number(i.numerator), _number(i.denominator), i.status, "bench", 1) for i in items]
        for org_id, items in trusts.items()
    }
    async with database.owner_engine.connect() as connection:
        await connection.execute(text("drop table if exists measurement_scratch"))
        await connection.execute(text("create table measurement_scratch (like measurement including all)"))
        if foreign_keys:
            for name, definition in (await connection.execute(text(
                    "select conname, pg_get_constraintdef(oid) from pg_constraint where conrelid = 'measurement'::regclass and contype = 'f'"))).all():
                await connection.execute(text(f"alter table measurement_scratch add constraint scratch_{name} {definition}"))
        await connection.commit()
        driver = (await connection.get_raw_connection()).driver_connection
        start = time.perf_counter()
        for org_records in records.values():
            async with driver.transaction():
                await driver.copy_records_to_table("measurement_scratch", records=org_records, columns=COPY_COLUMNS)
        elapsed = time.perf_counter() - start
        await connection.execute(text("drop table measurement_scratch"))
        await connection.commit()
    return elapsed


def _number(raw: object) -> Decimal | None:
    return None if raw is None else Decimal(str(raw))


async def revisions(database: Database, org_ids: list[int]) -> int:
    async with database.session(AccessContext.for_orgs(org_ids)) as session:
        return (await session.exec(text("select count(*) from measurement_history"))).scalar_one()


async def clear(database: Database, org_ids: list[int]) -> None:
    async with database.owner_engine.begin() as connection:
        # History is kept by triggers (revisions append-only, measurements never deleted); the owner may
        # set them aside to reset the benchmark.
        for table in ("measurement", "measurement_revision"):
            await connection.execute(text(f"alter table {table} disable trigger user"))
        await connection.execute(text("delete from measurement where org_id = any(:o)"), {"o": org_ids})
        for table in ("measurement", "measurement_revision"):
            await connection.execute(text(f"alter table {table} enable trigger user"))


async def recompute_trusts(database: Database, org_ids: list[int], *, store: bool = True) -> tuple[float, int]:
    """Every trust's assessments re-derived and stored (no ladders), each in its own transaction;
    without ``store`` only derived, to show what storing costs."""
    start, stored = time.perf_counter(), 0
    for org_id in org_ids:
        async with database.session(await runner_access(database, org_id)) as session:
            spec = await assessment_settings(session, org_id)
            if store:
                stored += await recompute_organisation(session, org_id, spec)
            else:
                indicator_ids = list((await session.exec(text("select id from indicator where org_id = :o"), params={"o": org_id})).scalars())
                stored += len(await derive_assessments(session, org_id, spec, indicator_ids))
    return time.perf_counter() - start, stored


async def interactive_save(
    database: Database, org_id: int, items: list[MeasurementItem], repeats: int, data_dir: Path | None = None,
) -> tuple[list[float], list[float], list[float]]:
    """One row at a time, each a new value, through the whole submission: record, derive, ladders.

    Returns each save's wall time, the CPU time this process spent on it and, given the embedded
    PostgreSQL's data directory, the CPU time PostgreSQL spent meanwhile (read from /proc outside
    the timed part)."""
    access = await runner_access(database, org_id)
    async with database.session(access) as session:
        await run_ladders(session, org_id)  # the trust's escalations as they stand, so each save finds the steady state
    latest = max(i.period for i in items)
    row = next(i for i in items if i.period == latest and i.value is not None)
    times, cpu, postgres = [], [], []
    for attempt in range(repeats):
        item = MeasurementItem(row.indicator_code, row.unit_code, row.period, value=str(100 + attempt))
        clock = CpuClock(data_dir) if data_dir is not None else None
        start, start_cpu = time.perf_counter(), time.process_time()
        async with database.session(access) as session:
            outcome = await submit_measurements(session, org_id=org_id, user_id=None, items=[item], reason="interactive")
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if clock is not None and (spent := clock.postgres_seconds()) is not None:
            postgres.append(spent)
        assert outcome.ok and outcome.changed, outcome.problems
    return times, cpu, postgres


async def one_row_saves(database: Database, data_dir: Path, org_id: int, items: list[MeasurementItem], repeats: int) -> None:
    # The steady state a save meets: statistics that know the rows just loaded, and nothing left for
    # autovacuum to do during the saves (its processes' CPU would count as the saves' PostgreSQL CPU).
    async with database.owner_engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("vacuum analyze measurement, measurement_revision, assessment"))
    clock = CpuClock(data_dir)
    times, cpu, postgres = await interactive_save(database, org_id, items, repeats, data_dir)
    server = f", PostgreSQL median {statistics.median(postgres) * 1000:.1f} ms" if postgres else ""
    if postgres:
        server += f", both median {statistics.median([a + b for a, b in zip(cpu, postgres)]) * 1000:.1f} ms (an idle machine's server time)"
    print(f"one-row save with derivation and ladders, median of {repeats}: {statistics.median(times) * 1000:.1f} ms"
          f" (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}); CPU here median {statistics.median(cpu) * 1000:.1f} ms{server}"
          f" (goal < 100 ms server time); all saves and the ladder run before them: {clock.report()}")


async def main(orgs: int, months: int, repeats: int, save_only: bool) -> None:
    async with synthetic_database(orgs, prefix="accord-bench-write-", pool_size=2) as (database, tenants_dir, codes, ids):
        periods = month_starts(months, dt.date(2026, 11, 1))
        trusts, changed, catalogues = {}, {}, {}
        for code in codes:
            async with database.session(AccessContext.for_orgs([ids[code]])) as session:
                catalogues[ids[code]] = catalogue = await read_catalogue(session, ids[code])
            trusts[ids[code]] = trust_items(catalogue, periods)
            changed[ids[code]] = trust_items(catalogue, periods, shift=1)
        rows = sum(len(items) for items in trusts.values())
        if save_only:  # one trust's data, derived, then the saves: a quick reading on a busy machine
            first = ids[codes[0]]
            await import_all(database, {first: trusts[first]}, None)
            await recompute_trusts(database, [first])
            await one_row_saves(database, tenants_dir.parent, first, trusts[first], repeats)
            return
        print(f"{orgs} synthetic trusts x {months} months: {rows:,} rows per import")

        copy_seconds = await copy_all(database, trusts, catalogues, foreign_keys=False)
        report("COPY into a scratch copy of measurement", rows, copy_seconds)
        keyed_seconds = await copy_all(database, trusts, catalogues, foreign_keys=True)
        report("  the same with measurement's foreign keys", rows, keyed_seconds, copy_seconds)
        for staging in ("unnest", "copy"):
            seconds = await import_all(database, trusts, staging)
            report(f"checks + store, batches staged by {staging}", rows, seconds, copy_seconds)
            await clear(database, list(trusts))
        seconds = await import_all(database, trusts, None)
        report("record_measurements (first import)", rows, seconds, copy_seconds)
        before = await revisions(database, list(trusts))
        seconds = await import_all(database, trusts, None)
        report("record_measurements (same rows again)", rows, seconds, copy_seconds)
        print(f"  new revisions stored by the identical re-import: {await revisions(database, list(trusts)) - before}")
        seconds = await import_all(database, changed, None)
        report("record_measurements (every value changed)", rows, seconds, copy_seconds)
        print(f"  revisions now: {await revisions(database, list(trusts)):,} (every version: the current one of each row and each one it replaced)")

        seconds, stored = await recompute_trusts(database, list(trusts))
        report("recompute every trust, nothing stored yet", stored, seconds)
        seconds, stored = await recompute_trusts(database, list(trusts))
        report("recompute every trust again, nothing changed", stored, seconds)
        seconds, stored = await recompute_trusts(database, list(trusts), store=False)
        report("  of which deriving (the same, without storing)", stored, seconds)
        await one_row_saves(database, tenants_dir.parent, ids[codes[0]], trusts[ids[codes[0]]], repeats)


def report(label: str, rows: int, seconds: float, copy_seconds: float | None = None) -> None:
    ratio = f"  {copy_seconds / seconds:5.2f}x COPY" if copy_seconds else ""
    print(f"{label:<50} {seconds:8.2f} s {rows / seconds:10,.0f} rows/s{ratio}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--save-only", action="store_true", help="only one trust's data and the one-row saves")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.orgs, arguments.months, arguments.repeats, arguments.save_only))
