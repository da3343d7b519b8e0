"""Mutations for what people do in the pages: act on an escalation, draft a plan, keep its action
log. Each calls the page's own service function in one transaction; expected refusals are typed
results carrying the service's message (and, for a draft, the message per field)."""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from schema.assessments import Escalation, Plan, PlanAction, plan_from_view
from schema.context import Info
from server.escalation_store.manual import EscalationRefused, act
from server.plans.actions import add_action, set_action_status
from server.plans.create import PlanCreated, PlanDraft, create_plan
from server.plans.view import plan_view
from server.plans.workflow import NotAllowed


@strawberry.enum(description="What a person can do to an escalation (the matrix decides who may do which).")
class EscalationAction(Enum):
    ACKNOWLEDGE = "acknowledged"
    LINK_PLAN = "plan_linked"
    ESCALATE = "escalated"
    DE_ESCALATE = "de_escalated"
    CLOSE = "closed"


@strawberry.type
class EscalationUpdated:
    message: str
    escalation: Escalation


@strawberry.type
class EscalationActionRefused:
    reason: str = strawberry.field(description="not_found, not_allowed, stale (changed since the version you sent) or invalid")
    message: str


EscalationResult = Annotated[EscalationUpdated | EscalationActionRefused, strawberry.union("EscalationResult")]
_REASONS = {404: "not_found", 403: "not_allowed", 409: "stale"}


@strawberry.type
class FieldProblem:
    field: str
    message: str


@strawberry.type
class PlanDraftRejected:
    message: str
    problems: list[FieldProblem]


@strawberry.type
class PlanDrafted:
    plan: Plan


PlanDraftResult = Annotated[PlanDrafted | PlanDraftRejected, strawberry.union("PlanDraftResult")]


@strawberry.input(description="A plan on a page, as the draft form takes it.")
class PlanDraftInput:
    owner_code: str = strawberry.field(description="The owning organisation (the system's organisation for a SPIP).")
    title: str
    kind: str = "recovery"
    sro: str = ""
    programme: str = ""
    indicator_code: str = ""
    indicator_organisation_code: str = ""
    partner_codes: list[str] = strawberry.field(default_factory=list)
    leads: strawberry.scalars.JSON | None = strawberry.field(default=None, description="delivery, performance, informatics, clinical, finance, pmo")
    pmo_support: str = ""
    national_target: str = ""
    local_target: str = ""
    longest_wait: str = ""
    narrative: str = ""
    started_on: dt.date | None = None
    trajectory: strawberry.scalars.JSON | None = strawberry.field(default=None, description='{"2026-04-01": 0.78, ...}')


@strawberry.type
class PlanActionSaved:
    action: PlanAction


@strawberry.type
class PlanActionRejected:
    message: str
    problems: list[FieldProblem]


PlanActionResult = Annotated[PlanActionSaved | PlanActionRejected, strawberry.union("PlanActionResult")]


@strawberry.type
class ActionMutation:
    @strawberry.mutation(description="Acknowledge, link a plan to, escalate, de-escalate or close an escalation (with a reason where the ladder asks).")
    async def act_on_escalation(
        self, info: Info, escalation_id: int, action: EscalationAction, version: int, reason: str | None = None,
        to_level: int | None = None, plan_id: int | None = None,
    ) -> EscalationResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            outcome = await act(session, context.authorizer, principal, escalation_id=escalation_id, kind=action.value,
                                seen_version=version, reason=reason, to_level=to_level, plan_id=plan_id)
            if isinstance(outcome, EscalationRefused):
                return EscalationActionRefused(reason=_REASONS.get(outcome.status_code, "invalid"), message=outcome.message)
            return EscalationUpdated(message=outcome.message, escalation=Escalation.from_row(outcome.escalation))

    @strawberry.mutation(description="Draft an improvement plan (a SPIP names its partners); the same checks as the draft form.")
    async def draft_plan(self, info: Info, plan: PlanDraftInput) -> PlanDraftResult:
        context = info.context
        principal = context.require_principal()
        draft = PlanDraft(
            owner_code=plan.owner_code, title=plan.title, kind=plan.kind, programme=plan.programme, indicator_code=plan.indicator_code,
            indicator_org_code=plan.indicator_organisation_code, sro=plan.sro,
            leads={str(k): str(v) for k, v in dict(plan.leads or {}).items()}, pmo_support=plan.pmo_support,
            national_target=plan.national_target, local_target=plan.local_target, longest_wait=plan.longest_wait,
            narrative=plan.narrative, started_on=plan.started_on.isoformat() if plan.started_on else "",
            partner_codes=list(plan.partner_codes), trajectory={str(k): str(v) for k, v in dict(plan.trajectory or {}).items()},
        )
        async with context.session() as session:
            outcome = await create_plan(session, context.authorizer, principal, draft)
            if not isinstance(outcome, PlanCreated):
                return PlanDraftRejected(message=f"{len(outcome.errors)} problem(s); nothing was saved",
                                         problems=[FieldProblem(field=k, message=v) for k, v in outcome.errors.items()])
            view = await plan_view(session, context.authorizer, principal, outcome.plan.id)
            return PlanDrafted(plan=plan_from_view(view))

    @strawberry.mutation(description="Add an action (owner, due date) to a plan's action log.")
    async def add_plan_action(self, info: Info, plan_id: int, description: str, owner: str, due_date: dt.date) -> PlanActionResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            outcome = await add_action(session, context.authorizer, principal, plan_id=plan_id, description=description,
                                       owner=owner, due_date=due_date.isoformat())
        return _action_result(outcome)

    @strawberry.mutation(description="Move an action on a plan's log to open, in progress, done or closed.")
    async def set_plan_action_status(self, info: Info, plan_id: int, action_id: int, status: str) -> PlanActionResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            outcome = await set_action_status(session, context.authorizer, principal, plan_id=plan_id, action_id=action_id, status=status)
        return _action_result(outcome)


def _action_result(outcome: object) -> PlanActionSaved | PlanActionRejected:
    if isinstance(outcome, NotAllowed):
        return PlanActionRejected(message=outcome.message, problems=[])
    if isinstance(outcome, dict):
        return PlanActionRejected(message=f"{len(outcome)} problem(s); nothing was saved",
                                  problems=[FieldProblem(field=k, message=v) for k, v in outcome.items()])
    return PlanActionSaved(action=PlanAction(id=outcome.id, description=outcome.description, owner=outcome.owner,  # type: ignore[attr-defined]
                                             due_date=outcome.due_date, status=outcome.status))  # type: ignore[attr-defined]
