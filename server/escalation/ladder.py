"""Evaluate a tenant's escalation ladder for one subject's facts.

Level semantics (the same for every tenant):

* Levels are listed in ascending order. The first level is the *resting* level ("performing",
  "routine") and has no condition.
* The level reached is the **highest** level whose ``when`` definitely holds. Levels are independent:
  a level does not require the level below it to hold, so a subject can jump straight to a higher
  level when that level's own rule says so (STW: "or more quickly if assessed risk is high"; ULHT:
  critical failure with no recovery plan goes straight to FPEC). A tenant that wants a level to build
  on the one below writes that into the higher level's condition. If no level holds, the subject
  rests at the first level.
* A condition that depends on a fact nobody supplied is unknown, never true: the level is not
  reached, and the outcome lists the missing facts.
* Within the level reached, the first route whose ``when`` holds (or that has none) chooses the
  owning forum and adds its required actions; with no matching route the level's own forum stands.
* Staying at a level over time (ULHT: "monthly until performance ... is achieved for a sustainable
  period") is declared with the ladder's ``de_escalation`` (server/escalation/de_escalation.py), or
  written with the lifecycle facts ``current_level``, ``months_in_level`` and ``periods_in_level``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from server.escalation.conditions import ConditionResult, ConditionTrace, FactValues, evaluate_condition
from server.escalation.facts import FACTS, FactDefinition, check_fact_values
from server.tenants.spec import LadderSpec, LevelSpec, RouteSpec, Scalar

if TYPE_CHECKING:
    from server.escalation.de_escalation import DeEscalationCheck


class InvalidFacts(ValueError):
    """The caller supplied a fact the registry does not know, or a value of the wrong type."""


@dataclass(frozen=True)
class LevelCheck:
    """Whether one non-resting level's rule held, and why."""

    level: int
    code: str
    verdict: bool | None
    trace: ConditionTrace


@dataclass(frozen=True)
class LadderOutcome:
    ladder: str
    purpose: str
    level: int
    level_code: str
    level_name: str
    resting: bool
    forum: str | None
    additional_forums: tuple[str, ...]
    route: str | None
    requires: tuple[str, ...]
    review_frequency: str | None
    fired: ConditionTrace | None  # the rule that placed the subject at this level; None at rest
    route_trace: ConditionTrace | None
    checks: tuple[LevelCheck, ...]
    facts: Mapping[str, Scalar] = field(default_factory=dict)
    missing_facts: tuple[str, ...] = ()
    source: str | None = None
    # Set when the ladder's de-escalation rule decided the level rather than the level rules alone.
    de_escalation: DeEscalationCheck | None = None
    rules_outcome: LadderOutcome | None = None  # what the level rules alone gave, when de-escalation held a higher level

    @property
    def parameters(self) -> dict[str, Scalar | tuple[Scalar, ...]]:
        """The thresholds of the comparisons that held in the fired rule, e.g. {'months_under_target >=': 2}."""
        found: dict[str, Scalar | tuple[Scalar, ...]] = {}
        if self.rules_outcome is not None:
            found.update(self.rules_outcome.parameters)
        if self.de_escalation is not None:
            found.update(self.de_escalation.parameters)
        if self.fired is not None:
            found.update({f"{leaf.fact} {leaf.op}": leaf.expected for leaf in self.fired.deciding_comparisons() if leaf.expected is not None})
        return found

    def explanation(self) -> str:
        """One paragraph saying which rule placed the subject here, on which facts."""
        if self.rules_outcome is not None and self.de_escalation is not None:
            route = f" via route '{self.route}'" if self.route else ""
            return (
                f"{self.ladder}: level {self.level} '{self.level_name}'{route} by its de-escalation rule: {self.de_escalation.describe()}; "
                f"owning forum {self.forum or 'none'}; required: {', '.join(self.requires) or 'nothing'}. "
                f"Level rules alone: {self.rules_outcome.explanation()}"
            )
        stepped = f" De-escalation: {self.de_escalation.describe()}." if self.de_escalation is not None else ""
        return self._rules_explanation() + stepped

    def _rules_explanation(self) -> str:
        if self.fired is None:
            return f"{self.ladder}: resting at level {self.level} '{self.level_name}': no higher level's rule held."
        held = "; ".join(leaf.describe() for leaf in self.fired.deciding_comparisons())
        route = f" via route '{self.route}'" if self.route else ""
        return (
            f"{self.ladder}: level {self.level} '{self.level_name}'{route} because {self.fired.path} held "
            f"({held}); owning forum {self.forum or 'none'}; required: {', '.join(self.requires) or 'nothing'}."
        )


