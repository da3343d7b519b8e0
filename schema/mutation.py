"""Mutations. Expected failures are typed results; exceptions are for the unexpected."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.assessments import Plan, plan_from_view
from schema.context import Info
from schema.actions import ActionMutation
from schema.imports import ImportMutation
from schema.judgements import JudgementMutation
from schema.notifications import NotificationMutation
from schema.maturity import MaturityMutation
from schema.autonomy import AutonomyMutation
from schema.contracts import ContractMutation
from schema.meetings import MeetingMutation
from schema.programmes import ProgrammeMutation
from schema.recalculations import RecalculationMutation
from server.plans import workflow
from server.plans.view import plan_view
from server.measurements.record import MeasurementItem
from server.measurements.submit import may_validate, submit_measurements
from server.organisations import queries


@strawberry.input
class MeasurementInput:
    indicator_code: str
    unit_code: str
    period: dt.date
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    status: str = "provisional"


@strawberry.type
class RecordedMeasurement:
    indicator_code: str
    unit_code: str
    period: dt.date
    revision: int


@strawberry.type
class MeasurementsRecorded:
    count: int
    measurements: list[RecordedMeasurement]


@strawberry.type
class RowError:
    row: int
    field: str
    message: str


@strawberry.type
class MeasurementsRejected:
    message: str
    errors: list[RowError]


RecordMeasurementsResult = Annotated[MeasurementsRecorded | MeasurementsRejected, strawberry.union("RecordMeasurementsResult")]


@strawberry.type
class PlanUpdated:
    message: str
    plan: Plan


@strawberry.type
class PlanActionRefused:
    reason: str = strawberry.field(description="not_allowed, stale (the plan changed since the version you sent) or invalid_step")
    message: str


PlanResult = Annotated[PlanUpdated | PlanActionRefused, strawberry.union("PlanResult")]


async def _plan_result(session, context, principal, outcome) -> PlanUpdated | PlanActionRefused:  # type: ignore[no-untyped-def]
    if isinstance(outcome, workflow.PlanChanged):
        view = await plan_view(session, context.authorizer, principal, outcome.plan.id)
        return PlanUpdated(message=outcome.message, plan=plan_from_view(view))
    reason = {workflow.NotAllowed: "not_allowed", workflow.StaleForm: "stale"}.get(type(outcome), "invalid_step")
    return PlanActionRefused(reason=reason, message=outcome.message)


@strawberry.type
class Mutation(ImportMutation, ActionMutation, JudgementMutation, RecalculationMutation, MaturityMutation, AutonomyMutation, MeetingMutation,
               NotificationMutation, ProgrammeMutation, ContractMutation):
    @strawberry.mutation(description="Agree a plan for one partner organisation you may sign for (SPIP sign-off).")
    async def agree_plan(self, info: Info, plan_id: int, partner_code: str, version: int) -> PlanResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            outcome = await workflow.agree(session, context.authorizer, principal, plan_id=plan_id, partner_code=partner_code, seen_version=version)
            return await _plan_result(session, context, principal, outcome)

    @strawberry.mutation(description="Move a plan through its lifecycle: critique, sign_off, present, start_delivery, close, escalate.")
    async def advance_plan(self, info: Info, plan_id: int, action: str, version: int, reason: str | None = None) -> PlanResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            outcome = await workflow.advance(session, context.authorizer, principal, plan_id=plan_id, action=action, seen_version=version, reason=reason)
            return await _plan_result(session, context, principal, outcome)

    @strawberry.mutation(description="Record measurements for one organisation: all rows are stored, or none.")
    async def record_measurements(
        self, info: Info, organisation_code: str, measurements: list[MeasurementInput], reason: str | None = None
    ) -> RecordMeasurementsResult:
        context = info.context
        principal = context.require(organisation_code, "measurement", "submit")
        if len(measurements) > 5000:
            return MeasurementsRejected(message="Send at most 5,000 rows per request", errors=[])
        items = [
            MeasurementItem(m.indicator_code, m.unit_code, m.period, m.value, m.numerator, m.denominator, m.status)
            for m in measurements
        ]
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            assert organisation is not None  # the policy check above named a known domain
            outcome = await submit_measurements(
                session, org_id=organisation.id, user_id=principal.user_id, items=items,
                source="api" if principal.via == "token" else "manual", reason=reason,
                may_validate=may_validate(context.authorizer, principal, organisation_code),
            )
        if not outcome.ok:
            return MeasurementsRejected(
                message=f"{len(outcome.problems)} problem(s) found; nothing was stored",
                errors=[RowError(row=p.row, field=p.field, message=p.message) for p in outcome.problems],
            )
        return MeasurementsRecorded(
            count=len(outcome.recorded),
            measurements=[
                RecordedMeasurement(indicator_code=m.indicator_code, unit_code=m.unit_code, period=m.period, revision=r.revision)
                for m, r in zip(measurements, outcome.recorded)
            ],
        )
