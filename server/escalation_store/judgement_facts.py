"""The facts people's judgements supply to the ladders: the current judgement of each declared kind,
and each kind's clock (whole months since the judgement took the clock's value)."""
from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation.engine import whole_months_between
from server.judgements.store import current_judgements, declared
from server.tenants.load import framework_of


async def judgement_facts(session: AsyncSession, org_id: int, *, at: dt.datetime) -> dict[str, dict[str, object]]:
    """Per subject key, the judgement facts in force at ``at``: one statement."""
    framework = await framework_of(session, org_id)
    if framework is None or not framework.judgements:
        return {}
    facts: dict[str, dict[str, object]] = {}
    for judgement in declared(await current_judgements(session, org_id, at=at), framework):
        subject = facts.setdefault(judgement.subject_key, {})
        subject[judgement.kind] = judgement.value
        clock = framework.judgements[judgement.kind].clock
        if clock is not None and judgement.value == clock.value:
            subject[clock.fact] = whole_months_between(judgement.run_started_at, at)
    return facts