def evaluate_ladder(ladder: LadderSpec, facts: FactValues, *, known: Mapping[str, FactDefinition] = FACTS) -> LadderOutcome:
    """The level the subject reaches on this ladder, with the rule, facts and forum that explain it.

    ``known``: the facts the tenant may name (the registry's, and its own judgements').
    """
    problems = check_fact_values(facts, known)
    if problems:
        raise InvalidFacts("; ".join(problems))
    resting, *others = ladder.levels
    results = [(index, level, evaluate_condition(level.when, facts, f"levels[{index}].when"))
               for index, level in enumerate(others, start=1) if level.when is not None]
    checks = tuple(LevelCheck(level.level, level.code, result.trace.verdict, result.trace) for _, level, result in results)
    held = [(level, result) for _, level, result in results if result.holds]
    missing = tuple(dict.fromkeys(name for _, _, result in results for name in result.missing_facts))
    if not held:
        return _outcome(ladder, resting, None, None, checks, facts, missing)
    level, result = held[-1]
    return _outcome(ladder, level, result, _route(level, facts, ladder.levels.index(level)), checks, facts, missing)


def hold_level(ladder: LadderSpec, rules: LadderOutcome, level_number: int, check: DeEscalationCheck) -> LadderOutcome:
    """The outcome at a level the de-escalation rule keeps, above the level the rules give."""
    index, level = next((i, lvl) for i, lvl in enumerate(ladder.levels) if lvl.level == level_number)
    outcome = _outcome(ladder, level, None, _route(level, rules.facts, index), rules.checks, rules.facts, rules.missing_facts)
    return replace(outcome, resting=False, de_escalation=check, rules_outcome=rules)


def _route(level: LevelSpec, facts: FactValues, index: int) -> tuple[RouteSpec, ConditionResult | None] | None:
    for r_index, route in enumerate(level.routes):
        if route.when is None:
            return route, None
        result = evaluate_condition(route.when, facts, f"levels[{index}].routes[{r_index}].when")
        if result.holds:
            return route, result
    return None


def _outcome(
    ladder: LadderSpec,
    level: LevelSpec,
    fired: ConditionResult | None,
    route: tuple[RouteSpec, ConditionResult | None] | None,
    checks: tuple[LevelCheck, ...],
    facts: FactValues,
    missing: tuple[str, ...],
) -> LadderOutcome:
    chosen, route_result = route if route else (None, None)
    requires = tuple(dict.fromkeys([*level.requires, *(chosen.requires if chosen else [])]))
    return LadderOutcome(
        ladder=ladder.code,
        purpose=ladder.purpose,
        level=level.level,
        level_code=level.code,
        level_name=level.name,
        resting=fired is None,
        forum=(chosen.forum if chosen and chosen.forum else level.forum),
        additional_forums=tuple(level.additional_forums),
        route=chosen.code if chosen else None,
        requires=requires,
        review_frequency=level.review_frequency,
        fired=fired.trace if fired else None,
        route_trace=route_result.trace if route_result else None,
        checks=checks,
        facts=dict(facts),
        missing_facts=missing,
        source=ladder.source,
    )
