"""SPC points stored column-wise (migration 0028): every reader answers as the whole JSON document did.

The expected answer is the engine's full evidence (points as JSON objects) passed through jsonb as
it used to be stored; the stored form is the evidence without its points plus their bytes.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from schema.assessments import Assessment, latest_assessment
from server.assessment_store.evidence import evidence_document, split_evidence
from server.assessment_store.points import observed_points, points_document
from server.assessment_store.recompute import _derive, _indicator_ids, assessment_settings, runner_access
from server.assessment_store.rows import EVIDENCE, NAMES
from server.reporting.series import indicator_series
from server.settings import PROJECT_ROOT

ORGANISATIONS = ("RWD", "RXW", "STW")  # ULHT's divisions and wards, a trust of STW, the system itself


def _without_digest(document: dict) -> dict:  # type: ignore[type-arg]
    return {key: value for key, value in document.items() if key != "digest"}


async def _as_jsonb(session, documents: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """Documents as the database used to give them back: stored as jsonb, read through the driver."""
    texts = [orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode() for document in documents]
    rows = (await session.exec(text("select cast(d as jsonb) from unnest(cast(:docs as text[])) with ordinality x(d, o) order by o"),
                               params={"docs": texts})).all()
    return [row[0] for row in rows]


async def _whole_documents(database, org_id: int):  # type: ignore[no-untyped-def]
    """Per latest series (indicator, unit or None): the full document the engine explains, through jsonb."""
    async with database.session(await runner_access(database, org_id)) as session:
        derivation = await _derive(session, org_id, await assessment_settings(session, org_id), await _indicator_ids(session, org_id))
        assert derivation is not None
        latest = derivation.latest.tolist()
        keys, documents = [], []
        for s, key in enumerate(derivation.series.keys):
            if latest[s] < 0:
                continue
            document = derivation.explain(s)
            documents.append({**document, "spc": derivation.spc.explain(s)})  # with its points, as stored before 0028
            keys.append((key.indicator_id, None if key.depth == 0 else key.unit_id))
        return dict(zip(keys, await _as_jsonb(session, documents)))


@pytest.mark.parametrize("code", ORGANISATIONS)
async def test_the_graphql_evidence_is_the_whole_document_as_jsonb_gave_it(database, org_ids, code) -> None:
    """Byte for byte as JSON (keys in jsonb's order), for every latest series of the organisation."""
    expected = await _whole_documents(database, org_ids[code])
    assert len(expected) > 20
    async with database.session(await runner_access(database, org_ids[code])) as session:
        for (indicator_id, unit_id), whole in expected.items():
            row, method = await latest_assessment(session, indicator_id, unit_id)
            read = Assessment.from_row(row, None, method).evidence
            assert json.dumps(_without_digest(read)) == json.dumps(_without_digest(whole)), (indicator_id, unit_id)


async def test_chart_series_pair_each_stored_row_with_the_documents_observed_point(database, org_ids) -> None:
    """At the organisation level and at three of ULHT's units, every indicator."""
    org_id = org_ids["RWD"]
    expected = await _whole_documents(database, org_id)
    by_unit: dict[int | None, dict[int, dict]] = {}  # type: ignore[type-arg]
    for (indicator_id, unit_id), whole in expected.items():
        by_unit.setdefault(unit_id, {})[indicator_id] = whole
    units = [None, *sorted(unit for unit in by_unit if unit is not None)[:3]]
    checked = 0
    async with database.session(await runner_access(database, org_id)) as session:
        for unit_id in units:
            series = await indicator_series(session, list(by_unit[unit_id]), unit_id=unit_id)
            for indicator_id, points in series.items():
                observed = [p for p in by_unit[unit_id][indicator_id]["spc"]["points"] if p["value"] is not None]
                assert len(points) == len(observed)
                for point, whole in zip(points, observed):
                    assert (point.mean, point.lower_limit, point.upper_limit, point.point_type) == (
                        whole["mean"], whole["lower_limit"], whole["upper_limit"], whole["point_type"]), (unit_id, indicator_id)
                    checked += 1
    assert checked > 600


async def test_points_and_method_split_from_a_document_read_back_as_it(database, org_ids) -> None:
    """The inverse used by stored rows made from dicts (store_assessments)."""
    expected = await _whole_documents(database, org_ids["RXW"])
    for whole in list(expected.values())[:50]:
        rest, points, method = split_evidence(whole)
        assert "points" not in rest["spc"] and "method" not in rest["spc"] and "rule_set" not in rest["rag"] and points is not None
        assert json.dumps(evidence_document(rest, points, method)) == json.dumps(whole)
        observed = [p for p in whole["spc"]["points"] if p["value"] is not None]
        assert [point.index for point in observed_points(points)] == [p["index"] for p in observed]


def _migration():  # type: ignore[no-untyped-def]
    path = PROJECT_ROOT / "migrations" / "versions" / "0028_spc_points_column_wise.py"
    spec = importlib.util.spec_from_file_location("migration_0028", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_writes_stored_documents_points_as_the_code_reads_them_and_back(database, org_ids) -> None:
    """0028 turns each stored document's points into the bytes in SQL; its downgrade decodes them in Python."""
    migration = _migration()
    expected = await _whole_documents(database, org_ids["RWD"])
    documents = list(expected.values())[:80]
    async with database.session(await runner_access(database, org_ids["RWD"])) as session:
        converted = (await session.exec(text(
            f"select (select {' || '.join(migration._runs())} from jsonb_array_elements(cast(d as jsonb) #> '{{spc,points}}')"
            " with ordinality e(p, o)) from unnest(cast(:docs as text[])) with ordinality x(d, n) order by n"),
            params={"docs": [json.dumps(document) for document in documents]})).all()
    for document, (stored,) in zip(documents, converted):
        assert json.dumps(points_document(stored)) == json.dumps(document["spc"]["points"])
        assert migration._points(stored) == document["spc"]["points"]


async def test_only_a_series_latest_row_stores_points_and_its_evidence_has_none(database, org_ids) -> None:
    async with database.session(await runner_access(database, org_ids["RWD"])) as session:
        counts = (await session.exec(text(
            "select count(*) filter (where is_latest and spc_points is not null), count(*) filter (where is_latest),"
            " count(*) filter (where not is_latest and spc_points is not null), count(*) filter (where evidence #> '{spc,points}' is not null)"
            " from assessment"))).one()
    latest_with_points, latest, others_with_points, documents_with_points = counts
    assert latest_with_points == latest > 0 and others_with_points == 0 and documents_with_points == 0
    assert NAMES[EVIDENCE + 1] == "spc_points"


async def test_a_method_description_is_stored_once_for_every_series_that_shares_it(database, org_ids) -> None:
    """Every latest row derived since 0028a names one, whose document has none of its own; a few in all."""
    async with database.session(await runner_access(database, org_ids["RWD"])) as session:
        named, latest, documents_with_method = (await session.exec(text(
            "select count(*) filter (where method_digest is not null), count(*), count(*) filter (where evidence #> '{spc,method}' is not null)"
            " from assessment where is_latest"))).one()
        descriptions = (await session.exec(text(
            "select count(distinct method_digest) from assessment where is_latest"))).scalar_one()
    assert named == latest > 100 and documents_with_method == 0
    assert 1 <= descriptions <= 3  # ULHT's settings (its neutral, rated and trajectory series may differ in none)
