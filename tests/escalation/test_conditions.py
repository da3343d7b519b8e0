"""Conditions evaluate three-valued and explain themselves; facts are checked against the registry."""
from __future__ import annotations

import pytest

from server.escalation import FACTS, InvalidFacts, check_fact_values, evaluate_condition, evaluate_ladder
from server.tenants.spec import LadderSpec, TenantFile

CONDITION = TenantFile.model_validate({
    "organisation": {"code": "X", "name": "X", "kind": "trust"},
    "escalation": {"ladders": [{"code": "l", "name": "l", "applies_to": "indicator", "levels": [
        {"level": 0, "code": "rest", "name": "rest"},
        {"level": 1, "code": "one", "name": "one", "when": {"any": [
            {"fact": "months_under_target", "op": ">=", "value": 2},
            {"not": {"fact": "plan_robust", "value": True}},
            {"all": [{"fact": "risk_rating", "op": "in", "value": ["medium", "high"]},
                     {"fact": "accountability", "op": "not_in", "value": ["sole"]}]},
        ]}},
    ]}]},
})
LADDER: LadderSpec = CONDITION.escalation.ladders[0]
WHEN = LADDER.levels[1].when

CASES = [
    # facts                                                                  verdict  holds
    (dict(months_under_target=2),                                            True,    True),   # one true branch is enough
    (dict(months_under_target=0, plan_robust=True, risk_rating="high"),      None,    False),  # accountability missing
    (dict(months_under_target=0, plan_robust=True, risk_rating="low"),       False,   False),  # false whatever is missing
    (dict(months_under_target=0, plan_robust=True, risk_rating="low", accountability="joint"), False, False),
    (dict(months_under_target=0, plan_robust=False),                         True,    True),
    (dict(months_under_target=0, plan_robust=True, risk_rating="high", accountability="joint"), True, True),
    (dict(months_under_target=0, risk_rating="high", accountability="sole"), None,    False),  # not(missing) is unknown
]


@pytest.mark.parametrize(("facts", "verdict", "holds"), CASES)
def test_three_valued_evaluation(facts, verdict, holds) -> None:
    result = evaluate_condition(WHEN, facts)
    assert (result.trace.verdict, result.holds) == (verdict, holds)


def test_trace_names_paths_values_and_missing_facts() -> None:
    result = evaluate_condition(WHEN, dict(months_under_target=1, risk_rating="high"))
    leaves = result.trace.comparisons()
    assert [leaf.path for leaf in leaves] == ["when.any[0]", "when.any[1].not", "when.any[2].all[0]", "when.any[2].all[1]"]
    assert result.missing_facts == ("plan_robust", "accountability")
    assert result.facts_used == {"months_under_target": 1, "risk_rating": "high"}
    assert leaves[0].describe() == "months_under_target >= 2 (is 1): did not hold"
    assert leaves[2].describe() == "risk_rating in ['medium', 'high'] (is 'high'): held"


@pytest.mark.parametrize(("facts", "problem"), [
    (dict(months_under_targt=2), "'months_under_targt' is not a known fact"),
    (dict(months_under_target="2"), "fact 'months_under_target' must be a whole number, not '2'"),
    (dict(months_under_target=True), "fact 'months_under_target' must be a whole number, not True"),
    (dict(risk_rating="severe"), "fact 'risk_rating' must be one of low, medium, high, not 'severe'"),
    (dict(plan_robust=1), "fact 'plan_robust' must be true or false, not 1"),
])
def test_ladder_refuses_unknown_or_mistyped_facts(facts, problem) -> None:
    assert check_fact_values(facts) == [problem]
    with pytest.raises(InvalidFacts, match=problem.replace("(", r"\(").replace(")", r"\)")):
        evaluate_ladder(LADDER, facts)


def test_every_fact_says_what_produces_it() -> None:
    assert len(FACTS) >= 40
    assert all(definition.produced_by and definition.description for definition in FACTS.values())
    assert all(definition.choices for definition in FACTS.values() if definition.type == "choice")
