"""Cadence rules: how often a forum meets about a subject (ULHT 5.2 PRM matrix, WHSSC 6 contract tiers).

For each forum the **first** rule, in the order the tenant file lists them, whose condition holds
sets the frequency. Rules for different forums are independent, so one contract can get both an
annual executive-to-executive meeting and bi-monthly SLA meetings (WHSSC 6.1), and an escalated
service adds escalation meetings on top (WHSSC 6.1-6.3).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from server.escalation.conditions import ConditionTrace, FactValues, evaluate_condition
from server.escalation.facts import FACTS, FactDefinition, check_fact_values
from server.escalation.ladder import InvalidFacts
from server.tenants.spec import CadenceRule


@dataclass(frozen=True)
class CadenceDecision:
    forum: str
    frequency: str
    rule: str
    description: str | None
    trace: ConditionTrace

    def explanation(self) -> str:
        held = "; ".join(leaf.describe() for leaf in self.trace.deciding_comparisons())
        return f"{self.forum} meets {self.frequency} by rule '{self.rule}' ({held})."


def required_cadence(
    rules: Sequence[CadenceRule], facts: FactValues, *, applies_to: Collection[str] | None = None,
    known: Mapping[str, FactDefinition] = FACTS,
) -> tuple[CadenceDecision, ...]:
    """The meeting frequency each forum must keep for a subject, one decision per forum."""
    problems = check_fact_values(facts, known)
    if problems:
        raise InvalidFacts("; ".join(problems))
    decided: dict[str, CadenceDecision] = {}
    for index, rule in enumerate(rules):
        if rule.forum in decided or (applies_to is not None and rule.applies_to not in applies_to):
            continue
        result = evaluate_condition(rule.when, facts, f"cadence_rules[{index}].when")
        if result.holds:
            decided[rule.forum] = CadenceDecision(rule.forum, rule.frequency, rule.code, rule.description, result.trace)
    return tuple(decided.values())


def frequency_for(decisions: Sequence[CadenceDecision], forum: str) -> str | None:
    return next((decision.frequency for decision in decisions if decision.forum == forum), None)
