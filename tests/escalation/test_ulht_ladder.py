"""ULHT PMF 4, 5.2 and 6: divisional rating -> PRM frequency, escalation to FPEC, special measures, earned autonomy."""
from __future__ import annotations

import datetime as dt

import pytest

from server.escalation import (
    Actor, Transition, TransitionKind, TransitionRefused, apply_transition, evaluate_ladder, required_cadence,
)
from server.escalation.cadence import frequency_for

DIVISIONAL = ("ulht.yaml", "ulht-divisional")
AUTONOMY = ("ulht.yaml", "ulht-earned-autonomy")

RATING = dict(failed_criteria=0, all_indicators_met=False, critical_failure=False, risk_rating="low",
              current_level=0, months_sustained=12)

PRM_FREQUENCY_MATRIX = [
    # facts that differ from RATING                              PRM frequency   rule
    (dict(all_indicators_met=True),                              "six-monthly",  "prm-six-monthly"),      # all met incl. non-key
    (dict(),                                                     "quarterly",    "prm-quarterly"),        # all key met
    (dict(failed_criteria=1),                                    "monthly",      "prm-monthly-one-or-two"),
    (dict(failed_criteria=2),                                    "monthly",      "prm-monthly-one-or-two"),
    (dict(failed_criteria=3),                                    "monthly",      "prm-monthly-more-than-two"),
    (dict(failed_criteria=3, critical_failure=True),             "weekly",       "prm-weekly-severe"),
    (dict(failed_criteria=4, risk_rating="high"),                "weekly",       "prm-weekly-severe"),
    (dict(current_level=1, months_sustained=2, all_indicators_met=True), "monthly", "prm-monthly-until-sustained"),
    (dict(current_level=1, months_sustained=3, all_indicators_met=True), "six-monthly", "prm-six-monthly"),
]


@pytest.mark.parametrize(("facts", "frequency", "rule"), PRM_FREQUENCY_MATRIX)
def test_divisional_rating_sets_prm_frequency(tenant, facts, frequency, rule) -> None:
    decisions = required_cadence(tenant("ulht.yaml").escalation.cadence_rules, {**RATING, **facts}, applies_to={"unit"})
    assert [(d.forum, d.frequency, d.rule) for d in decisions] == [("PRM", frequency, rule)]


BASE = dict(failed_criteria=0, months_sustained=6, all_indicators_met=False, critical_failure=False,
            recovery_plan_in_place=True, executive_team_decision="none", risk_rating="low")

SURGERY_DIVISION_YEAR = [
    # period   facts                                                        level              forum   required action
    ("2025-04", {},                                                         "achieving",       "PRM",  None),
    ("2025-05", dict(failed_criteria=1, months_sustained=0, periods_sustained=0), "failing",   "PRM",  "action_plan"),
    ("2025-06", dict(failed_criteria=3, months_sustained=0, periods_sustained=0), "serious-failure", "PRM", "immediate_action_plan"),
    ("2025-07", dict(failed_criteria=3, months_sustained=0, periods_sustained=0, critical_failure=True, recovery_plan_in_place=False),
                                                                            "fpec",            "FPEC", "escalation_paper_to_fpec"),
    # A recovery plan is in place, but the escalation holds until performance is sustained (de_escalation).
    ("2025-08", dict(failed_criteria=3, months_sustained=0, periods_sustained=0, critical_failure=True),
                                                                            "fpec",            "FPEC", None),
    ("2025-09", dict(failed_criteria=2, months_sustained=0, periods_sustained=0), "fpec",      "FPEC", None),
    ("2025-10", dict(failed_criteria=0, months_sustained=1, periods_sustained=1), "fpec",      "FPEC", None),
    ("2025-11", dict(failed_criteria=0, months_sustained=2, periods_sustained=2), "fpec",      "FPEC", None),
    ("2025-12", dict(failed_criteria=0, months_sustained=3, periods_sustained=3), "achieving", "PRM",  None),
]
PRM_FREQUENCY_BY_MONTH = ["quarterly", "monthly", "monthly", "weekly", "weekly", "monthly", "monthly", "monthly", "quarterly"]


def test_failing_division_meets_monthly_until_it_sustains_performance(tenant, ladder, run_months, transitions_of) -> None:
    steps = run_months(ladder(*DIVISIONAL), BASE, SURGERY_DIVISION_YEAR, subject="RWD-SURG")
    assert transitions_of(steps) == [("2025-05", "opened", 1), ("2025-06", "escalated", 2), ("2025-07", "escalated", 3),
                                     ("2025-12", "closed", 3)]
    assert "held at level 3 although the level rules give level 2" in steps[4].outcome.explanation()
    rules = tenant("ulht.yaml").escalation.cadence_rules
    frequencies = [frequency_for(required_cadence(rules, step.outcome.facts), "PRM") for step in steps]
    assert frequencies == PRM_FREQUENCY_BY_MONTH


