"""Assessments, escalations and plans for tools: the same stored results the pages show."""
from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from server.db import models


@strawberry.type(description="A derived assessment of one series for one period, with the evidence behind it.")
class Assessment:
    period: dt.date
    unit_code: str | None
    value: float | None
    target: float | None
    trajectory: float | None
    rag: str
    variation: str
    assurance: str
    periods_under_target: int
    failure_forecast: bool
    masked_failure: bool
    rule_set: str
    evidence: JSON = strawberry.field(description="Points, limits, rules fired, thresholds and parameters (latest period only).")

    @classmethod
    def from_row(cls, row: models.Assessment, unit_code: str | None) -> "Assessment":
        return cls(
            period=row.period, unit_code=unit_code, value=row.value, target=row.target, trajectory=row.trajectory, rag=row.rag,
            variation=row.variation, assurance=row.assurance, periods_under_target=row.periods_under_target,
            failure_forecast=row.failure_forecast, masked_failure=row.masked_failure, rule_set=row.rule_set, evidence=row.evidence,
        )


@strawberry.type
class EscalationEvent:
    event: str
    from_level: int | None
    to_level: int | None
    actor_role: str | None
    reason: str | None
    at: dt.datetime


@strawberry.type
class Escalation:
    id: int
    ladder_code: str
    subject_key: str
    subject_name: str
    level: int
    level_name: str
    forum_code: str | None
    requires: list[str]
    status: str
    manual_override: bool
    explanation: JSON
    opened_at: dt.datetime
    version: int

    @classmethod
    def from_row(cls, row: models.Escalation) -> "Escalation":
        return cls(
            id=row.id, ladder_code=row.ladder_code, subject_key=row.subject_key, subject_name=row.subject_name, level=row.level,
            level_name=row.level_name, forum_code=row.forum_code, requires=list(row.requires), status=row.status,
            manual_override=row.manual_override, explanation=row.explanation, opened_at=row.opened_at, version=row.version,
        )


@strawberry.type
class PlanPartner:
    organisation_code: str
    organisation_name: str
    agreed: bool
    agreed_version: int | None


@strawberry.type
class Plan:
    id: int
    kind: str
    title: str
    status: str
    accountability: str
    owner_code: str
    sro: str
    version: int
    partners: list[PlanPartner]


async def plan_from_row(session, row: models.ImprovementPlan) -> Plan:  # type: ignore[no-untyped-def]
    from server.plans.workflow import live_agreements, partners_of

    owner = await session.get(models.Organisation, row.org_id)
    agreements = {a.org_id: a for a in await live_agreements(session, row.id)}
    partners = [
        PlanPartner(organisation_code=o.code, organisation_name=o.name, agreed=o.id in agreements,
                    agreed_version=agreements[o.id].plan_version if o.id in agreements else None)
        for o in await partners_of(session, row)
    ]
    return Plan(id=row.id, kind=row.kind, title=row.title, status=row.status, accountability=row.accountability,
                owner_code=owner.code, sro=row.sro, version=row.version, partners=partners)


async def latest_assessment(session, indicator_id: int, unit_id: int | None) -> models.Assessment | None:  # type: ignore[no-untyped-def]
    statement = select(models.Assessment).where(models.Assessment.indicator_id == indicator_id, models.Assessment.is_latest)
    statement = statement.where(models.Assessment.unit_id.is_(None) if unit_id is None else models.Assessment.unit_id == unit_id)
    return (await session.exec(statement)).scalars().first()
