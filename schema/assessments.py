"""Assessments, escalations and plans for tools: the same stored results and service functions the pages use."""
from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import select, text
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from schema.context import AccordContext, Info
from schema.enums import Accountability, ActionStatus, EscalationStatus, PlanKind, PlanStatus
from schema.ratings import Rating
from server.assessment_store.evidence import evidence_document
from server.db import models
from server.escalation_store.queries import escalation_events


@strawberry.type(description="A derived assessment of one series for one period, with the evidence behind it.")
class Assessment(Rating):
    period: dt.date
    unit_code: str | None
    trajectory: float | None
    failure_forecast: bool
    masked_failure: bool
    rule_set: str
    evidence: JSON = strawberry.field(description="Points, limits, rules fired, thresholds and parameters (latest period only).")

    @classmethod
    def from_row(cls, row: models.Assessment, unit_code: str | None, method: dict[str, Any] | None = None) -> "Assessment":
        """``method``: the row's shared method description (latest_assessment reads it)."""
        return cls(
            period=row.period, unit_code=unit_code, value=row.value, target=row.target, trajectory=row.trajectory, rag=row.rag,
            variation=row.variation, assurance=row.assurance, periods_under_target=row.periods_under_target,
            failure_forecast=row.failure_forecast, masked_failure=row.masked_failure, rule_set=row.rule_set,
            evidence=evidence_document(row.evidence, row.spc_points, method),
        )


@strawberry.type(description="One recorded transition of an escalation: who (or the ladder), when, why, and the facts.")
class EscalationEvent:
    event: str
    from_level: int | None
    to_level: int | None
    actor_role: str | None
    reason: str | None
    facts: JSON
    at: dt.datetime


@strawberry.type(description="A subject escalated on one of its organisation's ladders, with the rule and facts that put it there.")
class Escalation:
    id: int
    ladder_code: str
    subject_type: str
    subject_key: str
    subject_name: str
    level: int
    level_name: str
    forum_code: str | None
    requires: list[str] = strawberry.field(metadata={"max_items": 10})
    status: EscalationStatus  # type: ignore[valid-type]
    manual_override: bool
    explanation: JSON
    opened_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    version: int

    @classmethod
    def from_row(cls, row: models.Escalation) -> "Escalation":
        return cls(
            id=row.id, ladder_code=row.ladder_code, subject_type=row.subject_type, subject_key=row.subject_key,
            subject_name=row.subject_name, level=row.level, level_name=row.level_name, forum_code=row.forum_code,
            requires=list(row.requires), status=row.status, manual_override=row.manual_override, explanation=row.explanation,
            opened_at=row.opened_at, updated_at=row.updated_at, closed_at=row.closed_at, version=row.version,
        )

    @strawberry.field(description="Every transition, oldest first.", metadata={"max_items": 50})
    async def history(self, info: Info) -> list[EscalationEvent]:
        rows = await _events_loader(info.context).load(self.id)
        return [EscalationEvent(event=r.event, from_level=r.from_level, to_level=r.to_level, actor_role=r.actor_role, reason=r.reason,
                                facts=r.facts, at=r.at) for r in rows]


def _events_loader(context: AccordContext) -> DataLoader:
    async def load(ids: list[int]) -> list[list[Any]]:
        found = await context.read(lambda session: escalation_events(session, ids))
        return [found.get(i, []) for i in ids]

    return context.loader("escalation_events", lambda: DataLoader(load_fn=load))


@strawberry.type
class PlanPartner:
    organisation_code: str
    organisation_name: str
    agreed: bool
    agreed_version: int | None
    agreed_at: dt.datetime | None
    signed_by: str | None
    you_may_sign: bool


@strawberry.type(description="Plan vs actual for one month (actuals: the indicator's organisation-level values).")
class PlanTrajectoryPoint:
    period: dt.date
    planned: float | None
    actual: float | None


@strawberry.type
class PlanAction:
    id: int
    description: str
    owner: str
    due_date: dt.date
    status: ActionStatus  # type: ignore[valid-type]


