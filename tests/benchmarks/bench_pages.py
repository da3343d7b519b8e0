"""The system position page and the IPR page served in-process, at national scale: CPU per request.

    .venv/bin/python tests/benchmarks/bench_pages.py --data-dir DIR [--requests 40] [--profile ipr|system]

Cheaper than bench_graphql.py's wrk run on a shared machine, and steadier: each page is asked for
``--requests`` times in a row (after a few warm-up requests) through the app in this process
(httpx's ASGI transport, the national reader's session), and the table gives this process's CPU
and PostgreSQL's (the postmaster and its backends) per request, with their medians over five
slices, and the machine's load. ``--profile`` prints cProfile's top functions for one page
instead. Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_graphql import cpu_ms, postmaster_pid  # noqa: E402
from tests.benchmarks.national import add_scale_arguments, open_national, stop_national, system_code, trust_code  # noqa: E402


async def timed(client: httpx.AsyncClient, path: str, requests: int, postgres: int) -> tuple[list[float], list[float], int]:
    """(app CPU ms, PostgreSQL CPU ms) per request for five slices of ``requests``, and the page's size."""
    app_costs, pg_costs, size = [], [], 0
    per_slice = max(1, requests // 5)
    for _ in range(5):
        started_app, started_pg = time.process_time(), cpu_ms([postgres])
        for _ in range(per_slice):
            response = await client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
            size = len(response.content)
        app_costs.append((time.process_time() - started_app) * 1000 / per_slice)
        pg_costs.append((cpu_ms([postgres]) - started_pg) / per_slice)
    return app_costs, pg_costs, size


async def main(arguments: argparse.Namespace) -> None:
    database, credentials, settings = await open_national(
        orgs=arguments.orgs, indicators=arguments.indicators, months=arguments.months, data_dir=arguments.data_dir,
    )
    from server.app import build_services, create_app

    app = create_app(services=build_services(settings, database))
    pages = {"system": f"/systems/{system_code(1)}", "ipr": f"/organisations/{trust_code(1, 1)}"}
    postgres = postmaster_pid(arguments.data_dir)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     cookies={"accord_session": credentials["national_session"]}) as client:
            for path in pages.values():
                for _ in range(3):
                    await client.get(path)
            if arguments.spin:  # for a sampling profiler attached from outside (py-spy record -- ...)
                for _ in range(arguments.requests):
                    await client.get(pages[arguments.spin])
                return
            if arguments.profile:
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(arguments.requests):
                    await client.get(pages[arguments.profile])
                profile.disable()
                pstats.Stats(profile).sort_stats("tottime").print_stats(arguments.top)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(arguments.top)
                return
            print(f"{arguments.requests} requests per page, in-process; load average {os.getloadavg()[0]:.1f}")
            print(f"{'page':<10} {'app CPU ms/req (median, range)':>32} {'PostgreSQL CPU ms/req (median, range)':>40} {'bytes':>9}")
            for name, path in pages.items():
                app_costs, pg_costs, size = await timed(client, path, arguments.requests, postgres)
                print(f"{name:<10} {statistics.median(app_costs):>12.1f} ({min(app_costs):.1f}-{max(app_costs):.1f}){'':>10}"
                      f" {statistics.median(pg_costs):>16.1f} ({min(pg_costs):.1f}-{max(pg_costs):.1f}){'':>12} {size:>9,}", flush=True)
            print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        await database.dispose()
        if arguments.stop:
            stop_national(arguments.data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", choices=["system", "ipr"])
    parser.add_argument("--spin", choices=["system", "ipr"], help="only ask for one page --requests times (for py-spy)")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--stop", action="store_true", help="stop the embedded PostgreSQL at the end")
    asyncio.run(main(parser.parse_args()))
