"""The life of one escalation, as a pure state machine.

An escalation belongs to one subject on one ladder. It is *opened* when the subject first rises above
the resting level, *acknowledged* by the owning forum, has a plan *linked*, is *escalated* to a higher
level or *de-escalated* to a lower one, and is *closed* when the subject is back at rest (or a person
closes it). Each transition is an event — who, in which role, when, why — kept in the escalation's
history; nothing here writes to a database.

Automatic transitions come from :func:`reconcile`, which compares the open escalation with the
level the ladder now gives. A person may also act by hand; a hand-made change of level, opening or
closing is an override and must carry a reason (:func:`requires_override_reason`); whether that
person may do it at all is the caller's Casbin check. A level set by hand holds: the engine will
raise it further if the rules reach higher, but will not lower or close it — a person does that
(ULHT 6: the six-monthly accountability review resets escalation levels).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    PLAN_LINKED = "plan_linked"
    CLOSED = "closed"


class TransitionKind(StrEnum):
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    PLAN_LINKED = "plan_linked"
    ESCALATED = "escalated"
    DE_ESCALATED = "de_escalated"
    CLOSED = "closed"


_ACTIVE_MOVES = frozenset({TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED, TransitionKind.CLOSED, TransitionKind.PLAN_LINKED})
# Which transitions each status allows; None is "no escalation yet".
ALLOWED_TRANSITIONS: Mapping[Status | None, frozenset[TransitionKind]] = MappingProxyType({
    None: frozenset({TransitionKind.OPENED}),
    Status.OPEN: _ACTIVE_MOVES | {TransitionKind.ACKNOWLEDGED},
    Status.ACKNOWLEDGED: _ACTIVE_MOVES,
    Status.PLAN_LINKED: _ACTIVE_MOVES,  # linking again replaces the plan (a revised plan)
    Status.CLOSED: frozenset(),  # a recurrence opens a new escalation
})

# Changing the level, or opening or closing, by hand overrides the rules.
OVERRIDE_KINDS = frozenset({TransitionKind.OPENED, TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED, TransitionKind.CLOSED})
_LEVEL_CHANGES = frozenset({TransitionKind.OPENED, TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED})


@dataclass(frozen=True)
class Transition:
    """A transition asked for, by the engine (:func:`reconcile`) or by a person."""

    kind: TransitionKind
    to_level: int | None = None  # for opened, escalated, de_escalated
    reason: str | None = None
    plan_reference: str | None = None  # for plan_linked
    period: dt.date | None = None  # the subject's latest data period when the engine moved it (de-escalation counts from it)


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    at: dt.datetime
    manual: bool = True


@dataclass(frozen=True)
class TransitionEvent:
    """A transition that happened: the audit record."""

    kind: TransitionKind
    from_level: int | None
    to_level: int | None
    actor: str
    role: str
    at: dt.datetime
    manual: bool
    reason: str | None
    plan_reference: str | None
    period: dt.date | None = None


@dataclass(frozen=True)
class Escalation:
    ladder: str
    subject: str
    level: int
    status: Status
    plan_reference: str | None
    level_set_manually: bool
    history: tuple[TransitionEvent, ...]

    @property
    def is_open(self) -> bool:
        return self.status is not Status.CLOSED

    @property
    def opened_at(self) -> dt.datetime:
        return self.history[0].at

    @property
    def level_changed_at(self) -> dt.datetime:
        return self._level_change.at

    @property
    def level_changed_period(self) -> dt.date | None:
        """The subject's data period when the level last changed; None when a person changed it or it was not recorded."""
        return self._level_change.period

    @property
    def _level_change(self) -> TransitionEvent:
        return next(event for event in reversed(self.history) if event.kind in _LEVEL_CHANGES)


@dataclass(frozen=True)
class TransitionRefused:
    kind: TransitionKind
    reason: str


def allowed_transitions(current: Escalation | None) -> frozenset[TransitionKind]:
    return ALLOWED_TRANSITIONS[current.status if current else None]


def requires_override_reason(kind: TransitionKind, *, manual: bool) -> bool:
    """Whether this transition, made this way, must carry a reason."""
    return manual and kind in OVERRIDE_KINDS


