"""The escalation lifecycle as a pure state machine: allowed transitions, overrides, reconcile."""
from __future__ import annotations

import datetime as dt

import pytest

from server.escalation import (
    Actor, Escalation, Status, Transition, TransitionKind, TransitionRefused, allowed_transitions, apply_transition,
    reconcile, requires_override_reason,
)

K = TransitionKind
AT = dt.datetime(2025, 6, 1, 9, 30, tzinfo=dt.UTC)
ENGINE = Actor("accord-engine", "escalation engine", AT, manual=False)
LEAD = Actor("Priya Shah", "Head of Planning & Performance, NHS STW ICB", AT)


def opened(level: int = 2, *, by: Actor = ENGINE) -> Escalation:
    result = apply_transition(None, Transition(K.OPENED, to_level=level, reason="rule held"), by=by,
                              ladder="stw-performance-improvement", subject="RXW/AE4H")
    assert isinstance(result, Escalation)
    return result


def at_status(status: Status) -> Escalation | None:
    moves = {
        Status.OPEN: [],
        Status.ACKNOWLEDGED: [Transition(K.ACKNOWLEDGED)],
        Status.PLAN_LINKED: [Transition(K.PLAN_LINKED, plan_reference="SPIP-UEC-01")],
        Status.CLOSED: [Transition(K.CLOSED)],
    }[status]
    escalation = opened()
    for move in moves:
        result = apply_transition(escalation, move, by=ENGINE)
        assert isinstance(result, Escalation)
        escalation = result
    return escalation


ALLOWED = [
    # from status           transition        allowed
    (None,                  K.OPENED,         True),
    (None,                  K.ACKNOWLEDGED,   False),
    (Status.OPEN,           K.ACKNOWLEDGED,   True),
    (Status.OPEN,           K.PLAN_LINKED,    True),
    (Status.OPEN,           K.OPENED,         False),
    (Status.ACKNOWLEDGED,   K.ACKNOWLEDGED,   False),
    (Status.ACKNOWLEDGED,   K.ESCALATED,      True),
    (Status.PLAN_LINKED,    K.PLAN_LINKED,    True),   # a revised plan replaces the first
    (Status.PLAN_LINKED,    K.DE_ESCALATED,   True),
    (Status.PLAN_LINKED,    K.CLOSED,         True),
    (Status.CLOSED,         K.ACKNOWLEDGED,   False),
    (Status.CLOSED,         K.ESCALATED,      False),
    (Status.CLOSED,         K.OPENED,         False),  # a recurrence is a new escalation
]


@pytest.mark.parametrize(("status", "kind", "allowed"), ALLOWED)
def test_allowed_transitions(status, kind, allowed) -> None:
    current = at_status(status) if status else None
    assert (kind in allowed_transitions(current)) is allowed


@pytest.mark.parametrize(("kind", "manual", "needs_reason"), [
    (K.OPENED, True, True), (K.ESCALATED, True, True), (K.DE_ESCALATED, True, True), (K.CLOSED, True, True),
    (K.ACKNOWLEDGED, True, False), (K.PLAN_LINKED, True, False), (K.ESCALATED, False, False), (K.CLOSED, False, False),
])
def test_manual_override_requires_a_reason(kind, manual, needs_reason) -> None:
    assert requires_override_reason(kind, manual=manual) is needs_reason


def test_manual_escalation_without_reason_is_refused_and_with_reason_is_recorded() -> None:
    escalation = opened()
    refused = apply_transition(escalation, Transition(K.ESCALATED, to_level=4, reason="  "), by=LEAD)
    assert refused == TransitionRefused(K.ESCALATED, "a manual escalated overrides the rules and needs a reason")
    done = apply_transition(escalation, Transition(K.ESCALATED, to_level=4, reason="patient safety incident"), by=LEAD)
    assert isinstance(done, Escalation)
    event = done.history[-1]
    assert (event.actor, event.role, event.at, event.reason, event.from_level, event.to_level, event.manual) == (
        "Priya Shah", "Head of Planning & Performance, NHS STW ICB", AT, "patient safety incident", 2, 4, True)


@pytest.mark.parametrize(("kind", "to_level", "refusal"), [
    (K.ESCALATED, 2, "cannot escalate from level 2 to level 2"),
    (K.ESCALATED, 1, "cannot escalate from level 2 to level 1"),
    (K.DE_ESCALATED, 3, "cannot de-escalate from level 2 to level 3"),
    (K.ESCALATED, None, "escalated needs the level to move to"),
])
def test_level_moves_must_go_the_way_they_say(kind, to_level, refusal) -> None:
    assert apply_transition(opened(), Transition(kind, to_level=to_level), by=ENGINE) == TransitionRefused(kind, refusal)


def test_linking_a_plan_needs_its_reference() -> None:
    assert isinstance(apply_transition(opened(), Transition(K.PLAN_LINKED), by=ENGINE), TransitionRefused)


def test_escalation_needs_acknowledging_again_by_the_higher_forum_and_keeps_its_plan() -> None:
    escalation = at_status(Status.PLAN_LINKED)
    assert escalation is not None
    escalated = apply_transition(escalation, Transition(K.ESCALATED, to_level=3), by=ENGINE)
    assert isinstance(escalated, Escalation)
    assert (escalated.status, escalated.plan_reference, escalated.level) == (Status.OPEN, "SPIP-UEC-01", 3)
    de_escalated = apply_transition(escalated, Transition(K.DE_ESCALATED, to_level=2), by=ENGINE)
    assert isinstance(de_escalated, Escalation) and de_escalated.status is Status.OPEN


def test_transition_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_transition(None, Transition(K.OPENED, to_level=1), by=Actor("x", "y", dt.datetime(2025, 6, 1), manual=False),
                         ladder="l", subject="s")


RECONCILE = [
    # current level (None: no open escalation), set by hand, evaluated level -> transitions
    (None, False, 0, []),
    (None, False, 1, [(K.OPENED, 1)]),
    (None, False, 3, [(K.OPENED, 3)]),      # levels may be skipped
    (2,    False, 2, []),
    (2,    False, 4, [(K.ESCALATED, 4)]),
    (2,    False, 1, [(K.DE_ESCALATED, 1)]),
    (2,    False, 0, [(K.CLOSED, None)]),
    (4,    True,  2, []),                    # a level set by hand holds ...
    (4,    True,  0, []),
    (4,    True,  5, [(K.ESCALATED, 5)]),    # ... until the rules reach higher
]


@pytest.mark.parametrize(("level", "by_hand", "evaluated", "expected"), RECONCILE)
def test_reconcile_brings_the_escalation_in_line_with_the_evaluated_level(level, by_hand, evaluated, expected) -> None:
    current = opened(level, by=LEAD if by_hand else ENGINE) if level is not None else None
    assert [(t.kind, t.to_level) for t in reconcile(current, evaluated)] == expected


def test_a_closed_escalation_recurs_as_a_new_one() -> None:
    closed = at_status(Status.CLOSED)
    assert [(t.kind, t.to_level) for t in reconcile(closed, 1)] == [(K.OPENED, 1)]
