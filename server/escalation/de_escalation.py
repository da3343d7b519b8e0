"""Declared de-escalation: an open escalation steps down only after the subject stays on target.

A ladder without ``de_escalation`` follows its level rules both ways: when they give a lower level
the escalation drops to it at once. A ladder with ``de_escalation: {after_periods_on_target: N,
step: S}`` holds its level while the rules give a lower one, and steps down S levels (never below the
level the rules give) once the subject has been on target for N consecutive periods *at the level it
holds* — so each step needs N more periods. ULHT 5.2: a failing division meets monthly "until
performance against plan is achieved for a sustainable period of time".

Periods are the subject's own (quarters for quarterly data): ``periods_sustained`` from the store and
``periods_in_level`` from the lifecycle. A level set by hand is never lowered by the engine.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from server.escalation.ladder import LadderOutcome, hold_level
from server.escalation.lifecycle import Escalation
from server.tenants.spec import LadderSpec, Scalar


@dataclass(frozen=True)
class DeEscalationCheck:
    """Why the escalation held its level or stepped down: the rule, the facts and the parameters."""

    after_periods_on_target: int
    step: int | str  # a number of levels, or "all"
    from_level: int
    rules_level: int  # the level the level rules alone give
    to_level: int  # the level kept: from_level when held
    periods_sustained: int | None  # None: not known, so the subject is not known to be on target
    periods_in_level: int

    @property
    def stepped_down(self) -> bool:
        return self.to_level < self.from_level

    @property
    def periods_on_target_at_level(self) -> int:
        return min(self.periods_sustained or 0, self.periods_in_level)

    @property
    def parameters(self) -> dict[str, Scalar]:
        return {"de_escalation.after_periods_on_target": self.after_periods_on_target, "de_escalation.step": self.step}

    def describe(self) -> str:
        counted = (f"{self.periods_on_target_at_level} of {self.after_periods_on_target} periods on target at level {self.from_level} "
                   f"(periods_sustained is {'missing' if self.periods_sustained is None else self.periods_sustained}, "
                   f"periods_in_level is {self.periods_in_level})")
        if self.stepped_down:
            return f"stepped down from level {self.from_level} to level {self.to_level} (step {self.step}) after {counted}"
        return f"held at level {self.from_level} although the level rules give level {self.rules_level}: {counted}"


def de_escalate(ladder: LadderSpec, rules: LadderOutcome, current: Escalation | None, lifecycle: Mapping[str, int]) -> LadderOutcome:
    """The outcome once the ladder's de-escalation rule has had its say (unchanged when it has none to say)."""
    rule = ladder.de_escalation
    if rule is None or current is None or not current.is_open or current.level_set_manually or rules.level >= current.level:
        return rules
    sustained = rules.facts.get("periods_sustained")
    sustained = sustained if isinstance(sustained, int) and not isinstance(sustained, bool) else None
    in_level = lifecycle["periods_in_level"]
    enough = sustained is not None and min(sustained, in_level) >= rule.after_periods_on_target
    to_level = _level_below(ladder, current.level, rule.step, floor=rules.level) if enough else current.level
    check = DeEscalationCheck(rule.after_periods_on_target, rule.step, current.level, rules.level, to_level, sustained, in_level)
    if to_level == rules.level:
        return replace(rules, de_escalation=check)
    return hold_level(ladder, rules, to_level, check)


def _level_below(ladder: LadderSpec, level: int, step: int | str, *, floor: int) -> int:
    """The level ``step`` levels down the ladder's list from ``level``, not below ``floor`` (``all``: the floor)."""
    if not isinstance(step, int):
        return floor
    numbers = [spec.level for spec in ladder.levels]
    position = numbers.index(level) if level in numbers else len([n for n in numbers if n < level])
    return max(floor, numbers[max(0, position - step)])
