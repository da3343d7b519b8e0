"""A sample of the national month, small enough to compare two schemas in one sitting.

    .venv/bin/python tests/benchmarks/bench_month_sample.py --data-dir DIR [--orgs 10] [--rounds 1] [--analyze]

``--orgs`` organisations of the national data set (national.py) resubmit their latest month
(submit_measurements: record, derive, ladders), then are recomputed (recompute_one), one after
another in this process; each phase prints wall time beside the CPU of this process and of
PostgreSQL. Used to compare the schema before and after migration 0020 (deploy/README.md, figures)
on two copies of one data set. ``--analyze`` analyzes the partitioned tables first. Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text  # noqa: E402

from tests.benchmarks.bench_national_month import resubmit_month  # noqa: E402
from tests.benchmarks.national import CpuClock, Scale, last_complete_month, open_national, organisation_codes, stop_national  # noqa: E402

async def main(a: argparse.Namespace) -> None:
    database, _, _ = await open_national(data_dir=a.data_dir)
    try:
        if a.analyze:
            clock = CpuClock(a.data_dir)
            async with database.owner_engine.begin() as c:
                for t in ("measurement", "measurement_revision", "assessment"):
                    await c.execute(text(f"analyze {t}"))
            print("analyze:", clock.report(), flush=True)
        from server.tenants.load import organisation_ids
        from server.assessment_store.recompute import recompute_one
        async with database.session() as session:
            ids = await organisation_ids(session)
        scale = Scale()
        codes = {ids[c]: c for c in organisation_codes(scale)}
        chosen = list(codes)[: a.orgs]
        for round_ in range(a.rounds):
            clock = CpuClock(a.data_dir)
            rows = 0
            for org in chosen:
                rows += await resubmit_month(database, org, codes=codes, indicators=scale.indicators, month=last_complete_month(), seed=int(time.time()))
            print(f"round {round_}: resubmit month, {len(chosen)} orgs, {rows} rows: {clock.report()}", flush=True)
            clock = CpuClock(a.data_dir)
            derived = 0
            for org in chosen:
                derived += await recompute_one(database, org)
            print(f"round {round_}: recompute {len(chosen)} orgs, {derived} rows: {clock.report()}", flush=True)
    finally:
        await database.dispose()
        stop_national(a.data_dir)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--analyze", action="store_true")
    asyncio.run(main(parser.parse_args()))