def apply_transition(
    current: Escalation | None, transition: Transition, *, by: Actor, ladder: str | None = None, subject: str | None = None,
) -> Escalation | TransitionRefused:
    """The escalation after the transition, or why it cannot happen."""
    if by.at.tzinfo is None:
        raise ValueError("transition times must be timezone-aware")
    kind = transition.kind
    if kind not in allowed_transitions(current):
        status = current.status if current else "no escalation"
        return TransitionRefused(kind, f"cannot {kind} from {status}")
    if requires_override_reason(kind, manual=by.manual) and not (transition.reason or "").strip():
        return TransitionRefused(kind, f"a manual {kind} overrides the rules and needs a reason")
    if current is None and not (ladder and subject):
        return TransitionRefused(kind, "opening an escalation needs its ladder and subject")
    refusal = _refusal(current, transition)
    if refusal:
        return TransitionRefused(kind, refusal)
    event = TransitionEvent(
        kind=kind, from_level=current.level if current else None, to_level=_new_level(current, transition),
        actor=by.name, role=by.role, at=by.at, manual=by.manual, reason=transition.reason,
        plan_reference=transition.plan_reference, period=transition.period,
    )
    if current is None:
        return Escalation(ladder or "", subject or "", event.to_level or 0, Status.OPEN, None, by.manual, (event,))
    return _next_state(current, transition, event, by)


def _refusal(current: Escalation | None, transition: Transition) -> str | None:
    kind, to_level = transition.kind, transition.to_level
    if kind in _LEVEL_CHANGES and to_level is None:
        return f"{kind} needs the level to move to"
    if kind is TransitionKind.ESCALATED and current and to_level is not None and to_level <= current.level:
        return f"cannot escalate from level {current.level} to level {to_level}"
    if kind is TransitionKind.DE_ESCALATED and current and to_level is not None and to_level >= current.level:
        return f"cannot de-escalate from level {current.level} to level {to_level}"
    if kind is TransitionKind.PLAN_LINKED and not transition.plan_reference:
        return "linking a plan needs the plan's reference"
    return None


def _new_level(current: Escalation | None, transition: Transition) -> int | None:
    if transition.kind in _LEVEL_CHANGES:
        return transition.to_level
    return current.level if current else None


def _next_state(current: Escalation, transition: Transition, event: TransitionEvent, by: Actor) -> Escalation:
    history = (*current.history, event)
    kind = transition.kind
    if kind is TransitionKind.ACKNOWLEDGED:
        return replace(current, status=Status.ACKNOWLEDGED, history=history)
    if kind is TransitionKind.PLAN_LINKED:
        return replace(current, status=Status.PLAN_LINKED, plan_reference=transition.plan_reference, history=history)
    if kind is TransitionKind.CLOSED:
        return replace(current, status=Status.CLOSED, history=history)
    level = event.to_level if event.to_level is not None else current.level
    # A higher level has a new owning forum, which must acknowledge it; the linked plan carries on.
    status = Status.OPEN if kind is TransitionKind.ESCALATED else current.status
    return replace(current, level=level, status=status, level_set_manually=by.manual, history=history)


def reconcile(
    current: Escalation | None, evaluated_level: int, *, resting_level: int = 0, reason: str | None = None, period: dt.date | None = None,
) -> list[Transition]:
    """The transitions that bring the open escalation in line with the level the ladder now gives."""
    if current is None or not current.is_open:
        if evaluated_level > resting_level:
            return [Transition(TransitionKind.OPENED, to_level=evaluated_level, reason=reason, period=period)]
        return []
    if evaluated_level > current.level:
        return [Transition(TransitionKind.ESCALATED, to_level=evaluated_level, reason=reason, period=period)]
    if evaluated_level == current.level or current.level_set_manually:
        return []  # a level set by hand holds until a person changes it or the rules reach higher
    if evaluated_level <= resting_level:
        return [Transition(TransitionKind.CLOSED, reason=reason, period=period)]
    return [Transition(TransitionKind.DE_ESCALATED, to_level=evaluated_level, reason=reason, period=period)]
