"""Measurements are stored in bulk whichever way a batch reaches the server: a re-import of the same
rows stores nothing, and changed rows get a revision while the old value stays."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from server.measurements.record import MeasurementItem, record_measurements
from server.measurements.store import COPY_FROM_ROWS
from tests.measurements.factories import create_trust

MONTHS = [dt.date(2022 + month // 12, month % 12 + 1, 1) for month in range(36)]


@pytest.mark.parametrize(("code", "batch_rows"), [("BULK1", 720), ("BULK2", COPY_FROM_ROWS - 1)], ids=["by-copy", "by-unnest"])
async def test_a_reimport_stores_nothing_new_and_a_change_keeps_the_old_value(database, code, batch_rows) -> None:
    trust = await create_trust(database, code, wards=20)
    items = [MeasurementItem("FALLS", ward, month, value=str(index % 5)) for ward in trust.leaf_codes for index, month in enumerate(MONTHS)]
    assert len(items) == 720 >= COPY_FROM_ROWS

    async def import_all(rows: list[MeasurementItem]) -> list[int]:
        """The rows in submissions of ``batch_rows``; the revision of each row that changed."""
        revisions = []
        for start in range(0, len(rows), batch_rows):
            async with database.session(trust.access) as session:
                outcome = await record_measurements(session, org_id=trust.org_id, user_id=None, items=rows[start:start + batch_rows])
            assert outcome.ok, outcome.problems[:3]
            revisions += [r.revision for r in outcome.changed]
        return revisions

    assert await import_all(items) == [1] * len(items)
    assert await import_all(items) == []
    changed = [MeasurementItem(i.indicator_code, i.unit_code, i.period, value="9") if i.period == MONTHS[-1] else i for i in items]
    assert await import_all(changed) == [2] * len(trust.leaf_codes)
    async with database.session(trust.access) as session:
        counts = (await session.exec(text(
            "select count(*), count(*) filter (where r.revision = 2 and r.value = 9) from measurement_revision r where r.org_id = :o"),
            params={"o": trust.org_id})).one()
    assert tuple(counts) == (len(items) + len(trust.leaf_codes), len(trust.leaf_codes))
