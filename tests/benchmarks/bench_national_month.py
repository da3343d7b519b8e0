"""One national month submitted, derived and laddered, and a full recompute, on the national data set.

    .venv/bin/python tests/benchmarks/bench_national_month.py [--orgs 210 --indicators 250 --months 60]
        [--workers N] [--skip-recompute] [--limit N]

Every organisation resubmits its latest month with new values (every indicator changes, so every
series is derived again and every ladder runs), each organisation in its own transaction through
``submit_measurements``, as a performance team's upload would; organisations upload independently,
so ``--workers`` processes submit them side by side (default: one per core, as recompute_all uses;
``--workers 1`` one after another). Then ``recompute_all`` derives every organisation from its
stored measurements. Prints wall time against issue 10's goals (a national month in under 30 s, a
full recompute in under 60 s) beside the CPU seconds of this process, the workers and PostgreSQL.
Not a test: it prints numbers. The data set keeps the new values (run it again and they change again).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.assessment_store.workers import run_per_organisation, worker_count  # noqa: E402
from server.db.session import Database  # noqa: E402
from tests.benchmarks.national import (  # noqa: E402
    CpuClock, Scale, add_scale_arguments, last_complete_month, national_indicators, open_national, organisation_codes,
    organisation_measurements, stop_national,
)


async def resubmit_month(database: Database, org_id: int, *, codes: dict[int, str], indicators: int, month: dt.date, seed: int) -> int:
    """One organisation's upload of the month: record, derive, ladders, in its own transaction. Returns the rows."""
    from server.assessment_store.recompute import runner_access
    from server.measurements.submit import submit_measurements

    items = organisation_measurements(seed + org_id, codes[org_id], _catalogue(indicators), [month])
    async with database.session(await runner_access(database, org_id)) as session:
        outcome = await submit_measurements(session, org_id=org_id, user_id=None, items=items, source="import", reason="national month benchmark")
    if not outcome.ok:
        raise SystemExit(f"{codes[org_id]}: {outcome.problems[:3]}")
    return len(items)


@functools.cache
def _catalogue(indicators: int):  # type: ignore[no-untyped-def]
    return national_indicators(indicators)


async def main(arguments: argparse.Namespace) -> None:
    from server.assessment_store.recompute import recompute_all
    from server.tenants.load import organisation_ids

    database, _, _ = await open_national(orgs=arguments.orgs, indicators=arguments.indicators, months=arguments.months,
                                         data_dir=arguments.data_dir)
    try:
        scale = Scale(arguments.orgs, arguments.indicators, arguments.months)
        async with database.session() as session:
            ids = await organisation_ids(session)
        codes = {ids[code]: code for code in organisation_codes(scale)[:arguments.limit]}
        workers = worker_count(len(codes), arguments.workers)
        job = functools.partial(resubmit_month, codes=codes, indicators=scale.indicators, month=last_complete_month(), seed=int(time.time()))
        clock = CpuClock(arguments.data_dir)
        rows = await run_per_organisation(database, job, list(codes), workers)
        print(f"one national month ({len(codes)} organisations, {rows:,} rows, every value changed, {workers} worker(s)): "
              f"{clock.report()} (goal < 30 s)", flush=True)
        if not arguments.skip_recompute:
            clock = CpuClock(arguments.data_dir)
            stored = await recompute_all(database, workers=workers)
            print(f"full recompute ({stored:,} rows derived, {workers} worker(s)): {clock.report()} (goal < 60 s)")
    finally:
        await database.dispose()
        stop_national(arguments.data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--workers", type=int, default=None, help="processes submitting organisations side by side (default: one per core)")
    parser.add_argument("--skip-recompute", action="store_true")
    parser.add_argument("--limit", type=int, default=None,
                        help="submit only the first N organisations (a sample on a busy machine; the goal is for all of them)")
    asyncio.run(main(parser.parse_args()))
