"""Assessments are stored by difference: an unchanged derivation writes nothing, and the stored rows
always end equal to what was derived — changed rows updated, new ones added, vanished ones removed."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from server.assessment_store.recompute import assessment_settings, derive_assessments
from server.assessment_store.store import StoredChanges, store_assessments
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements
from tests.measurements.factories import create_trust

MONTHS = [dt.date(2025, month, 1) for month in range(1, 7)]


async def test_only_what_changed_is_written_and_the_result_equals_the_derivation(database) -> None:
    trust = await create_trust(database, "STORE1", wards=3)
    indicator_id = trust.indicators["FALLS"]
    history = [MeasurementItem("FALLS", ward, month, value=index % 4) for ward in trust.leaf_codes for index, month in enumerate(MONTHS)]
    async with database.session(trust.access) as session:
        assert (await submit_measurements(session, org_id=trust.org_id, user_id=None, items=history)).ok
        derived = await derive_assessments(session, trust.org_id, await assessment_settings(session, trust.org_id), [indicator_id])
        series_rows_in_last_month = sum(1 for row in derived if row["period"] == MONTHS[-1])

        assert await store_assessments(session, trust.org_id, [indicator_id], derived) == StoredChanges(0, 0, 0)
        without_last_month = [row for row in derived if row["period"] != MONTHS[-1]]
        assert await store_assessments(session, trust.org_id, [indicator_id], without_last_month) == StoredChanges(0, 0, series_rows_in_last_month)
        assert await store_assessments(session, trust.org_id, [indicator_id], derived) == StoredChanges(0, series_rows_in_last_month, 0)
        recoloured = [{**row, "rag": "amber"} if row["unit_id"] is None and row["is_latest"] else row for row in derived]
        assert await store_assessments(session, trust.org_id, [indicator_id], recoloured) == StoredChanges(1, 0, 0)

        stored = (await session.exec(text(
            "select unit_id, period, value, rag, is_latest from assessment where indicator_id = :i order by unit_id nulls first, period"),
            params={"i": indicator_id})).all()
    expected = sorted(((row["unit_id"], row["period"], row["value"], row["rag"], row["is_latest"]) for row in recoloured),
                      key=lambda row: (row[0] is not None, row[0] or 0, row[1]))
    assert [tuple(row) for row in stored] == expected
