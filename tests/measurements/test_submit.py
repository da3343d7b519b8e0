"""Submissions under concurrency: twenty people saving different wards of one indicator at once all
succeed, and the ratings stored afterwards are exactly what a fresh recompute derives."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text

from server.assessment_store.evidence import evidence_document
from server.assessment_store.methods import METHOD_OF
from server.assessment_store.recompute import assessment_settings, derive_assessments
from server.db.session import AccessContext
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements
from tests.measurements.factories import Trust, create_trust

COMPARED = ("value", "target", "trajectory", "rag", "variation", "assurance", "periods_under_target", "failure_forecast",
            "masked_failure", "is_latest", "evidence")
MONTHS = [dt.date(2025, month, 1) for month in range(1, 13)]


@pytest.fixture(scope="module")
async def trust(database) -> Trust:
    trust = await create_trust(database, "CONC1", wards=20)
    # A year of history at every ward: the falls count sits around its target of 10 at trust level.
    history = [MeasurementItem("FALLS", ward, month, value=(index + number) % 3) for number, ward in enumerate(trust.leaf_codes)
               for index, month in enumerate(MONTHS)]
    async with database.session(trust.access) as session:
        outcome = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=history, reason="history")
    assert outcome.ok, outcome.problems
    return trust


async def _stored(database, trust: Trust, indicator_id: int) -> dict:
    async with database.session(trust.access) as session:
        rows = (await session.exec(text(
            f"select unit_id, period, spc_points, {METHOD_OF} as method, {', '.join(COMPARED)} from assessment a where indicator_id = :i"),
            params={"i": indicator_id})).mappings().all()
    # As readers see them: the evidence whole again, as derive_assessments gives it.
    return {(row["unit_id"], row["period"]): {name: evidence_document(row[name], row["spc_points"], row["method"]) if name == "evidence" else row[name]
                                              for name in COMPARED} for row in rows}


async def _fresh(database, trust: Trust, indicator_id: int) -> dict:
    async with database.session(trust.access) as session:
        rows = await derive_assessments(session, trust.org_id, await assessment_settings(session, trust.org_id), [indicator_id])
    return {(row["unit_id"], row["period"]): {name: row[name] for name in COMPARED} for row in rows}


async def test_twenty_concurrent_submitters_on_one_indicator_all_succeed_and_ratings_equal_a_fresh_recompute(database, trust) -> None:
    async def submit(ward: str, value: int):  # type: ignore[no-untyped-def]
        async with database.session(trust.access) as session:
            return await submit_measurements(
                session, org_id=trust.org_id, user_id=None, items=[MeasurementItem("FALLS", ward, MONTHS[-1], value=value)], reason="ward return")

    for round_number, value in enumerate((9, 0), start=1):  # a failing month, then a recovered one, every ward at once
        outcomes = await asyncio.gather(*(submit(ward, value) for ward in trust.leaf_codes), return_exceptions=True)
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert errors == [], f"round {round_number}: {errors[:3]}"
        assert all(outcome.ok and len(outcome.changed) == 1 for outcome in outcomes)
        stored = await _stored(database, trust, trust.indicators["FALLS"])
        assert stored == await _fresh(database, trust, trust.indicators["FALLS"])
        trust_latest = next(row for (unit, period), row in stored.items() if unit is None and period == MONTHS[-1])
        assert trust_latest["value"] == 20 * value
        assert trust_latest["rag"] == ("red" if value == 9 else "green")


async def test_resending_the_same_values_stores_nothing_and_changes_no_rating(database, trust) -> None:
    items = [MeasurementItem("FALLS", trust.leaf_codes[0], month, value=(index % 3)) for index, month in enumerate(MONTHS[:3])]
    async with database.session(trust.access) as session:
        before = await _revision_count(session, trust)
        outcome = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=items, reason="again")
        assert outcome.ok and outcome.changed == [] and len(outcome.recorded) == 3
        assert await _revision_count(session, trust) == before


async def test_a_changed_value_keeps_the_old_one_as_a_revision(database, trust) -> None:
    ward, month = trust.leaf_codes[1], MONTHS[0]
    async with database.session(trust.access) as session:
        first = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=[MeasurementItem("FALLS", ward, month, value=7)],
                                          reason="corrected")
        history = (await session.exec(text(
            "select r.revision, r.value, r.reason from measurement_history r where r.measurement_id = :m order by r.revision"),
            params={"m": first.recorded[0].measurement_id})).all()
    assert first.recorded[0].revision == 2
    assert [(revision, float(value), reason) for revision, value, reason in history] == [(1, 1.0, "history"), (2, 7.0, "corrected")]


async def test_validated_status_is_refused_without_the_permission_and_stored_with_it(database, trust) -> None:
    item = MeasurementItem("FALLS", trust.leaf_codes[2], MONTHS[1], value=2, status="validated")
    async with database.session(trust.access) as session:
        refused = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=[item])
        allowed = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=[item], may_validate=True)
        status = (await session.exec(text("select status from measurement where id = :m"), params={"m": allowed.recorded[0].measurement_id})).scalar_one()
    assert [p.field for p in refused.problems] == ["status"]
    assert allowed.ok and status == "validated"


@pytest.mark.parametrize("item", [
    MeasurementItem("FALLS", "CONC1-W01", "2025-01-01", value="1e15"),
    MeasurementItem("AE4H", "CONC1-W01", "2025-01-01", numerator="0", denominator="0.0000001"),
    MeasurementItem("FALLS\x00", "CONC1-W01", "2025-01-01", value="1"),
    MeasurementItem("FALLS", "CONC1-W01", "2025-01-01", value="1", status="provisional\x00"),
], ids=["overflow", "rounds-to-zero", "nul-in-code", "nul-in-status"])
async def test_bad_input_is_a_row_problem_and_nothing_is_stored(database, trust, item) -> None:
    async with database.session(trust.access) as session:
        before = await _revision_count(session, trust)
        outcome = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=[item], reason="bad\x00" if item.value == "1" else None)
        assert not outcome.ok and all(p.row in (0, 1) for p in outcome.problems)
        assert await _revision_count(session, trust) == before


async def test_an_id_past_32_bit_is_a_problem_not_a_database_error(database, trust) -> None:
    async with database.session(trust.access) as session:
        outcome = await submit_measurements(session, org_id=trust.org_id, user_id=2**40, items=[MeasurementItem("FALLS", "CONC1-W01", "2025-01-01", value=1)])
    assert [(p.row, p.field) for p in outcome.problems] == [(0, "user")]


async def _revision_count(session, trust: Trust) -> int:  # type: ignore[no-untyped-def]
    return (await session.exec(text("select count(*) from measurement_history where org_id = :o"), params={"o": trust.org_id})).scalar_one()


@pytest.mark.parametrize(("email", "refused"), [("ulht.division@accord.example", True), ("ulht.performance@accord.example", False)])
async def test_the_entry_page_lets_only_validators_mark_a_row_validated(app, database, org_ids, email, refused) -> None:
    from tests.conftest import login
    from tests.web.test_plan_pages import fresh_client, post_form

    access = AccessContext.for_orgs([org_ids["RWD"]])
    async with database.session(access) as session:
        indicator, unit = (await session.exec(text(
            "select i.code, u.code from indicator i, org_unit u where i.org_id = :o and u.org_id = :o and i.rollup = 'sum'"
            " and not exists (select 1 from org_unit c where c.parent_id = u.id) order by i.position, u.code limit 1"), params={"o": org_ids["RWD"]})).one()
    form = {"indicator": indicator, "unit": unit, "period": "2015-07-01", "value": "3", "status": "validated",
            # the validator's row is sent with a NUL in its reason, so it is refused too and nothing is stored either way
            "reason": "" if refused else "checked\x00"}
    async with await fresh_client(app) as person:
        await login(person, email)
        page = await person.get("/organisations/RWD/measurements/new")
        response = await post_form(person, "/organisations/RWD/measurements", page.text, form)
    assert response.status_code == 400
    answer = response.text.lower()  # the entry form words its errors as sentences, the paste form mid-sentence
    assert ("only people who may validate measurements" in answer) is refused
    assert ("contains a nul character" in answer) is not refused
    async with database.session(access) as session:
        assert (await session.exec(text("select count(*) from measurement where org_id = :o and period = '2015-07-01'"),
                                   params={"o": org_ids["RWD"]})).scalar_one() == 0
