"""Submit measurements: record them, re-derive the affected assessments and run the ladders —
one transaction, so a reader never sees new data with stale ratings."""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.recompute import assessment_settings, recompute_organisation
from server.escalation_store.run import run_ladders
from server.measurements.record import MeasurementItem, RecordOutcome, record_measurements


async def submit_measurements(
    session: AsyncSession, *, org_id: int, user_id: int | None, items: list[MeasurementItem], source: str = "manual",
    reason: str | None = None,
) -> RecordOutcome:
    outcome = await record_measurements(session, org_id=org_id, user_id=user_id, items=items, source=source, reason=reason)
    if not outcome.ok or not outcome.recorded:
        return outcome
    affected = sorted({r.indicator_id for r in outcome.recorded})
    await recompute_organisation(session, org_id, await assessment_settings(session, org_id), indicator_ids=affected)
    await run_ladders(session, org_id)
    return outcome
