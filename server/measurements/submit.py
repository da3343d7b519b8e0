"""Submit measurements: record them, re-derive the affected assessments (and the system figures
computed from them, members.py) and run the ladders — one transaction, so a reader never sees new
data with stale ratings.

Concurrent submitters are serialised per indicator between writing and deriving (see
server/assessment_store/locks.py), so the stored assessments always equal a fresh recompute.
"""
from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.members import derive_member_systems, run_system_ladders
from server.assessment_store.recompute import assessment_settings, recompute_organisation
from server.auth.authz import Authorizer, Principal, org_domain
from server.escalation_store.run import run_ladders_for_indicators
from server.measurements.record import MeasurementItem, RecordOutcome, record_measurements


async def submit_measurements(
    session: AsyncSession, *, org_id: int, user_id: int | None, items: list[MeasurementItem], source: str = "manual",
    reason: str | None = None, may_validate: bool = False,
) -> RecordOutcome:
    """Record, derive and run the ladders. Only a caller holding ``measurement validate`` may send ``may_validate=True``."""
    outcome = await record_measurements(
        session, org_id=org_id, user_id=user_id, items=items, source=source, reason=reason, may_validate=may_validate)
    if not outcome.ok or not outcome.changed:
        return outcome  # identical values change no rating
    changed: dict[int, set[dt.date]] = {}
    for row in outcome.changed:
        changed.setdefault(row.indicator_id, set()).add(row.period)
    await recompute_organisation(session, org_id, await assessment_settings(session, org_id), indicator_ids=sorted(changed), changed=changed)
    # Issue 15: the system figures these feed are recomposed and derived in this transaction too.
    systems = await derive_member_systems(session, org_id, changed)
    # Only the subjects whose facts read the changed indicators: the others' facts did not change.
    await run_ladders_for_indicators(session, org_id, changed)
    await run_system_ladders(session, systems)
    return outcome


def may_validate(authorizer: Authorizer, principal: Principal | None, org_code: str) -> bool:
    """Whether this caller may mark measurements validated: the policy's ``measurement validate``."""
    return authorizer.allows(principal, org_domain(org_code), "measurement", "validate")