@strawberry.type(description="One entry of a plan's append-only history.")
class PlanEvent:
    event: str
    from_status: str | None
    to_status: str | None
    actor_name: str | None
    actor_role: str | None
    acting_for: str | None
    reason: str | None
    plan_version: int
    at: dt.datetime


@strawberry.type(description="An improvement plan (plan on a page): recovery, exception action plan or SPIP.")
class Plan:
    id: int
    kind: PlanKind  # type: ignore[valid-type]
    title: str
    programme: str | None
    status: PlanStatus  # type: ignore[valid-type]
    accountability: Accountability  # type: ignore[valid-type]
    owner_code: str
    sro: str
    leads: JSON
    pmo_support: str | None
    national_target: str | None
    local_target: str | None
    longest_wait: str | None
    narrative: str | None
    delivered_this_month: str | None
    planned_next_month: str | None
    started_on: dt.date | None
    indicator_code: str | None
    version: int
    partners: list[PlanPartner] = strawberry.field(metadata={"max_items": 20})
    trajectory: list[PlanTrajectoryPoint] = strawberry.field(metadata={"max_items": 24})
    actions: list[PlanAction] = strawberry.field(metadata={"max_items": 100})
    history: list[PlanEvent] = strawberry.field(metadata={"max_items": 200})
    steps_you_may_take: list[str] = strawberry.field(description="Actions advancePlan accepts from you now.", metadata={"max_items": 10})


def plan_from_view(view: Any) -> Plan:
    """From ``server.plans.view.PlanView``, the plan-on-a-page service the page renders."""
    plan = view.plan
    return Plan(
        id=plan.id, kind=plan.kind, title=plan.title, programme=plan.programme, status=plan.status, accountability=plan.accountability,
        owner_code=view.owner.code, sro=plan.sro, leads=plan.leads, pmo_support=plan.pmo_support, national_target=plan.national_target,
        local_target=plan.local_target, longest_wait=plan.longest_wait, narrative=plan.narrative,
        delivered_this_month=plan.delivered_this_month, planned_next_month=plan.planned_next_month, started_on=plan.started_on,
        indicator_code=view.indicator.code if view.indicator else None, version=plan.version,
        partners=[
            PlanPartner(organisation_code=p.organisation.code, organisation_name=p.organisation.name, agreed=p.agreement is not None,
                        agreed_version=p.agreement.plan_version if p.agreement else None,
                        agreed_at=p.agreement.agreed_at if p.agreement else None, signed_by=p.signer_name, you_may_sign=p.can_sign)
            for p in view.partners
        ],
        trajectory=[PlanTrajectoryPoint(period=t.period, planned=t.planned, actual=t.actual) for t in view.trajectory],
        actions=[PlanAction(id=a.id, description=a.description, owner=a.owner, due_date=a.due_date, status=a.status) for a in view.actions],
        history=[
            PlanEvent(event=e.event, from_status=e.from_status, to_status=e.to_status, actor_name=e.actor_name, actor_role=e.actor_role,
                      acting_for=acting_for, reason=e.reason, plan_version=e.plan_version, at=e.at)
            for e, acting_for in view.events
        ],
        steps_you_may_take=[step.action for step in view.steps_allowed],
    )


async def latest_assessment(session, indicator_id: int, unit_id: int | None) -> tuple[models.Assessment, dict[str, Any] | None] | None:  # type: ignore[no-untyped-def]
    """The series' latest row and its shared method description (server/assessment_store/methods.py)."""
    statement = select(models.Assessment).where(models.Assessment.indicator_id == indicator_id, models.Assessment.is_latest)
    statement = statement.where(models.Assessment.unit_id.is_(None) if unit_id is None else models.Assessment.unit_id == unit_id)
    row = (await session.exec(statement)).scalars().first()
    if row is None:
        return None
    method = None
    if row.method_digest is not None:
        method = (await session.exec(text("select description from assessment_method where digest = :digest"),
                                     params={"digest": row.method_digest})).scalar_one()
    return row, method
