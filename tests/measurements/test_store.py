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
            "select count(*), count(*) filter (where r.revision = 2 and r.value = 9) from measurement_history r where r.org_id = :o"),
            params={"o": trust.org_id})).one()
    assert tuple(counts) == (len(items) + len(trust.leaf_codes), len(trust.leaf_codes))


async def test_a_first_value_is_stored_once_and_a_replaced_one_is_kept_with_its_reason(database) -> None:
    """Migration 0030: the current version is the measurement row; measurement_revision receives a
    version only when it is replaced, as it was (value, source, reason); measurement_history reads all."""
    trust = await create_trust(database, "HIST1", wards=2)
    ward, month = trust.leaf_codes[0], MONTHS[0]

    async def send(value: str, source: str, reason: str) -> None:
        async with database.session(trust.access) as session:
            outcome = await record_measurements(session, org_id=trust.org_id, user_id=None, source=source, reason=reason,
                                                items=[MeasurementItem("FALLS", ward, month, value=value)])
        assert outcome.ok, outcome.problems

    async def read() -> tuple[list, list, tuple]:  # type: ignore[type-arg]
        async with database.session(trust.access) as session:
            kept = (await session.exec(text(
                "select revision, value, source, reason from measurement_revision where org_id = :o order by revision"),
                params={"o": trust.org_id})).all()
            history = (await session.exec(text(
                "select revision, value, source, reason from measurement_history where org_id = :o order by revision"),
                params={"o": trust.org_id})).all()
            current = (await session.exec(text("select revision, value, source, reason from measurement where org_id = :o"),
                                          params={"o": trust.org_id})).one()
        return [tuple(r) for r in kept], [tuple(r) for r in history], tuple(current)

    await send("3", "upload", "first return")
    kept, history, current = await read()
    assert kept == [] and history == [(1, 3, "upload", "first return")] and current == (1, 3, "upload", "first return")
    await send("4", "manual", "corrected by the ward")
    await send("4", "manual", "sent again")  # the same value: nothing is replaced, nothing kept
    await send("5", "upload", "resubmitted")
    kept, history, current = await read()
    assert kept == [(1, 3, "upload", "first return"), (2, 4, "manual", "corrected by the ward")]
    assert history == [*kept, (3, 5, "upload", "resubmitted")] and current == (3, 5, "upload", "resubmitted")


async def test_a_history_written_before_migration_0030_is_read_once_and_replaced_without_a_duplicate(database) -> None:
    """Histories stored earlier hold their current version as a revision too: the view shows it once,
    and replacing it keeps nothing twice."""
    trust = await create_trust(database, "HIST2", wards=1)
    item = MeasurementItem("FALLS", trust.leaf_codes[0], MONTHS[1], value="2")
    async with database.session(trust.access) as session:
        assert (await record_measurements(session, org_id=trust.org_id, user_id=None, items=[item], reason="old way")).ok
        await session.exec(text(
            "insert into measurement_revision (org_id, measurement_id, period, revision, value, status, source, recorded_at, reason)"
            " select org_id, id, period, revision, value, status, source, recorded_at, reason from measurement where org_id = :o"),
            params={"o": trust.org_id})
    async with database.session(trust.access) as session:
        assert (await session.exec(text("select count(*) from measurement_history where org_id = :o"), params={"o": trust.org_id})).scalar_one() == 1
        replaced = MeasurementItem(item.indicator_code, item.unit_code, item.period, value="6")
        assert (await record_measurements(session, org_id=trust.org_id, user_id=None, items=[replaced], reason="new way")).ok
        history = (await session.exec(text(
            "select revision, value, reason from measurement_history where org_id = :o order by revision"), params={"o": trust.org_id})).all()
    assert [tuple(r) for r in history] == [(1, 2, "old way"), (2, 6, "new way")]
