"""One step of the engine: when a subject's data changes, evaluate its ladder and move its escalation.

The caller gathers the subject's facts (assessment, plans, decisions), loads the open escalation,
calls :func:`step`, and stores the resulting escalation and events in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.escalation.conditions import FactValues
from server.escalation.de_escalation import de_escalate
from server.escalation.facts import FACTS, FactDefinition
from server.escalation.ladder import LadderOutcome, evaluate_ladder
from server.escalation.lifecycle import Actor, Escalation, TransitionEvent, TransitionRefused, apply_transition, reconcile
from server.escalation.periods import Frequency, ReportingPeriod
from server.tenants.spec import LadderSpec

ENGINE_ACTOR = "accord-engine"
ENGINE_ROLE = "escalation engine"
LIFECYCLE_FACTS = frozenset({"current_level", "months_in_level", "periods_in_level"})


@dataclass(frozen=True)
class EscalationStep:
    outcome: LadderOutcome
    escalation: Escalation | None  # after this step's transitions
    events: tuple[TransitionEvent, ...]  # this step's transitions, oldest first


def lifecycle_facts(
    ladder: LadderSpec, current: Escalation | None, at: dt.datetime, period: ReportingPeriod | None = None,
) -> dict[str, int]:
    """The facts the lifecycle itself contributes: ``current_level``, ``months_in_level`` and ``periods_in_level``.

    ``periods_in_level`` counts the subject's own reporting periods from the data period in which the
    engine last moved the level; where none was recorded (a person moved it, or before periods were
    recorded) it counts from when the level changed.
    """
    resting_level = ladder.levels[0].level
    if current is None or not current.is_open:
        return {"current_level": resting_level, "months_in_level": 0, "periods_in_level": 0}
    months = whole_months_between(current.level_changed_at, at)
    if period is None:
        periods = months
    else:
        changed = current.level_changed_period or current.level_changed_at.date().replace(day=1)
        periods = period.periods_since(changed)
    return {"current_level": current.level, "months_in_level": months, "periods_in_level": periods}


def step(
    ladder: LadderSpec, current: Escalation | None, facts: FactValues, *, subject: str, at: dt.datetime,
    period: ReportingPeriod | None = None, known: Mapping[str, FactDefinition] = FACTS,
) -> EscalationStep:
    """Evaluate the ladder for the subject and apply whatever transitions bring its escalation in line.

    ``period`` is the subject's latest data period and frequency: de-escalation counts periods from it.
    """
    lifecycle = lifecycle_facts(ladder, current, at, period)
    outcome = evaluate_ladder(ladder, {**lifecycle, **facts}, known=known)
    if ladder.purpose != "escalation":
        return EscalationStep(outcome, current, ())  # autonomy ladders rate; they raise nothing
    outcome = de_escalate(ladder, outcome, current, lifecycle)
    transitions = reconcile(current, outcome.level, resting_level=ladder.levels[0].level, reason=outcome.explanation(),
                            period=period.latest if period else None)
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
    frequency: Frequency = "monthly", known: Mapping[str, FactDefinition] = FACTS,
) -> list[EscalationStep]:
    """Run the ladder over successive periods, carrying the escalation forward (tests, demo data, what-ifs).

    Each period's time is also the subject's latest data period, reported at ``frequency``.
    """
    steps: list[EscalationStep] = []
    for at, facts in periods:
        result = step(ladder, current, facts, subject=subject, at=at, period=ReportingPeriod(at.date(), frequency), known=known)
        steps.append(result)
        current = result.escalation
    return steps
