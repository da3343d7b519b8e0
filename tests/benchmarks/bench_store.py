"""Benchmark the stored path: recompute, incremental submission, and page server time at scale.

    .venv/bin/python tests/benchmarks/bench_store.py [--orgs 20] [--months 60]

Builds a throw-away embedded PostgreSQL with the seed tenants plus ``--orgs`` synthetic trusts
(copies of ULHT's framework, so each has ULHT's unit tree and indicators) in one synthetic system,
generates demo data, then prints:

* full recompute (assessments + ladders) for every organisation, and per series;
* incremental: one organisation submits one new month at every leaf, re-deriving only the
  affected series, compared with recomputing that organisation in full (same run);
* server time of the system position page (all synthetic members) and of one IPR page, as
  medians over repeated requests through the ASGI app, compared with /healthz in the same run.

Not a test: it prints numbers. Figures are recorded in README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import yaml
from sqlalchemy import select, text

from server.app import build_services, create_app
from server.assessment_store.recompute import assessment_settings, recompute_all, recompute_organisation, runner_access
from server.auth.passwords import hash_password
from server.db import migrate
from server.db.models import AppUser, HealthSystem, RoleAssignment
from server.db.server import EmbeddedPostgres
from server.db.session import AccessContext, Database
from server.demo.generate import generate_demo_measurements
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements
from server.settings import PROJECT_ROOT, Settings
from server.tenants.load import load_tenants, organisation_ids, validate_tenants


def synthetic_tenants(directory: Path, count: int) -> list[str]:
    for path in (PROJECT_ROOT / "tenants").glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    template = yaml.safe_load((PROJECT_ROOT / "tenants" / "ulht.yaml").read_text())
    codes = []
    for index in range(1, count + 1):
        code = f"BT{index:03d}"
        codes.append(code)
        tenant = yaml.safe_load(yaml.safe_dump(template))
        tenant["organisation"].update(code=code, ods_code=code, name=f"Benchmark Trust {index}", short_name=code)

        def recode(unit: dict) -> None:
            unit["code"] = unit["code"].replace("RWD", code)
            for child in unit.get("children", []):
                recode(child)

        for unit in tenant["units"]:
            recode(unit)
        for indicator in tenant["indicators"]:
            for target in indicator.get("targets", []):
                if "unit" in target:
                    target["unit"] = target["unit"].replace("RWD", code)
        tenant.pop("peer_groups", None)  # ULHT's own peers, which would list each copy beside itself
        (directory / f"bench-{code}.yaml").write_text(yaml.safe_dump(tenant, sort_keys=False))
    system = {
        "organisation": {"code": "BENCHSYS", "name": "Benchmark Integrated Care System", "kind": "system"},
        "system": {"code": "BENCHSYS", "name": "Benchmark Integrated Care System", "members": codes},
    }
    (directory / "bench-system.yaml").write_text(yaml.safe_dump(system, sort_keys=False))
    return codes


async def timed(label: str, coroutine):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = await coroutine
    elapsed = time.perf_counter() - start
    print(f"{label:<62} {elapsed:8.2f} s")
    return result, elapsed


async def median_request(client: httpx.AsyncClient, url: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = await client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


@asynccontextmanager
async def synthetic_database(orgs: int, *, prefix: str, pool_size: int) -> AsyncIterator[tuple[Database, Path, list[str], dict[str, int]]]:
    """A throw-away embedded PostgreSQL, migrated, with the seed tenants plus ``orgs`` synthetic trusts
    loaded: (database, tenants directory, the trusts' codes, every organisation's id). Removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    tenants_dir = workdir / "tenants"
    tenants_dir.mkdir()
    codes = synthetic_tenants(tenants_dir, orgs)
    embedded = EmbeddedPostgres(workdir, database="accord_bench")
    database = Database(embedded.start(), pool_size=pool_size)
    try:
        await migrate.upgrade(database.owner_engine)
        await load_tenants(database, tenants_dir)
        async with database.session() as session:
            ids = await organisation_ids(session)
        yield database, tenants_dir, codes, ids
    finally:
        await database.dispose()
        embedded.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def main(orgs: int, months: int, repeats: int) -> None:
    async with synthetic_database(orgs, prefix="accord-bench-", pool_size=5) as (database, tenants_dir, codes, ids):
        async with database.session(AccessContext.for_orgs(ids.values(), write=True)) as session:
            rows = await generate_demo_measurements(session, validate_tenants(tenants_dir), months=months, until=dt.date(2026, 11, 1))
        print(f"{len(ids)} organisations, {rows:,} measurements over {months} months")

        stored, full_seconds = await timed("full recompute: assessments + ladders, every organisation", recompute_all(database))
        async with database.session(AccessContext.for_orgs(ids.values())) as session:
            series = (await session.exec(text("select count(distinct (indicator_id, unit_id)) from assessment"))).scalar_one()
        print(f"  {stored:,} assessment rows, {series:,} series: {full_seconds / series * 1000:.2f} ms per series")

        org_id = ids[codes[0]]
        access = await runner_access(database, org_id)
        async with database.session(access) as session:
            spec = await assessment_settings(session, org_id)
            leaves = (await session.exec(text(
                "select code from org_unit u where org_id = :o and not exists (select 1 from org_unit c where c.parent_id = u.id)"), params={"o": org_id})).scalars().all()
            indicator = (await session.exec(text("select code from indicator where org_id = :o and rollup = 'sum' order by position limit 1"), params={"o": org_id})).scalar_one()
        _, org_full = await timed(f"one organisation ({codes[0]}) recomputed in full", _in_session(database, access, lambda s: recompute_organisation(s, org_id, spec)))
        items = [MeasurementItem(indicator, leaf, dt.date(2026, 11, 1), value=3) for leaf in leaves]
        _, incremental = await timed("incremental: one new month for one indicator, every leaf", _in_session(
            database, access, lambda s: submit_measurements(s, org_id=org_id, user_id=None, items=items, reason="benchmark")))
        print(f"  incremental / full organisation recompute = {incremental / org_full:.2f}")

        await _page_timings(database, tenants_dir, codes, repeats)


