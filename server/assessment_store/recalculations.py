"""Recalculating a series' SPC limits: recorded and withdrawn by an entitled person, with a reason.

Making Data Count: after a sustained shift with a known cause, the limits are recalculated from the
period the shift began, so the icons describe the process as it is now. The engine only flags the
candidate (server/assessment/recalculation.py); this module records the decision, keeps its history
(a withdrawal keeps the row with who withdrew it and why), writes the audit trail, and derives the
series again in the same transaction, so no reader sees the decision with stale verdicts.

Tenant files may also declare rebase dates for every series (``spc.rebase_dates``); both kinds of
segment start are applied by ``rebase_periods``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import lock_derivation
from server.assessment_store.rebase import live_recalculation_periods
from server.assessment_store.recompute import assessment_settings, recompute_organisation
from server.audit.trail import record_event
from server.auth.authz import Authorizer, Principal, acting_domain
from server.db.models import AppUser, Indicator, OrgUnit, SpcRecalculation
from server.escalation_store.run import run_ladders

OBJECT = "spc_recalculation"
REASON_LIMIT = 2000


@dataclass(frozen=True)
class RecalculationDone:
    recalculation: SpcRecalculation
    message: str


@dataclass(frozen=True)
class RecalculationRefused:
    message: str
    status_code: int = 400
    field: str | None = None  # the form field the message is about, for the error summary


@dataclass(frozen=True)
class RecalculationView:
    """One decision as the indicator page lists it."""

    id: int
    period: dt.date
    reason: str
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_by: str | None
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str | None

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None


async def recalculations_of(session: AsyncSession, indicator_id: int, unit_id: int) -> list[RecalculationView]:
    """Every decision about one series, live and withdrawn, newest first, in people's names."""
    recorder, withdrawer = AppUser.__table__.alias("recorder"), AppUser.__table__.alias("withdrawer")
    table = SpcRecalculation.__table__
    rows = (await session.exec(
        select(table, recorder.c.name.label("recorder_name"), withdrawer.c.name.label("withdrawer_name"))
        .select_from(table.outerjoin(recorder, recorder.c.id == table.c.recorded_by).outerjoin(withdrawer, withdrawer.c.id == table.c.withdrawn_by))
        .where(table.c.indicator_id == indicator_id, table.c.unit_id == unit_id)
        .order_by(table.c.recorded_at.desc(), table.c.id.desc())
    )).all()
    return [
        RecalculationView(
            id=row.id, period=row.period, reason=row.reason, recorded_by=row.recorder_name or "a former user", recorded_at=row.recorded_at,
            withdrawn_by=(row.withdrawer_name or "a former user") if row.withdrawn_at else None, withdrawn_at=row.withdrawn_at,
            withdrawal_reason=row.withdrawal_reason,
        )
        for row in rows
    ]


async def series_periods(session: AsyncSession, indicator: Indicator, unit: OrgUnit) -> list[dt.date]:
    """The periods of the series' stored assessments (the organisation level is stored with no unit)."""
    unit_clause = "unit_id is null" if unit.parent_id is None else "unit_id = :unit"
    return list((await session.exec(text(
        f"select period from assessment where indicator_id = :indicator and {unit_clause} order by period"
    ), params={"indicator": indicator.id, "unit": unit.id})).scalars())


def may_decide(authorizer: Authorizer, principal: Principal | None, domain: str, act: str = "record") -> bool:
    return authorizer.allows(principal, domain, OBJECT, act)


