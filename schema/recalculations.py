"""recordRecalculation / withdrawRecalculation: SPC limits recalculated from a period with its known
cause, or a recalculation withdrawn, through the same service as the indicator page (issue 13).
Refusals are a typed result naming the argument at fault; the series is derived again in the same
transaction, so the next read has the new verdicts."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy import select

from schema.context import Info
from server.assessment_store.recalculations import (
    RecalculationDone, RecalculationRefused, record_recalculation, withdraw_recalculation,
)
from server.db.models import AppUser, Indicator, OrgUnit, SpcRecalculation
from server.organisations import queries

# The service's form-field names, as the mutations' arguments are called.
_ARGUMENT = {"period": "period", "reason": "reason", "withdrawal_reason": "reason"}
_REASON = {403: "not_allowed", 404: "not_found", 409: "stale"}


@strawberry.type(description="A decision to recalculate one series' SPC limits from a period (Making Data Count).")
class Recalculation:
    id: int
    indicator_code: str
    unit_code: str
    period: dt.date = strawberry.field(description="The first period of the new limits")
    reason: str = strawberry.field(description="The known cause of the change")
    recorded_by: str
    recorded_at: dt.datetime
    live: bool = strawberry.field(description="False once withdrawn")
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str | None


@strawberry.type
class RecalculationChanged:
    message: str
    recalculation: Recalculation


@strawberry.type
class RecalculationRefusedResult:
    reason: str = strawberry.field(description="not_found, not_allowed, stale (already recorded or withdrawn) or invalid")
    message: str
    argument: str | None = strawberry.field(description="The argument at fault, when one is")


RecalculationResult = Annotated[RecalculationChanged | RecalculationRefusedResult, strawberry.union("RecalculationResult")]


@strawberry.type
class RecalculationMutation:
    @strawberry.mutation(description="Recalculate one series' SPC limits from a period, with the known cause; its verdicts are derived again at once.")
    async def record_recalculation(
        self, info: Info, organisation_code: str, indicator_code: str, period: dt.date, reason: str, unit_code: str | None = None,
    ) -> RecalculationResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return RecalculationRefusedResult(reason="not_found", message="Organisation not found", argument="organisationCode")
            indicator = (await session.exec(select(Indicator).where(Indicator.org_id == organisation.id, Indicator.code == indicator_code))).scalars().first()
            if indicator is None:
                return RecalculationRefusedResult(reason="not_found", message="Indicator not found", argument="indicatorCode")
            unit_filter = OrgUnit.code == unit_code if unit_code else OrgUnit.parent_id.is_(None)
            unit = (await session.exec(select(OrgUnit).where(OrgUnit.org_id == organisation.id, unit_filter))).scalars().first()
            if unit is None:
                return RecalculationRefusedResult(reason="not_found", message="Unit not found", argument="unitCode")
            outcome = await record_recalculation(
                session, context.authorizer, principal, indicator_id=indicator.id, unit_id=unit.id, period=period, reason=reason,
            )
            return await _result(session, outcome)

    @strawberry.mutation(description="Withdraw a recalculation (kept, with who withdrew it and why); the series is derived again without it.")
    async def withdraw_recalculation(self, info: Info, recalculation_id: int, reason: str) -> RecalculationResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            outcome = await withdraw_recalculation(session, context.authorizer, principal, recalculation_id=recalculation_id, reason=reason)
            return await _result(session, outcome)


async def _result(session, outcome: RecalculationDone | RecalculationRefused) -> RecalculationChanged | RecalculationRefusedResult:  # type: ignore[no-untyped-def]
    if isinstance(outcome, RecalculationRefused):
        await session.rollback()
        reason = _REASON.get(outcome.status_code, "invalid")
        return RecalculationRefusedResult(reason=reason, message=outcome.message, argument=_ARGUMENT.get(outcome.field or ""))
    row: SpcRecalculation = outcome.recalculation
    indicator_code = (await session.exec(select(Indicator.code).where(Indicator.id == row.indicator_id))).scalar_one()
    unit_code = (await session.exec(select(OrgUnit.code).where(OrgUnit.id == row.unit_id))).scalar_one()
    recorder = (await session.exec(select(AppUser.name).where(AppUser.id == row.recorded_by))).scalars().first() if row.recorded_by else None
    codes = (indicator_code, unit_code, recorder)
    return RecalculationChanged(message=outcome.message, recalculation=Recalculation(
        id=row.id, indicator_code=codes[0], unit_code=codes[1], period=row.period, reason=row.reason, recorded_by=codes[2] or "a former user",
        recorded_at=row.recorded_at, live=row.withdrawn_at is None, withdrawn_at=row.withdrawn_at, withdrawal_reason=row.withdrawal_reason,
    ))
