"""The loader writes every table set-based: its statements do not grow with the files, and edits land;
a large directory is read by worker processes with the same answers."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import event, text

from server.db import migrate
from server.db.session import AccessContext, Database
from server.tenants import parse
from server.tenants.load import load_tenants, organisation_ids
from server.tenants.parse import TenantFileError, parse_tenant_directory_with_files
from tests.conftest import database_urls_for


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bulk_database(postgres_server) -> AsyncIterator[Database]:
    """A database of its own: these tests load organisations the shared one must not have."""
    database = Database(database_urls_for(postgres_server, "accord_tenant_bulk"), pool_size=2)
    await migrate.upgrade(database.owner_engine)
    yield database
    await database.dispose()


def write_tenant(directory: Path, code: str, *, indicators: int = 3, units: list | None = None, target: float = 0.9) -> None:
    tenant = {
        "organisation": {"code": code, "name": f"Trust {code}", "kind": "trust"},
        "tiers": ["trust", "division", "ward"],
        "units": units or [{"code": code, "name": f"Trust {code}", "tier": "trust"}],
        "domains": [{"code": "operational", "name": "Operational performance"}],
        "indicators": [
            {
                "code": f"IND{number}", "name": f"Indicator {number}", "unit": "percent", "polarity": "higher_is_better",
                "rollup": "rate", "domain": "operational", "source": "national",
                "targets": [{"kind": "national", "value": target}],
                "trajectory": [{"period": "2026-01-01", "value": target - 0.1}, {"period": "2026-02-01", "value": target - 0.05}],
            }
            for number in range(indicators)
        ],
        "forums": [{"code": "BOARD", "name": "Board", "tier": "oversight", "chair": "Chair", "frequency": "monthly"}],
    }
    (directory / f"{code.lower()}.yaml").write_text(yaml.safe_dump(tenant, sort_keys=False))


async def statements_to_load(database: Database, directory: Path) -> int:
    count = 0

    def counted(*_: object) -> None:
        nonlocal count
        count += 1

    engine = database.app_engine.sync_engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        await load_tenants(database, directory)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


async def rows(database: Database, sql: str, **params: object) -> list[tuple]:
    async with database.session() as session:
        ids = await organisation_ids(session)
    async with database.session(AccessContext.for_orgs(ids.values())) as session:
        return [tuple(row) for row in (await session.exec(text(sql), params=params)).all()]


async def test_statements_do_not_grow_with_organisations_or_indicators(bulk_database, tmp_path):
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    for code in ("BULKA", "BULKB"):
        write_tenant(small, code, indicators=2)
    for code in ("BULKC", "BULKD", "BULKE", "BULKF"):
        write_tenant(large, code, indicators=40)
    assert await statements_to_load(bulk_database, small) == await statements_to_load(bulk_database, large)


async def test_a_unit_moved_to_another_parent_gets_its_new_path(bulk_database, tmp_path):
    ward = {"code": "MOVE-W", "name": "Ward", "tier": "ward"}
    before = [{"code": "MOVE", "name": "Trust", "tier": "trust", "children": [
        {"code": "MOVE-A", "name": "Division A", "tier": "division", "children": [ward]},
        {"code": "MOVE-B", "name": "Division B", "tier": "division"},
    ]}]
    after = [{"code": "MOVE", "name": "Trust", "tier": "trust", "children": [
        {"code": "MOVE-A", "name": "Division A", "tier": "division"},
        {"code": "MOVE-B", "name": "Division B", "tier": "division", "children": [ward]},
    ]}]
    for units in (before, after):
        write_tenant(tmp_path, "MOVE", units=units)
        await load_tenants(bulk_database, tmp_path)
    units = {code: (unit_id, parent_id, path) for code, unit_id, parent_id, path in await rows(
        bulk_database, "select code, id, parent_id, path from org_unit where code like 'MOVE%'")}
    root, division_b, moved = units["MOVE"], units["MOVE-B"], units["MOVE-W"]
    assert moved[1] == division_b[0]
    assert moved[2] == f"/{root[0]}/{division_b[0]}/{moved[0]}/"


async def test_edited_targets_and_trajectories_replace_the_old_ones(bulk_database, tmp_path):
    write_tenant(tmp_path, "EDIT", indicators=2, target=0.9)
    await load_tenants(bulk_database, tmp_path)
    write_tenant(tmp_path, "EDIT", indicators=2, target=0.8)
    await load_tenants(bulk_database, tmp_path)
    targets = await rows(bulk_database, "select t.value from target t join organisation o on o.id = t.org_id where o.code = 'EDIT'")
    trajectory = await rows(bulk_database, "select t.value from trajectory t join organisation o on o.id = t.org_id where o.code = 'EDIT'")
    assert sorted(float(value) for value, in targets) == [0.8, 0.8]
    assert sorted(round(float(value), 2) for value, in trajectory) == [0.7, 0.7, 0.75, 0.75]


def test_many_files_read_by_workers_give_the_same_tenants_and_problems(tmp_path, monkeypatch):
    for code in ("PARA", "PARB", "PARC"):
        write_tenant(tmp_path, code)
    (tmp_path / "broken.yaml").write_text("organisation: {code: BROKEN, name: [unclosed\n")
    (tmp_path / "wrong.yaml").write_text("organisation: {code: WRONG, name: Wrong, kind: hospital}\n")

    def problems() -> list[str]:
        with pytest.raises(TenantFileError) as error:
            parse_tenant_directory_with_files(tmp_path)
        return [str(problem) for problem in error.value.problems]

    in_process = problems()
    monkeypatch.setattr(parse, "PARALLEL_FROM_FILES", 2)
    assert problems() == in_process
    assert any(p.startswith("broken.yaml: line") for p in in_process) and any(p.startswith("wrong.yaml: organisation.kind") for p in in_process)
    (tmp_path / "broken.yaml").unlink()
    (tmp_path / "wrong.yaml").unlink()
    assert sorted(parse_tenant_directory_with_files(tmp_path)) == ["PARA", "PARB", "PARC"]


def test_the_collector_runs_again_after_reading_a_directory_good_or_bad(tmp_path):
    """Reading pauses Python's cyclic collector (parse.collector_paused); it is back on afterwards,
    whether the files were good or not, and left off where the caller had turned it off."""
    import gc

    write_tenant(tmp_path, "GCOK")
    assert gc.isenabled()
    assert sorted(parse_tenant_directory_with_files(tmp_path)) == ["GCOK"]
    assert gc.isenabled()
    (tmp_path / "broken.yaml").write_text("organisation: {code: BROKEN, name: [unclosed\n")
    with pytest.raises(TenantFileError):
        parse_tenant_directory_with_files(tmp_path)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(TenantFileError):
            parse_tenant_directory_with_files(tmp_path)
        assert not gc.isenabled()
    finally:
        gc.enable()
