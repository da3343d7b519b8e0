"""One step of the engine: when a subject's data changes, evaluate its ladder and move its escalation.

The caller gathers the subject's facts (assessment, plans, decisions), loads the open escalation,
calls :func:`step`, and stores the resulting escalation and events in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from server.escalation.conditions import FactValues
from server.escalation.ladder import LadderOutcome, evaluate_ladder
from server.escalation.lifecycle import Actor, Escalation, TransitionEvent, TransitionRefused, apply_transition, reconcile
from server.tenants.spec import LadderSpec

ENGINE_ACTOR = "accord-engine"
ENGINE_ROLE = "escalation engine"


@dataclass(frozen=True)
class EscalationStep:
    outcome: LadderOutcome
    escalation: Escalation | None  # after this step's transitions
    events: tuple[TransitionEvent, ...]  # this step's transitions, oldest first


def lifecycle_facts(ladder: LadderSpec, current: Escalation | None, at: dt.datetime) -> dict[str, int]:
    """The facts the lifecycle itself contributes: ``current_level`` and ``months_in_level``."""
    resting_level = ladder.levels[0].level
    if current is None or not current.is_open:
        return {"current_level": resting_level, "months_in_level": 0}
    return {"current_level": current.level, "months_in_level": whole_months_between(current.level_changed_at, at)}


def step(ladder: LadderSpec, current: Escalation | None, facts: FactValues, *, subject: str, at: dt.datetime) -> EscalationStep:
    """Evaluate the ladder for the subject and apply whatever transitions bring its escalation in line."""
    outcome = evaluate_ladder(ladder, {**lifecycle_facts(ladder, current, at), **facts})
    if ladder.purpose != "escalation":
        return EscalationStep(outcome, current, ())  # autonomy ladders rate; they raise nothing
    transitions = reconcile(current, outcome.level, resting_level=ladder.levels[0].level, reason=outcome.explanation())
    engine = Actor(ENGINE_ACTOR, ENGINE_ROLE, at, manual=False)
    state = current
    before = len(current.history) if current and current.is_open else 0
    for transition in transitions:
        result = apply_transition(state if state and state.is_open else None, transition, by=engine, ladder=ladder.code, subject=subject)
        if isinstance(result, TransitionRefused):
            raise RuntimeError(f"engine transition refused: {result.reason}")  # reconcile only proposes allowed moves
        state = result
    events = state.history[before:] if state is not None and transitions else ()
    return EscalationStep(outcome, state, tuple(events))


def whole_months_between(start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> int:
    """Calendar months from start to end, counting by month, never negative (Apr 30 -> May 1 is 1)."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month)



def simulate(
    ladder: LadderSpec, periods: Sequence[tuple[dt.datetime, FactValues]], *, subject: str, current: Escalation | None = None,
) -> list[EscalationStep]:
    """Run the ladder over successive periods, carrying the escalation forward (tests, demo data, what-ifs)."""
    steps: list[EscalationStep] = []
    for at, facts in periods:
        result = step(ladder, current, facts, subject=subject, at=at)
        steps.append(result)
        current = result.escalation
    return steps
