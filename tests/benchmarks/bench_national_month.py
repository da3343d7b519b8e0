"""One national month submitted, derived and laddered, and a full recompute, on the national data set.

    .venv/bin/python tests/benchmarks/bench_national_month.py [--orgs 210 --indicators 250 --months 60]
        [--skip-recompute]

Every organisation resubmits its latest month with new values (every indicator changes, so every
series is derived again and every ladder runs), each organisation in its own transaction through
``submit_measurements``, as a performance team's upload would. Then ``recompute_all`` derives every
organisation from its stored measurements. Prints wall time against issue 10's goals (a national
month in under 30 s, a full recompute in under 60 s). Not a test: it prints numbers. The data set
keeps the new values (run it again and they change again).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.national import (  # noqa: E402
    add_scale_arguments, last_complete_month, national_indicators, open_national, organisation_codes, organisation_measurements,
    stop_national, Scale,
)


async def main(arguments: argparse.Namespace) -> None:
    from server.assessment_store.recompute import recompute_all, runner_access
    from server.measurements.submit import submit_measurements
    from server.tenants.load import organisation_ids

    database, _, _ = await open_national(orgs=arguments.orgs, indicators=arguments.indicators, months=arguments.months,
                                         data_dir=arguments.data_dir)
    try:
        scale = Scale(arguments.orgs, arguments.indicators, arguments.months)
        catalogue = national_indicators(scale.indicators)
        async with database.session() as session:
            ids = await organisation_ids(session)
        month = last_complete_month()
        seed = int(time.time())
        rows = 0
        started, cpu = time.perf_counter(), time.process_time()
        for index, code in enumerate(organisation_codes(scale)):
            items = organisation_measurements(seed + index, code, catalogue, [month])
            async with database.session(await runner_access(database, ids[code])) as session:
                outcome = await submit_measurements(session, org_id=ids[code], user_id=None, items=items, source="import",
                                                    reason="national month benchmark")
            if not outcome.ok:
                raise SystemExit(f"{code}: {outcome.problems[:3]}")
            rows += len(items)
        month_seconds = time.perf_counter() - started
        print(f"one national month ({len(organisation_codes(scale))} organisations, {rows:,} rows, every value changed): "
              f"{month_seconds:.1f} s wall, {time.process_time() - cpu:.1f} s CPU in this process (goal < 30 s); "
              f"{month_seconds / len(organisation_codes(scale)) * 1000:.0f} ms per organisation; load {os.getloadavg()[0]:.1f}")
        if not arguments.skip_recompute:
            started, cpu = time.perf_counter(), time.process_time()
            stored = await recompute_all(database)
            print(f"full recompute ({stored:,} rows derived): {time.perf_counter() - started:.1f} s wall, "
                  f"{time.process_time() - cpu:.1f} s CPU (goal < 60 s); load {os.getloadavg()[0]:.1f}")
    finally:
        await database.dispose()
        stop_national(arguments.data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--skip-recompute", action="store_true")
    asyncio.run(main(parser.parse_args()))
