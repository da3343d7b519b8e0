"""Run a tenant's ladders over its subjects and store what moved, with history, in one transaction.

Called after assessments are recomputed (data changed) and on demand. The engine decides; this
module only loads the open escalation, hands the engine the facts, and writes the result.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.db.models import Escalation as EscalationRow
from server.db.models import EscalationEvent
from server.escalation.engine import ENGINE_ACTOR, step
from server.escalation.lifecycle import Escalation, Status, TransitionEvent, TransitionKind
from server.escalation_store.facts import SUBJECT_READERS, Subject
from server.tenants.load import framework_of
from server.tenants.spec import LadderSpec


@dataclass(frozen=True)
class RunSummary:
    subjects: int
    opened: int
    moved: int
    closed: int


async def run_ladders(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> RunSummary:
    # One run per organisation at a time, and each reads what the previous one committed.
    await lock_for_transaction(session, LADDERS, [org_id])
    framework = await framework_of(session, org_id)
    if framework is None:
        return RunSummary(0, 0, 0, 0)
    at = at or dt.datetime.now(dt.UTC)
    counts = {"subjects": 0, "opened": 0, "moved": 0, "closed": 0}
    subjects_by_kind: dict[str, list[Subject]] = {}
    for ladder in framework.escalation.ladders:
        reader = SUBJECT_READERS.get(ladder.applies_to)
        if ladder.purpose != "escalation" or reader is None:
            continue
        if ladder.applies_to not in subjects_by_kind:
            subjects_by_kind[ladder.applies_to] = await reader(session, org_id)
        open_rows = await _open_escalations(session, org_id, ladder.code)
        for subject in subjects_by_kind[ladder.applies_to]:
            counts["subjects"] += 1
            row = open_rows.get(subject.key)
            current = await as_lifecycle(session, row) if row else None
            result = step(ladder, current, subject.facts, subject=subject.key, at=at)
            if not result.events:
                continue
            await _store(session, org_id, ladder, subject, row, result.escalation, result.events, result.outcome)
            kinds = {event.kind for event in result.events}
            counts["opened"] += TransitionKind.OPENED in kinds
            counts["closed"] += TransitionKind.CLOSED in kinds
            counts["moved"] += bool(kinds & {TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED})
    return RunSummary(**counts)


async def _open_escalations(session: AsyncSession, org_id: int, ladder_code: str) -> dict[str, EscalationRow]:
    rows = await session.exec(
        select(EscalationRow).where(EscalationRow.org_id == org_id, EscalationRow.ladder_code == ladder_code, EscalationRow.status != "closed")
        .with_for_update()  # two recomputes at once must not both open the same escalation
    )
    return {row.subject_key: row for row in rows.scalars()}


async def as_lifecycle(session: AsyncSession, row: EscalationRow) -> Escalation:
    events = (await session.exec(
        select(EscalationEvent).where(EscalationEvent.escalation_id == row.id).order_by(EscalationEvent.at, EscalationEvent.id)
    )).scalars().all()
    history = tuple(
        TransitionEvent(
            kind=TransitionKind(event.event), from_level=event.from_level, to_level=event.to_level,
            actor=event.facts.get("actor", ENGINE_ACTOR), role=event.actor_role or "", at=event.at,
            manual=event.actor_user_id is not None, reason=event.reason, plan_reference=event.facts.get("plan_reference"),
        )
        for event in events if event.event in TransitionKind.__members__.values()
    )
    return Escalation(
        ladder=row.ladder_code, subject=row.subject_key, level=row.level, status=Status(row.status),
        plan_reference=str(row.plan_id) if row.plan_id else None, level_set_manually=row.manual_override, history=history,
    )


async def _store(session, org_id, ladder: LadderSpec, subject: Subject, row, escalation, events, outcome) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    level = next((lvl for lvl in ladder.levels if escalation and lvl.level == escalation.level), None)
    if row is None:
        row = EscalationRow(
            org_id=org_id, ladder_code=ladder.code, subject_type=subject.kind, subject_key=subject.key, subject_name=subject.name,
            indicator_id=subject.indicator_id, unit_id=subject.unit_id, level=max(escalation.level, 1), level_code="", level_name="",
        )
        session.add(row)
    if level is not None:
        row.level, row.level_code, row.level_name = level.level, level.code, level.name
    row.forum_code = outcome.forum
    row.requires = list(outcome.requires)
    row.status = escalation.status.value if escalation else "closed"
    row.explanation = {
        "text": outcome.explanation(), "facts": dict(outcome.facts), "parameters": {k: _jsonable(v) for k, v in outcome.parameters.items()},
        "route": outcome.route, "additional_forums": list(outcome.additional_forums), "missing_facts": list(outcome.missing_facts),
        "source": outcome.source,
    }
    row.updated_at = now
    row.version += 1 if row.id else 0
    if row.status == "closed":
        row.closed_at = now
    await session.flush()
    for event in events:
        session.add(EscalationEvent(
            org_id=org_id, escalation_id=row.id, event=event.kind.value, from_level=event.from_level, to_level=event.to_level,
            actor_role=event.role, reason=event.reason, facts={**{k: _jsonable(v) for k, v in subject.facts.items()}, "actor": event.actor},
            at=event.at,
        ))
    await record_event(
        session, action=f"escalation.{events[-1].kind.value}", object_type="escalation", object_id=str(row.id), org_id=org_id,
        actor_role="escalation engine", after={"ladder": ladder.code, "subject": subject.key, "level": row.level, "status": row.status},
    )


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
