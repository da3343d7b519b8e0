"""Evaluate a condition against a subject's facts, keeping a trace that explains the verdict.

Three-valued: a comparison whose fact was not supplied is *unknown*, not false, so ``not`` of a
missing fact never fires a rule by accident. ``all`` is false if any part is false, true if every part
is true, otherwise unknown; ``any`` is true if any part is true, false if every part is false,
otherwise unknown. A rule fires only when its condition is definitely true.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from server.tenants.spec import AllOf, AnyOf, Compare, Condition, Scalar

Verdict = bool | None  # None: unknown because a fact was missing
FactValues = Mapping[str, Scalar]

_ORDERINGS: Mapping[str, Callable[[object, object], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
}


@dataclass(frozen=True)
class ConditionTrace:
    """One node of an evaluated condition: a comparison, or all / any / not over its children."""

    path: str
    kind: Literal["compare", "all", "any", "not"]
    verdict: Verdict
    children: tuple["ConditionTrace", ...] = ()
    fact: str | None = None
    op: str | None = None
    expected: Scalar | tuple[Scalar, ...] | None = None
    actual: Scalar | None = None

    @property
    def missing(self) -> bool:
        return self.kind == "compare" and self.verdict is None

    def comparisons(self) -> tuple["ConditionTrace", ...]:
        if self.kind == "compare":
            return (self,)
        return tuple(leaf for child in self.children for leaf in child.comparisons())

    def deciding_comparisons(self) -> tuple["ConditionTrace", ...]:
        """The comparisons that decided this node's verdict (for ``any`` that held: only its true branches)."""
        if self.kind == "compare":
            return (self,)
        if self.kind == "not":
            return self.children[0].comparisons()
        if self.verdict is None:
            return tuple(leaf for child in self.children if child.verdict is None for leaf in child.deciding_comparisons())
        # all that held / any that failed: every child decided; all that failed / any that held: the children agreeing
        everyone_decides = (self.kind == "all") == (self.verdict is True)
        return tuple(leaf for child in self.children if everyone_decides or child.verdict is self.verdict
                     for leaf in child.deciding_comparisons())

    def describe(self) -> str:
        """A readable sentence, e.g. ``months_under_target >= 2 (is 3): held``."""
        if self.kind == "compare":
            shown = "missing" if self.missing else repr(self.actual)
            expected = list(self.expected) if isinstance(self.expected, tuple) else self.expected
            return f"{self.fact} {self.op} {expected!r} (is {shown}): {_word(self.verdict)}"
        inner = "; ".join(child.describe() for child in self.children)
        return f"{self.kind}[{inner}]: {_word(self.verdict)}"


@dataclass(frozen=True)
class ConditionResult:
    holds: bool  # definitely true
    trace: ConditionTrace

    @property
    def facts_used(self) -> dict[str, Scalar]:
        return {leaf.fact: leaf.actual for leaf in self.trace.comparisons() if leaf.fact and not leaf.missing and leaf.actual is not None}

    @property
    def missing_facts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(leaf.fact for leaf in self.trace.comparisons() if leaf.missing and leaf.fact))


def evaluate_condition(condition: Condition, facts: FactValues, path: str = "when") -> ConditionResult:
    """Evaluate a condition; ``holds`` is True only when the condition is definitely true."""
    trace = _trace(condition, facts, path)
    return ConditionResult(holds=trace.verdict is True, trace=trace)


def _trace(condition: Condition, facts: FactValues, path: str) -> ConditionTrace:
    if isinstance(condition, Compare):
        return _compare(condition, facts, path)
    if isinstance(condition, AllOf):
        children = tuple(_trace(child, facts, f"{path}.all[{index}]") for index, child in enumerate(condition.all))
        return ConditionTrace(path, "all", _all(child.verdict for child in children), children)
    if isinstance(condition, AnyOf):
        children = tuple(_trace(child, facts, f"{path}.any[{index}]") for index, child in enumerate(condition.any))
        return ConditionTrace(path, "any", _any(child.verdict for child in children), children)
    child = _trace(condition.not_, facts, f"{path}.not")
    return ConditionTrace(path, "not", None if child.verdict is None else not child.verdict, (child,))


def _compare(comparison: Compare, facts: FactValues, path: str) -> ConditionTrace:
    expected = tuple(comparison.value) if isinstance(comparison.value, list) else comparison.value
    if comparison.fact not in facts:
        return ConditionTrace(path, "compare", None, fact=comparison.fact, op=comparison.op, expected=expected)
    actual = facts[comparison.fact]
    if comparison.op == "in":
        verdict = actual in expected  # type: ignore[operator]
    elif comparison.op == "not_in":
        verdict = actual not in expected  # type: ignore[operator]
    else:
        verdict = bool(_ORDERINGS[comparison.op](actual, expected))
    return ConditionTrace(path, "compare", verdict, fact=comparison.fact, op=comparison.op, expected=expected, actual=actual)


def _all(verdicts: Iterable[Verdict]) -> Verdict:
    values = list(verdicts)
    if any(value is False for value in values):
        return False
    return True if all(value is True for value in values) else None


def _any(verdicts: Iterable[Verdict]) -> Verdict:
    values = list(verdicts)
    if any(value is True for value in values):
        return True
    return False if all(value is False for value in values) else None


def _word(verdict: Verdict) -> str:
    return {True: "held", False: "did not hold", None: "unknown"}[verdict]
