"""Benchmark loading the national data set: tenant files, measurement history against COPY, full recompute.

    .venv/bin/python tests/benchmarks/bench_national_load.py [--orgs 210] [--indicators 250] [--months 60]
        [--data-dir /tmp/accord-national-load] [--keep]

Builds the data set of tests/benchmarks/national.py from nothing into a separate database
(``accord_load_bench``) on an embedded PostgreSQL of its own, so the shared national database is
left alone, and prints:

* loading the tenant files (issue 10 goal: 210 files of 250 indicators in under 30 s), and again
  with nothing changed;
* recording the measurement history through ``record_measurements`` (rows/s inside its
  transactions), against two floors measured in the same run with the same rows, before recording:
  COPY into the measurement table itself (its keys, indexes, foreign keys and yearly partitions, as
  the owner with row-level security set aside, in a transaction rolled back and then vacuumed:
  the incremental COPY rate the issue names), and COPY into a plain scratch table with the same
  columns and indexes (no foreign keys, no partitions);
* one full recompute (assessments and ladders for every organisation; goal under 60 s).

Not a test: it prints numbers. The database is dropped at the end unless ``--keep``.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.national import (  # noqa: E402
    ANALYZE_PHASE, LOAD_PHASE, RECOMPUTE_PHASE, RECORD_ALL_PHASE, RECORD_CPU, RECORD_PHASE, RECORD_RATE, CpuClock, Scale, add_scale_arguments,
    build_national, last_complete_month, months_ending, national_indicators, organisation_codes, organisation_measurements,
)
from server.db import migrate  # noqa: E402
from server.db.server import EmbeddedPostgres  # noqa: E402
from server.db.session import AccessContext, Database  # noqa: E402

BENCH_DATABASE = "accord_load_bench"
COPY_COLUMNS = (
    "org_id", "indicator_id", "unit_id", "period", "value", "numerator", "denominator", "status", "source", "recorded_at", "revision",
)


async def copy_floor(database: Database, scale: Scale, data_dir: Path, *, into_measurement: bool) -> tuple[float, float, float | None]:
    """COPY of the same measurement rows into ``measurement`` itself (rolled back) or into a scratch
    table shaped like it: seconds inside the COPYs, this process's CPU seconds there, PostgreSQL's
    CPU seconds over the whole step."""
    async with database.session() as session:
        org_ids = dict((await session.exec(text("select code, id from organisation"))).all())
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        indicator_ids = {(org, code): i for org, code, i in (await session.exec(text("select org_id, code, id from indicator"))).all()}
        unit_ids = {(org, code): u for org, code, u in (await session.exec(text("select org_id, code, id from org_unit"))).all()}
    catalogue = national_indicators(scale.indicators)
    periods = months_ending(last_complete_month(), scale.months)
    copying = copying_cpu = 0.0
    clock = CpuClock(data_dir)
    table = "measurement" if into_measurement else "measurement_copy_floor"
    async with database.owner_engine.connect() as connection:
        if into_measurement:  # COPY is refused where row-level security applies; set aside until the rollback
            await connection.execute(text("alter table measurement no force row level security"))
        else:
            await connection.execute(text("drop table if exists measurement_copy_floor"))
            await connection.execute(text("create table measurement_copy_floor (like measurement including all)"))
            await connection.commit()
        raw = (await connection.get_raw_connection()).driver_connection
        now = dt.datetime.now(dt.UTC)
        for index, code in enumerate(organisation_codes(scale)):
            org_id = org_ids[code]
            records = [
                (org_id, indicator_ids[(org_id, item.indicator_code)], unit_ids[(org_id, item.unit_code)], item.period,
                 _decimal(item.value), _decimal(item.numerator), _decimal(item.denominator), "provisional", "national-benchmark", now, 1)
                for item in organisation_measurements(index, code, catalogue, periods)
            ]
            start, cpu = time.perf_counter(), time.process_time()
            await raw.copy_records_to_table(table, records=records, columns=COPY_COLUMNS)
            copying += time.perf_counter() - start
            copying_cpu += time.process_time() - cpu
        postgres = clock.postgres_seconds()
        if into_measurement:
            await connection.rollback()
        else:
            await connection.execute(text("drop table measurement_copy_floor"))
            await connection.commit()
    if into_measurement:  # the rolled-back rows' space, before the same rows are recorded for real
        async with database.owner_engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("vacuum measurement"))
    return copying, copying_cpu, postgres


def _or_dash(value: float | None, width: int, places: int = 2) -> str:
    return "-".rjust(width) if value is None else f"{value:{width}.{places}f}"


def _decimal(value: float | str | None):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    return None if value is None else Decimal(str(value))


async def main(arguments: argparse.Namespace) -> None:
    scale = Scale(arguments.orgs, arguments.indicators, arguments.months)
    embedded = EmbeddedPostgres(arguments.data_dir, database=BENCH_DATABASE)
    embedded.start()
    embedded.drop_database(BENCH_DATABASE)
    database = Database(embedded.start(), pool_size=2)
    try:
        await migrate.upgrade(database.owner_engine)
        floors: dict[str, tuple[float, float, float | None]] = {}

        async def measure_floors(database: Database) -> None:
            for into_measurement, label in ((True, "COPY into measurement"), (False, "COPY into a scratch table")):
                print(f"{label} (the same rows) ...", flush=True)
                floors[label] = await copy_floor(database, scale, arguments.data_dir, into_measurement=into_measurement)

        phases = await build_national(database, arguments.data_dir / "load-bench-tenants", scale, arguments.data_dir,
                                      before_recording=measure_floors)
        copy_seconds, copy_cpu, copy_postgres = floors["COPY into measurement"]
        copy_rate = scale.measurements / copy_seconds
        scratch_seconds, scratch_cpu, scratch_postgres = floors["COPY into a scratch table"]
        scratch_rate = scale.measurements / scratch_seconds
        print()
        print(f"{scale.organisations} organisations x {scale.indicators} indicators x {scale.months} months, same run:")
        print(f"  tenant files loaded            {phases[LOAD_PHASE]:9.2f} s"
              f"  ({phases[LOAD_PHASE] / (scale.organisations * scale.indicators) * 1000:.3f} ms per indicator; goal 210 x 250 < 30 s)")
        print(f"  record_measurements            {phases[RECORD_RATE]:9,.0f} rows/s")
        print(f"  COPY into measurement          {copy_rate:9,.0f} rows/s  (its keys, foreign keys, partitions; rolled back)")
        print(f"  record / COPY into measurement {phases[RECORD_RATE] / copy_rate:9.2f}  (goal at least 0.5)")
        print(f"  COPY into a scratch table      {scratch_rate:9,.0f} rows/s  (same columns and indexes, nothing else)")
        print(f"  record / COPY into scratch     {phases[RECORD_RATE] / scratch_rate:9.2f}")
        series = scale.organisations * scale.indicators
        print(f"  full recompute                 {phases[RECOMPUTE_PHASE]:9.2f} s"
              f"  ({phases[RECOMPUTE_PHASE] / series * 1000:.2f} ms per series; goal 3.13M measurements < 60 s)")
        print()
        print("  CPU seconds (app: this process and its workers; PostgreSQL: its processes; app + PostgreSQL over the")
        print("  cores bounds an idle machine's wall time from below, app + PostgreSQL from above for one-process steps):")
        print(f"  {'step':<34} {'wall s':>8} {'app CPU s':>10} {'PG CPU s':>9} {'load':>5}")
        rows = [
            ("tenant files loaded", phases[LOAD_PHASE], phases[f"{LOAD_PHASE}, CPU of this process"] + phases[f"{LOAD_PHASE}, CPU of workers"],
             phases.get(f"{LOAD_PHASE}, CPU of PostgreSQL"), phases[f"{LOAD_PHASE}, load"]),
            ("record_measurements (+ drawing)", phases[RECORD_ALL_PHASE], phases[f"{RECORD_ALL_PHASE}, CPU of this process"],
             phases.get(f"{RECORD_ALL_PHASE}, CPU of PostgreSQL"), phases[f"{RECORD_ALL_PHASE}, load"]),
            ("  inside record_measurements", phases[RECORD_PHASE], phases[RECORD_CPU], None, None),
            ("COPY into measurement", copy_seconds, copy_cpu, copy_postgres, None),
            ("COPY into a scratch table", scratch_seconds, scratch_cpu, scratch_postgres, None),
            ("ANALYZE after the bulk load", phases[ANALYZE_PHASE], phases[f"{ANALYZE_PHASE}, CPU of this process"],
             phases.get(f"{ANALYZE_PHASE}, CPU of PostgreSQL"), phases[f"{ANALYZE_PHASE}, load"]),
            ("full recompute", phases[RECOMPUTE_PHASE],
             phases[f"{RECOMPUTE_PHASE}, CPU of this process"] + phases[f"{RECOMPUTE_PHASE}, CPU of workers"],
             phases.get(f"{RECOMPUTE_PHASE}, CPU of PostgreSQL"), phases[f"{RECOMPUTE_PHASE}, load"]),
        ]
        for label, wall, here, postgres, load in rows:
            print(f"  {label:<34} {wall:8.2f} {here:10.2f} {_or_dash(postgres, 9)} {_or_dash(load, 5, 1)}")
    finally:
        await database.dispose()
        if not arguments.keep:
            embedded.drop_database(BENCH_DATABASE)
        embedded.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser, data_dir=Path("/tmp/accord-national-load"))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    asyncio.run(main(parser.parse_args()))