def test_a_division_failing_one_criterion_holds_its_level_until_three_months_sustained(ladder, run_months, transitions_of) -> None:
    rows = [("2025-05", dict(failed_criteria=1, months_sustained=0, periods_sustained=0), "failing", "PRM", None),
            ("2025-06", dict(failed_criteria=0, months_sustained=1, periods_sustained=1), "failing", "PRM", None),
            ("2025-07", dict(failed_criteria=1, months_sustained=0, periods_sustained=0), "failing", "PRM", None),
            ("2025-08", dict(failed_criteria=0, months_sustained=1, periods_sustained=1), "failing", "PRM", None),
            ("2025-09", dict(failed_criteria=0, months_sustained=2, periods_sustained=2), "failing", "PRM", None),
            ("2025-10", dict(failed_criteria=0, months_sustained=3, periods_sustained=3), "achieving", "PRM", None)]
    steps = run_months(ladder(*DIVISIONAL), BASE, rows, subject="RWD-MED")
    assert transitions_of(steps) == [("2025-05", "opened", 1), ("2025-10", "closed", 1)]


def test_critical_failure_without_recovery_plan_goes_straight_to_fpec(ladder) -> None:
    outcome = evaluate_ladder(ladder(*DIVISIONAL), {**BASE, "current_level": 0, "critical_failure": True, "recovery_plan_in_place": False})
    assert (outcome.level_code, outcome.forum, outcome.additional_forums) == ("fpec", "FPEC", ("EXEC",))
    assert outcome.parameters == {"critical_failure ==": True, "recovery_plan_in_place ==": False}


@pytest.mark.parametrize(("decision", "level", "forum", "action"), [
    ("audit", "audit", "EXEC", "audit"),
    ("special_measures", "special-measures", "EXEC", "intensive_support"),
])
def test_executive_team_may_order_an_audit_or_special_measures(ladder, decision, level, forum, action) -> None:
    facts = {**BASE, "current_level": 3, "failed_criteria": 4, "critical_failure": True, "executive_team_decision": decision}
    outcome = evaluate_ladder(ladder(*DIVISIONAL), facts)
    assert (outcome.level_code, outcome.forum) == (level, forum)
    assert action in outcome.requires


def test_six_monthly_accountability_review_resets_the_level_with_a_recorded_reason(ladder, run_months) -> None:
    rows = [("2025-05", dict(failed_criteria=4, months_sustained=0, executive_team_decision="special_measures"),
             "special-measures", "EXEC", None)]
    escalation = run_months(ladder(*DIVISIONAL), BASE, rows)[0].escalation
    review = Actor("Chief Executive", "chair, accountability review", dt.datetime(2025, 10, 1, tzinfo=dt.UTC))
    refused = apply_transition(escalation, Transition(TransitionKind.DE_ESCALATED, to_level=1), by=review)
    assert isinstance(refused, TransitionRefused) and "needs a reason" in refused.reason
    reset = apply_transition(escalation, Transition(TransitionKind.DE_ESCALATED, to_level=1,
                                                    reason="ULHT 6: six-monthly accountability review"), by=review)
    assert not isinstance(reset, TransitionRefused)
    assert (reset.level, reset.level_set_manually, reset.history[-1].role) == (1, True, "chair, accountability review")


EARNED_AUTONOMY = [
    # facts                                                                  autonomy level       a delegated power
    (dict(failed_criteria=1, months_sustained=0),                            "standard",          None),
    (dict(failed_criteria=0, months_sustained=5),                            "standard",          None),
    (dict(failed_criteria=0, months_sustained=6),                            "partial-autonomy",  "pay_to_non_pay_flexibility"),
    (dict(failed_criteria=0, months_sustained=12),                           "partial-autonomy",  None),
    (dict(failed_criteria=0, months_sustained=12, all_indicators_met=True),  "full-autonomy",     "own_capital_allocation"),
]


@pytest.mark.parametrize(("facts", "level", "power"), EARNED_AUTONOMY)
def test_sustained_achievement_earns_autonomy_under_the_scheme_of_delegation(ladder, facts, level, power) -> None:
    outcome = evaluate_ladder(ladder(*AUTONOMY), {**BASE, **facts})
    assert (outcome.purpose, outcome.level_code, outcome.forum) == ("autonomy", level, "ACCREVIEW")
    if power:
        assert power in outcome.requires


def test_autonomy_ladder_rates_but_never_opens_an_escalation(ladder, run_months) -> None:
    rows = [("2025-04", dict(months_sustained=12, all_indicators_met=True), "full-autonomy", "ACCREVIEW", None)]
    step = run_months(ladder(*AUTONOMY), BASE, rows)[0]
    assert (step.escalation, step.events) == (None, ())
