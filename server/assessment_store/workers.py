"""Run one job per organisation in worker processes, each organisation in its own transaction.

Deriving is mostly Python, and one process runs Python on one core at a time; PostgreSQL's share of
the work runs in its own processes. On a machine with N cores, N workers each taking every N-th
organisation keep the cores busy. Workers share nothing but the database: each job takes the same
locks as it would in the calling process (locks.py), so the result is the same as running them one
after the other. Starting a worker costs about a second (a fresh interpreter: ``spawn`` is used
because the caller runs an event loop, which a forked child would inherit), so it is only worth it
for many organisations.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from server.db.server import DatabaseUrls
from server.db.session import Database

# A job: what one organisation needs done, given a database of the worker's own. Must be a
# module-level function (it is sent to the worker by name).
Job = Callable[[Database, int], Awaitable[int]]
ORGANISATIONS_PER_WORKER = 20  # below this, starting a worker costs more than it saves


def worker_count(organisations: int, requested: int | None = None) -> int:
    """``requested``, or one per core when there are enough organisations to share out."""
    if requested is not None:
        return max(1, min(requested, organisations))
    return max(1, min(os.cpu_count() or 1, organisations // ORGANISATIONS_PER_WORKER))


async def run_per_organisation(database: Database, job: Job, org_ids: Sequence[int], workers: int = 1) -> int:
    """``job`` for each organisation, in this process (``workers`` 1) or spread over worker processes; the sum of the results."""
    if workers <= 1:
        return sum([await job(database, org_id) for org_id in org_ids])
    shares = [list(org_ids[start::workers]) for start in range(workers)]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, _run_share, job, database.urls, share) for share in shares))
    return sum(results)


def _run_share(job: Job, urls: DatabaseUrls, org_ids: list[int]) -> int:
    return asyncio.run(_share(job, urls, org_ids))


async def _share(job: Job, urls: DatabaseUrls, org_ids: list[int]) -> int:
    database = Database(urls, pool_size=2)
    try:
        return sum([await job(database, org_id) for org_id in org_ids])
    finally:
        await database.dispose()
