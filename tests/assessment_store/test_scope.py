"""A submission stores only the rows it can have changed (scope.py), and the stored rows still equal
a fresh recompute: after a new month, a corrected old month, and a target changed behind its back."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from server.assessment_store.evidence import evidence_document
from server.assessment_store.methods import METHOD_OF
from server.assessment_store.recompute import assessment_settings, derive_assessments, recompute_organisation
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements
from tests.measurements.factories import Trust, create_trust

MONTHS = [dt.date(2025, month, 1) for month in range(1, 10)]
COMPARED = ("value", "target", "trajectory", "rag", "variation", "assurance", "periods_under_target", "failure_forecast",
            "masked_failure", "is_latest", "evidence", "rule_set")


async def _stored(session, indicator_id: int) -> dict:  # type: ignore[no-untyped-def]
    """The stored rows as readers see them (the evidence whole again, as derive_assessments gives it)."""
    rows = (await session.exec(text(f"select unit_id, period, spc_points, {METHOD_OF} as method, {', '.join(COMPARED)} from assessment a where indicator_id = :i"),
                               params={"i": indicator_id})).mappings().all()
    return {(row["unit_id"], row["period"]): {name: evidence_document(row[name], row["spc_points"], row["method"]) if name == "evidence" else row[name]
                                              for name in COMPARED} for row in rows}


async def _fresh(session, trust: Trust, indicator_id: int) -> dict:  # type: ignore[no-untyped-def]
    rows = await derive_assessments(session, trust.org_id, await assessment_settings(session, trust.org_id), [indicator_id])
    return {(row["unit_id"], row["period"]): {name: row[name] for name in COMPARED} for row in rows}


async def _submit(session, trust: Trust, items: list[MeasurementItem]) -> None:  # type: ignore[no-untyped-def]
    outcome = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=items, reason="test")
    assert outcome.ok, outcome.problems


async def _falls_history_computed_long_ago(session, trust: Trust, cycle: int) -> int:  # type: ignore[no-untyped-def]
    """Every ward and month of FALLS submitted, then every row's computed_at set back to 2000, so rewritten rows show."""
    await _submit(session, trust, [MeasurementItem("FALLS", ward, month, value=index % cycle)
                                   for ward in trust.leaf_codes for index, month in enumerate(MONTHS)])
    falls = trust.indicators["FALLS"]
    await session.exec(text("update assessment set computed_at = '2000-01-01' where indicator_id = :i"), params={"i": falls})
    return falls


async def test_a_new_month_and_a_corrected_old_month_leave_exactly_what_a_recompute_derives(database) -> None:
    trust = await create_trust(database, "SCOPE1", wards=4)
    falls = trust.indicators["FALLS"]
    async with database.session(trust.access) as session:
        await _submit(session, trust, [MeasurementItem("FALLS", ward, month, value=(index + number) % 5)
                                       for number, ward in enumerate(trust.leaf_codes) for index, month in enumerate(MONTHS[:-1])])
        # A new latest month at one ward: its rows, its parents', and every series' latest flags move.
        await _submit(session, trust, [MeasurementItem("FALLS", trust.leaf_codes[0], MONTHS[-1], value=9)])
        assert await _stored(session, falls) == await _fresh(session, trust, falls)
        # A correction three months back: that month at every unit (masking compares wards with their
        # parent), and the latest rows' evidence.
        await _submit(session, trust, [MeasurementItem("FALLS", trust.leaf_codes[2], MONTHS[3], value=8)])
        assert await _stored(session, falls) == await _fresh(session, trust, falls)


async def test_a_submission_merges_only_the_periods_it_changed_and_the_latest_rows(database) -> None:
    trust = await create_trust(database, "SCOPE2", wards=3)
    async with database.session(trust.access) as session:
        falls = await _falls_history_computed_long_ago(session, trust, cycle=4)
        await _submit(session, trust, [MeasurementItem("FALLS", trust.leaf_codes[1], MONTHS[2], value=3)])
        touched = (await session.exec(text(
            "select distinct period from assessment where indicator_id = :i and computed_at > '2000-01-01' order by period"),
            params={"i": falls})).scalars().all()
    # Only rows whose content changed are rewritten: the corrected month and the latest month's evidence.
    assert touched == [MONTHS[2], MONTHS[-1]]


async def test_a_target_changed_since_the_last_derivation_is_applied_to_every_period(database) -> None:
    trust = await create_trust(database, "SCOPE3", wards=2)
    falls = trust.indicators["FALLS"]
    async with database.session(trust.access) as session:
        await _submit(session, trust, [MeasurementItem("FALLS", ward, month, value=3)
                                       for ward in trust.leaf_codes for month in MONTHS[:-1]])
        # The target changes without a recompute (as a reloaded tenant file leaves it).
        await session.exec(text("update target set value = 5 where indicator_id = :i"), params={"i": falls})
        await _submit(session, trust, [MeasurementItem("FALLS", trust.leaf_codes[0], MONTHS[-1], value=2)])
        stored = await _stored(session, falls)
        assert stored == await _fresh(session, trust, falls)
        assert {row["target"] for row in stored.values()} == {5.0}


async def test_a_full_recompute_after_a_scoped_submission_changes_nothing(database) -> None:
    trust = await create_trust(database, "SCOPE4", wards=3)
    async with database.session(trust.access) as session:
        await _submit(session, trust, [MeasurementItem("AE4H", ward, month, numerator=90 + index, denominator=100)
                                       for ward in trust.leaf_codes for index, month in enumerate(MONTHS[:-1])])
        await _submit(session, trust, [MeasurementItem("AE4H", trust.leaf_codes[0], MONTHS[-1], numerator=50, denominator=100)])
        before = await _stored(session, trust.indicators["AE4H"])
        await recompute_organisation(session, trust.org_id, await assessment_settings(session, trust.org_id))
        assert await _stored(session, trust.indicators["AE4H"]) == before


async def test_evidence_with_the_derived_digest_is_not_rewritten_and_a_different_digest_is(database) -> None:
    trust = await create_trust(database, "SCOPE5", wards=2)
    async with database.session(trust.access) as session:
        falls = await _falls_history_computed_long_ago(session, trust, cycle=3)
        # One latest row's evidence no longer matches what it says it is.
        await session.exec(text(
            "update assessment set evidence = jsonb_set(evidence, '{digest}', '\"stale\"') where indicator_id = :i and unit_id is null and is_latest"),
            params={"i": falls})
        await recompute_organisation(session, trust.org_id, await assessment_settings(session, trust.org_id))
        rewritten = (await session.exec(text(
            "select unit_id, is_latest from assessment where indicator_id = :i and computed_at > '2000-01-01'"), params={"i": falls})).all()
        assert [tuple(row) for row in rewritten] == [(None, True)]
        assert await _stored(session, falls) == await _fresh(session, trust, falls)
