"""Run a tenant's ladders over its subjects and store what moved, with history, in one transaction.

Called after assessments are recomputed (data changed) and on demand. The engine decides; this
module only loads the open escalation, hands the engine the facts, and writes the result.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.autonomy.framework import autonomy_framework
from server.autonomy.store import refresh_autonomy
from server.db.session import acting_for
from server.db.models import Escalation as EscalationRow
from server.db.models import EscalationEvent
from server.escalation.engine import ENGINE_ACTOR, step
from server.escalation.lifecycle import Escalation, Status, TransitionEvent, TransitionKind
from server.escalation_store.facts import Subject
from server.escalation_store.judgement_facts import judgement_facts
from server.escalation_store.moves import LadderChanges, explanation_of
from server.escalation_store.queries import escalation_events
from server.escalation_store.subjects import NARROWED_KINDS, read_subjects
from server.judgements.kinds import tenant_fact_registry
from server.notifications.escalations import notify_escalation_moves
from server.tenants.load import framework_of


@dataclass(frozen=True)
class RunSummary:
    subjects: int
    opened: int
    moved: int
    closed: int


async def run_ladders(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> RunSummary:
    """Every ladder over every subject of the organisation: the tick, judgements, plans, meetings, recompute."""
    return await _run(session, org_id, at=at, indicator_ids=None)


async def run_ladders_for_indicators(
    session: AsyncSession, org_id: int, indicator_ids: Collection[int], *, at: dt.datetime | None = None,
) -> RunSummary:
    """After new data for these indicators: only the subjects whose facts read them (subjects.NARROWED_KINDS).

    Stores what a full run at the same moment would store, as long as nothing else changed since the
    last full run (time passing and judgements are the tick's and the judgement's own runs).
    """
    return await _run(session, org_id, at=at, indicator_ids=frozenset(indicator_ids))


async def _run(session: AsyncSession, org_id: int, *, at: dt.datetime | None, indicator_ids: frozenset[int] | None) -> RunSummary:
    # The ladders read what the engine reads for the organisation (its own rows and its providers'
    # contractual ones), whoever's action set them off: a person who may record a judgement or a
    # maturity assessment but not read the providers' figures must not close the escalations those
    # figures keep open. The request's own context is back when the run ends.
    from server.assessment_store.recompute import engine_access

    async with acting_for(session, await engine_access(session, org_id)):
        return await _run_as_engine(session, org_id, at=at, indicator_ids=indicator_ids)


async def _run_as_engine(session: AsyncSession, org_id: int, *, at: dt.datetime | None, indicator_ids: frozenset[int] | None) -> RunSummary:
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
    changes = LadderChanges(org_id, dt.datetime.now(dt.UTC))
    for ladder in framework.escalation.ladders:
        if ladder.purpose != "escalation":
            continue
        if ladder.applies_to not in subjects_by_kind:
            subjects_by_kind[ladder.applies_to] = await read_subjects(
                session, org_id, ladder.applies_to, at=at, indicator_ids=indicator_ids)
        subjects = subjects_by_kind[ladder.applies_to]
        if not subjects:
            continue
        narrowed = indicator_ids is not None and ladder.applies_to in NARROWED_KINDS
        open_rows = await _open_escalations(session, org_id, ladder.code, [s.key for s in subjects] if narrowed else None)
        histories = await escalation_events(session, [row.id for row in open_rows.values()]) if open_rows else {}
        for subject in subjects:
            counts["subjects"] += 1
            row = open_rows.get(subject.key)
            current = lifecycle_of(row, histories.get(row.id, [])) if row else None
            facts = {**subject.facts, **judged.get(subject.key, {})}
            result = step(ladder, current, facts, subject=subject.key, at=at, period=subject.period, known=known)
            if not result.events:
                if row is not None:
                    changes.refresh(row, explanation_of(result.outcome, subject))
                continue
            changes.move(ladder, subject, row, result.escalation, result.events, result.outcome, explanation_of(result.outcome, subject), facts)
            kinds = {event.kind for event in result.events}
            counts["opened"] += TransitionKind.OPENED in kinds
            counts["closed"] += TransitionKind.CLOSED in kinds
            counts["moved"] += bool(kinds & {TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED})
    await changes.store(session)
    autonomy = autonomy_framework(framework)
    if autonomy is not None:  # ULHT 5.2: the level of the scheme of delegation each division's rating earns
        if "unit" not in subjects_by_kind:
            subjects_by_kind["unit"] = await read_subjects(session, org_id, "unit", at=at, indicator_ids=indicator_ids)
        await refresh_autonomy(session, org_id, autonomy, subjects_by_kind["unit"], judged=judged, known=known, at=at)
    if counts["opened"] or counts["moved"]:
        await notify_escalation_moves(session, org_id, framework)  # issue 15: each forum's people are told
    return RunSummary(**counts)


async def _open_escalations(
    session: AsyncSession, org_id: int, ladder_code: str, subject_keys: list[str] | None,
) -> dict[str, EscalationRow]:
    statement = select(EscalationRow).where(
        EscalationRow.org_id == org_id, EscalationRow.ladder_code == ladder_code, EscalationRow.status != "closed")
    if subject_keys is not None:
        statement = statement.where(EscalationRow.subject_key.in_(subject_keys))
    rows = await session.exec(statement.with_for_update())  # two recomputes at once must not both open the same escalation
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
