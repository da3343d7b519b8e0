"""Run a tenant's ladders over its subjects and store what moved, with history, in one transaction.

Called after assessments are recomputed (data changed) and on demand. The engine decides; this
module only loads the open escalation, hands the engine the facts, and writes the result.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.db.models import Escalation as EscalationRow
from server.db.models import EscalationEvent
from server.escalation.engine import ENGINE_ACTOR, LIFECYCLE_FACTS, step
from server.escalation.ladder import LadderOutcome
from server.escalation.lifecycle import Escalation, Status, TransitionEvent, TransitionKind
from server.escalation_store.facts import Subject
from server.escalation_store.judgement_facts import judgement_facts
from server.escalation_store.queries import escalation_events
from server.escalation_store.subjects import read_subjects
from server.judgements.kinds import tenant_fact_registry
from server.notifications.escalations import notify_escalation_moves
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
    known = tenant_fact_registry(framework)  # the registry's facts and the tenant's own judgements
    judged = await judgement_facts(session, org_id, at=at)
    counts = {"subjects": 0, "opened": 0, "moved": 0, "closed": 0}
    subjects_by_kind: dict[str, list[Subject]] = {}
    for ladder in framework.escalation.ladders:
        if ladder.purpose != "escalation":
            continue
        if ladder.applies_to not in subjects_by_kind:
            subjects_by_kind[ladder.applies_to] = await read_subjects(session, org_id, ladder.applies_to, at=at)
        open_rows = await _open_escalations(session, org_id, ladder.code)
        histories = await escalation_events(session, [row.id for row in open_rows.values()]) if open_rows else {}
        for subject in subjects_by_kind[ladder.applies_to]:
            counts["subjects"] += 1
            row = open_rows.get(subject.key)
            current = lifecycle_of(row, histories.get(row.id, [])) if row else None
            facts = {**subject.facts, **judged.get(subject.key, {})}
            result = step(ladder, current, facts, subject=subject.key, at=at, period=subject.period, known=known)
            if not result.events:
                if row is not None:
                    _refresh_explanation(row, explanation_of(result.outcome, subject))
                continue
            await _store(session, org_id, ladder, subject, row, result.escalation, result.events, result.outcome, facts)
            kinds = {event.kind for event in result.events}
            counts["opened"] += TransitionKind.OPENED in kinds
            counts["closed"] += TransitionKind.CLOSED in kinds
            counts["moved"] += bool(kinds & {TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED})
    if counts["opened"] or counts["moved"]:
        await notify_escalation_moves(session, org_id, framework)  # issue 15: each forum's people are told
    return RunSummary(**counts)


async def _open_escalations(session: AsyncSession, org_id: int, ladder_code: str) -> dict[str, EscalationRow]:
    rows = await session.exec(
        select(EscalationRow).where(EscalationRow.org_id == org_id, EscalationRow.ladder_code == ladder_code, EscalationRow.status != "closed")
        .with_for_update()  # two recomputes at once must not both open the same escalation
    )
    return {row.subject_key: row for row in rows.scalars()}


async def as_lifecycle(session: AsyncSession, row: EscalationRow) -> Escalation:
    return lifecycle_of(row, (await escalation_events(session, [row.id])).get(row.id, []))


def lifecycle_of(row: EscalationRow, events: Sequence[EscalationEvent]) -> Escalation:
    """The stored escalation and its events, oldest first, as the engine's lifecycle state."""
    history = tuple(
        TransitionEvent(
            kind=TransitionKind(event.event), from_level=event.from_level, to_level=event.to_level,
            actor=event.facts.get("actor", ENGINE_ACTOR), role=event.actor_role or "", at=event.at,
            manual=event.actor_user_id is not None, reason=event.reason, plan_reference=event.facts.get("plan_reference"),
            period=dt.date.fromisoformat(event.facts["period"]) if event.facts.get("period") else None,
        )
        for event in events if event.event in TransitionKind.__members__.values()
    )
    return Escalation(
        ladder=row.ladder_code, subject=row.subject_key, level=row.level, status=Status(row.status),
        plan_reference=str(row.plan_id) if row.plan_id else None, level_set_manually=row.manual_override, history=history,
    )


async def _store(session, org_id, ladder: LadderSpec, subject: Subject, row, escalation, events, outcome, facts) -> None:  # type: ignore[no-untyped-def]
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
    row.explanation = explanation_of(outcome, subject)
    row.updated_at = now
    row.version += 1 if row.id else 0
    if row.status == "closed":
        row.closed_at = now
    await session.flush()
    for event in events:
        session.add(EscalationEvent(
            org_id=org_id, escalation_id=row.id, event=event.kind.value, from_level=event.from_level, to_level=event.to_level,
            actor_role=event.role, reason=event.reason,
            # The subject's facts when it moved, and its data period: de-escalation counts periods from it.
            facts={**{k: _jsonable(v) for k, v in facts.items()}, "actor": event.actor,
                   **({"period": event.period.isoformat()} if event.period else {})},
            at=event.at,
        ))
    await record_event(
        session, action=f"escalation.{events[-1].kind.value}", object_type="escalation", object_id=str(row.id), org_id=org_id,
        actor_role="escalation engine", after={"ladder": ladder.code, "subject": subject.key, "level": row.level, "status": row.status},
    )


def explanation_of(outcome: LadderOutcome, subject: Subject) -> dict[str, object]:
    """What the register shows of the latest evaluation: the rule, the facts, the parameters, what was not known."""
    return {
        "text": outcome.explanation(), "facts": {k: _jsonable(v) for k, v in outcome.facts.items()},
        "parameters": {k: _jsonable(v) for k, v in outcome.parameters.items()},
        "route": outcome.route, "additional_forums": list(outcome.additional_forums), "missing_facts": list(outcome.missing_facts),
        "source": outcome.source, "period": subject.period.latest.isoformat() if subject.period else None,
        "de_escalation": outcome.de_escalation.describe() if outcome.de_escalation else None,
        "evidence": subject.evidence,
    }


def _refresh_explanation(row: EscalationRow, explanation: dict[str, object]) -> None:
    """A fact changed without moving the level (a judgement recorded, a month on target while held): show it.

    No event: nothing happened to the escalation. Re-running on the same facts writes nothing.
    """
    if _without_lifecycle(row.explanation) != _without_lifecycle(explanation):
        row.explanation = explanation
        row.updated_at = dt.datetime.now(dt.UTC)
        row.version += 1


def _without_lifecycle(explanation: dict) -> dict:  # type: ignore[type-arg]
    # The lifecycle's own facts differ between the evaluation that moved the level and the next one
    # (current_level was the old level then); they are no news to show.
    facts = {k: v for k, v in (explanation.get("facts") or {}).items() if k not in LIFECYCLE_FACTS}
    return {**explanation, "facts": facts}


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