async def _in_session(database: Database, access: AccessContext, work):  # type: ignore[no-untyped-def]
    async with database.session(access) as session:
        return await work(session)


async def _page_timings(database: Database, tenants_dir: Path, codes: list[str], repeats: int) -> None:
    async with database.session() as session:
        system_id = (await session.exec(select(HealthSystem.id).where(HealthSystem.code == "BENCHSYS"))).scalar_one()
        user = AppUser(email="bench@accord.example", name="Bench Lead", password_hash=hash_password("bench-password"))
        session.add(user)
        await session.flush()
        session.add(RoleAssignment(user_id=user.id, role="system_viewer", system_id=system_id))
    settings = Settings(environment="test", tenants_dir=tenants_dir)
    app = create_app(services=build_services(settings, database))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:  # an allowed host
        page = await client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        await client.post("/login", data={"email": "bench@accord.example", "password": "bench-password", "csrf_token": token})
        health = await median_request(client, "/healthz", repeats)
        home = await median_request(client, "/", repeats)
        system = await median_request(client, "/systems/BENCHSYS", repeats)
        ipr = await median_request(client, f"/organisations/{codes[0]}", repeats)
    print(f"median server time over {repeats} requests (ASGI, no network):")
    print(f"  /healthz {health * 1000:7.1f} ms   home {home * 1000:7.1f} ms")
    print(f"  system position, {len(codes)} members {system * 1000:7.1f} ms  ({system / health:.0f}x /healthz)")
    print(f"  organisation IPR                       {ipr * 1000:7.1f} ms  ({ipr / health:.0f}x /healthz)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=15)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.orgs, arguments.months, arguments.repeats))
