"""Re-run the ladders after an event that changes a fact, in the transaction that made the change.

A measurement re-runs them as part of its recompute (server/measurements/submit.py); a plan moving
through its lifecycle, a meeting's decision and a judgement call :func:`rerun_ladders` here. The run
covers the organisations whose facts the event changed and that the request may write: escalation
rows are the organisation's own, and row-level security refuses anything else. An organisation the
request cannot write (a member trust's indicator on a system plan) catches up at the daily tick
(server/escalation_store/tick.py).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import ImprovementPlan, Indicator
from server.db.session import NO_ACCESS
from server.escalation_store.run import RunSummary, run_ladders


async def rerun_ladders(session: AsyncSession, org_ids: Iterable[int | None]) -> dict[int, RunSummary]:
    """Run each writable organisation's ladders now (ascending ids: the order the ladder locks are taken in)."""
    writable = session.info.get("access", NO_ACCESS).write_org_ids
    return {org_id: await run_ladders(session, org_id) for org_id in sorted({o for o in org_ids if o is not None} & writable)}


async def rerun_after_plan_change(session: AsyncSession, plan: ImprovementPlan) -> dict[int, RunSummary]:
    """A plan signed off, in delivery, closed or escalated changes its indicator's facts (plan in place, months since)."""
    indicator_org = (await session.exec(select(Indicator.org_id).where(Indicator.id == plan.indicator_id))).scalar_one_or_none() \
        if plan.indicator_id else None
    return await rerun_ladders(session, [plan.org_id, indicator_org])
