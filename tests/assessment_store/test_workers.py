"""A recompute shared between worker processes stores what one process would."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event, text

from server.assessment_store.evidence import evidence_document
from server.assessment_store.methods import METHOD_OF
from server.assessment_store.recompute import assessment_settings, derive_assessments, recompute_all
from server.assessment_store.workers import worker_count
from server.measurements.record import MeasurementItem, record_measurements
from tests.measurements.factories import create_trust

MONTHS = [dt.date(2025, month, 1) for month in range(1, 7)]


def test_workers_are_one_per_core_only_when_there_are_enough_organisations() -> None:
    assert worker_count(5) == 1
    assert worker_count(5, requested=3) == 3
    assert worker_count(2, requested=3) == 2


async def test_two_workers_derive_every_organisation_as_one_process_would(database) -> None:
    first, second = await create_trust(database, "WORK1", wards=2), await create_trust(database, "WORK2", wards=2)
    for trust in (first, second):
        async with database.session(trust.access) as session:
            # Recorded without deriving: only the recompute derives these.
            outcome = await record_measurements(session, org_id=trust.org_id, user_id=None, reason="history", items=[
                MeasurementItem("FALLS", ward, month, value=index % 4) for ward in trust.leaf_codes for index, month in enumerate(MONTHS)])
            assert outcome.ok

    sent: list[str] = []

    def note(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        sent.append(" ".join(statement.lower().split()))

    owner = database.owner_engine.sync_engine
    event.listen(owner, "before_cursor_execute", note)
    try:
        await recompute_all(database, workers=2)
    finally:
        event.remove(owner, "before_cursor_execute", note)
    # The planner's statistics refreshed first: the two trusts were recorded since PostgreSQL last sampled.
    assert "analyze measurement, org_unit, indicator, assessment" in sent

    for trust in (first, second):
        async with database.session(trust.access) as session:
            stored = (await session.exec(text(
                f"select unit_id, period, rag, evidence, spc_points, {METHOD_OF} as method from assessment a where indicator_id = :i"),
                params={"i": trust.indicators["FALLS"]})).all()
            fresh = await derive_assessments(session, trust.org_id, await assessment_settings(session, trust.org_id), [trust.indicators["FALLS"]])
        assert len(stored) == len(fresh) == len(MONTHS) * 4  # two wards, their division and the trust
        assert {(row.unit_id, row.period): (row.rag, evidence_document(row.evidence, row.spc_points, row.method)) for row in stored} == {
            (row["unit_id"], row["period"]): (row["rag"], row["evidence"]) for row in fresh}