async def record_recalculation(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, indicator_id: int, unit_id: int, period: dt.date | None, reason: str,
) -> RecalculationDone | RecalculationRefused:
    """Start a new segment of one series at ``period`` and derive its verdicts again."""
    indicator = await session.get(Indicator, indicator_id)
    unit = await session.get(OrgUnit, unit_id)
    if indicator is None or unit is None or unit.org_id != indicator.org_id:
        return RecalculationRefused("Indicator not found", 404)
    refusal = await _refuse_unless_allowed(session, authorizer, principal, indicator.org_id, "record", "recalculate the limits of")
    if refusal is not None:
        return refusal
    reason = reason.strip()
    if not reason:
        return RecalculationRefused("Enter the reason for recalculating the limits (the known cause of the change)", field="reason")
    if len(reason) > REASON_LIMIT:
        return RecalculationRefused(f"The reason must be {REASON_LIMIT:,} characters or fewer", field="reason")
    if period is None:
        return RecalculationRefused("Choose the period the new limits start from", field="period")
    # Under the indicator's derivation lock: a concurrent save or decision finishes first, so the
    # periods checked here are the ones the derivation below reads.
    await lock_derivation(session, [indicator.id])
    periods = await series_periods(session, indicator, unit)
    if period not in periods:
        return RecalculationRefused("Choose a period that has a value in this series", field="period")
    if period == periods[0]:
        return RecalculationRefused("The limits already start at the first period; choose a later one", field="period")
    live = await live_recalculation_periods(session, indicator.org_id, [indicator.id])
    if period in live.get((indicator.id, unit.id), []):
        return RecalculationRefused(f"The limits are already recalculated from {period:%B %Y}", 409, field="period")
    row = SpcRecalculation(
        org_id=indicator.org_id, indicator_id=indicator.id, unit_id=unit.id, period=period, reason=reason, recorded_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    await record_event(
        session, action="spc_recalculation.record", object_type=OBJECT, object_id=str(row.id), org_id=indicator.org_id,
        actor_user_id=principal.user_id,
        after={"indicator": indicator.code, "unit": unit.code, "period": period.isoformat(), "reason": reason},
    )
    await _derive_again(session, indicator)
    return RecalculationDone(row, f"Limits recalculated from {period:%B %Y}")


async def withdraw_recalculation(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, recalculation_id: int, reason: str,
) -> RecalculationDone | RecalculationRefused:
    """Withdraw a live decision (kept, with who withdrew it and why) and derive the series again."""
    row = (await session.exec(
        select(SpcRecalculation).where(SpcRecalculation.id == recalculation_id).with_for_update()
    )).scalars().first()
    if row is None:
        return RecalculationRefused("Recalculation not found", 404)
    refusal = await _refuse_unless_allowed(session, authorizer, principal, row.org_id, "withdraw", "withdraw a recalculation of")
    if refusal is not None:
        return refusal
    if row.withdrawn_at is not None:
        return RecalculationRefused("This recalculation was already withdrawn", 409)
    reason = reason.strip()
    if not reason:
        return RecalculationRefused("Enter the reason for withdrawing the recalculation", field="withdrawal_reason")
    if len(reason) > REASON_LIMIT:
        return RecalculationRefused(f"The reason must be {REASON_LIMIT:,} characters or fewer", field="withdrawal_reason")
    indicator = await session.get(Indicator, row.indicator_id)
    assert indicator is not None  # same organisation, enforced by the foreign key
    await lock_derivation(session, [indicator.id])
    row.withdrawn_at, row.withdrawn_by, row.withdrawal_reason = dt.datetime.now(dt.UTC), principal.user_id, reason
    session.add(row)
    await session.flush()
    await record_event(
        session, action="spc_recalculation.withdraw", object_type=OBJECT, object_id=str(row.id), org_id=row.org_id,
        actor_user_id=principal.user_id, before={"period": row.period.isoformat(), "live": True},
        after={"indicator": indicator.code, "period": row.period.isoformat(), "live": False, "reason": reason},
    )
    await _derive_again(session, indicator)
    return RecalculationDone(row, f"Recalculation from {row.period:%B %Y} withdrawn")


async def _refuse_unless_allowed(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, org_id: int, act: str, words: str,
) -> RecalculationRefused | None:
    domain = await acting_domain(session, org_id)
    if may_decide(authorizer, principal, domain, act):
        return None
    return RecalculationRefused(f"Your role does not allow you to {words} this indicator", 403)


async def _derive_again(session: AsyncSession, indicator: Indicator) -> None:
    await recompute_organisation(session, indicator.org_id, await assessment_settings(session, indicator.org_id), indicator_ids=[indicator.id])
    await run_ladders(session, indicator.org_id)
