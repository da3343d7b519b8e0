"""STW SAPF "Performance Improvement" and "Where System Performance Assurance is not received", month by month."""
from __future__ import annotations

import pytest

from server.escalation import evaluate_ladder

STW = ("stw.yaml", "stw-performance-improvement")

BASE = dict(
    months_under_target=0, failure_forecast_next_quarter=False, improvement_plan_in_place=False,
    months_since_plan_without_improvement=0, accountability="sole", risk_rating="medium", patient_safety_risk=False,
    qpc_assured=True, months_since_assurance_report_without_improvement=0,
)

SOLE_ACCOUNTABILITY = [
    # period   facts                                                                  level                      forum        required action
    ("2025-04", {},                                                                   "performing",              None,        None),
    ("2025-05", dict(months_under_target=1),                                          "monitor",                 "PDG",       "monitor"),
    ("2025-06", dict(months_under_target=2),                                          "improvement-plan",        "PDG",       "organisation_improvement_plan_in_own_pmf"),
    ("2025-07", dict(months_under_target=3, improvement_plan_in_place=True, months_since_plan_without_improvement=1),
                                                                                      "improvement-plan",        "PDG",       "risk_assessment"),
    ("2025-08", dict(months_under_target=4, improvement_plan_in_place=True, months_since_plan_without_improvement=2),
                                                                                      "improvement-plan",        "PDG",       "improvement_plan"),
    ("2025-09", dict(months_under_target=5, improvement_plan_in_place=True, months_since_plan_without_improvement=3),
                                                                                      "first-level-escalation",  "MEMBEREXEC", "escalate_to_organisation_executive_team"),
    ("2025-10", dict(months_under_target=6, improvement_plan_in_place=True, months_since_plan_without_improvement=4),
                                                                                      "first-level-escalation",  "MEMBEREXEC", None),
    ("2025-12", dict(months_under_target=8, improvement_plan_in_place=True, months_since_plan_without_improvement=6),
                                                                                      "second-level-escalation", "SQPC",      "system_transformation_group_review"),
    ("2026-01", dict(months_under_target=0, improvement_plan_in_place=True),          "performing",              None,        None),
]


def test_sole_accountability_climbs_the_five_steps_and_closes_on_recovery(ladder, run_months, transitions_of) -> None:
    steps = run_months(ladder(*STW), BASE, SOLE_ACCOUNTABILITY)
    assert transitions_of(steps) == [
        ("2025-05", "opened", 1), ("2025-06", "escalated", 2), ("2025-09", "escalated", 3),
        ("2025-12", "escalated", 4), ("2026-01", "closed", 4),
    ]
    assert steps[7].outcome.additional_forums == ("STG",)  # "System QPC and System Transformation Group"


# Level 3 in each accountability route: SAPF "escalate to multiple execs if interdependencies/joint
# accountability and delivery group if system level failure".
ROUTES = [
    ("sole", "MEMBEREXEC", "escalate_to_organisation_executive_team"),
    ("joint", "MEMBEREXEC", "escalate_to_all_accountable_executive_teams"),
    ("system", "PDG", "delivery_group_oversight_of_recovery"),
]


@pytest.mark.parametrize(("accountability", "forum", "action"), ROUTES)
def test_first_level_escalation_goes_where_accountability_lies(ladder, accountability, forum, action) -> None:
    facts = {**BASE, "accountability": accountability, "months_under_target": 5, "improvement_plan_in_place": True,
             "months_since_plan_without_improvement": 3}
    outcome = evaluate_ladder(ladder(*STW), facts)
    assert (outcome.level_code, outcome.route, outcome.forum) == ("first-level-escalation", accountability, forum)
    assert action in outcome.requires


@pytest.mark.parametrize("accountability", ["joint", "system"])
def test_organisation_that_cannot_recover_alone_needs_a_spip(ladder, accountability) -> None:
    outcome = evaluate_ladder(ladder(*STW), {**BASE, "accountability": accountability, "months_under_target": 2})
    assert outcome.level_code == "improvement-plan"
    assert "system_performance_improvement_plan" in outcome.requires


def test_failure_predicted_within_the_quarter_requires_a_plan_before_any_month_is_missed(ladder) -> None:
    outcome = evaluate_ladder(ladder(*STW), {**BASE, "failure_forecast_next_quarter": True})
    assert (outcome.level, outcome.level_code) == (2, "improvement-plan")
    assert outcome.parameters == {"failure_forecast_next_quarter ==": True}


def test_high_assessed_risk_escalates_before_three_months(ladder) -> None:
    facts = {**BASE, "risk_rating": "high", "months_under_target": 3, "improvement_plan_in_place": True,
             "months_since_plan_without_improvement": 1}
    assert evaluate_ladder(ladder(*STW), facts).level_code == "first-level-escalation"
    assert evaluate_ladder(ladder(*STW), {**facts, "risk_rating": "medium"}).level_code == "improvement-plan"


ASSURANCE_NOT_RECEIVED = [
    # period   facts                                                                      level                     forum   required action
    ("2025-04", dict(months_since_plan_without_improvement=6),                            "second-level-escalation", "SQPC", "system_qpc_review"),
    ("2025-05", dict(months_since_plan_without_improvement=7, qpc_assured=False),         "assurance-not-received",  "SQPC", "delivery_group_report_on_risks_and_mitigations"),
    ("2025-06", dict(months_since_plan_without_improvement=8, qpc_assured=False,
                     months_since_assurance_report_without_improvement=1),                "assurance-not-received",  "SQPC", None),
    ("2025-07", dict(months_since_plan_without_improvement=9, qpc_assured=False,
                     months_since_assurance_report_without_improvement=2),                "assurance-not-received",  "SQPC", None),
    ("2025-08", dict(months_since_plan_without_improvement=10, qpc_assured=False,
                     months_since_assurance_report_without_improvement=3),                "icb-escalation",          "ICB",  "icb_board_review"),
    ("2025-10", dict(months_since_plan_without_improvement=12, qpc_assured=False,
                     months_since_assurance_report_without_improvement=5),                "icb-escalation",          "ICB",  None),
    ("2025-11", dict(months_since_plan_without_improvement=13, qpc_assured=False,
                     months_since_assurance_report_without_improvement=6),                "nhse-oversight",          "NHSE", "nhse_tier_reporting"),
]


def test_system_qpc_not_assured_leads_through_the_delivery_group_report_to_the_icb_and_nhse(ladder, run_months, transitions_of) -> None:
    base = {**BASE, "accountability": "system", "months_under_target": 9, "improvement_plan_in_place": True}
    steps = run_months(ladder(*STW), base, ASSURANCE_NOT_RECEIVED)
    assert [kind for _, kind, _ in transitions_of(steps)] == ["opened", "escalated", "escalated", "escalated"]


def test_patient_safety_risk_takes_it_to_the_icb_without_waiting_three_months(ladder) -> None:
    facts = {**BASE, "months_under_target": 9, "improvement_plan_in_place": True, "months_since_plan_without_improvement": 7,
             "qpc_assured": False, "patient_safety_risk": True, "risk_rating": "high"}
    outcome = evaluate_ladder(ladder(*STW), facts)
    assert (outcome.level_code, outcome.forum) == ("icb-escalation", "ICB")
    assert outcome.parameters == {"qpc_assured ==": False, "patient_safety_risk ==": True, "risk_rating ==": "high"}


def test_unrecorded_qpc_verdict_never_counts_as_not_assured(ladder) -> None:
    facts = {key: value for key, value in BASE.items() if key != "qpc_assured"}
    outcome = evaluate_ladder(ladder(*STW), {**facts, "months_under_target": 9, "improvement_plan_in_place": True,
                                             "months_since_plan_without_improvement": 7})
    assert outcome.level_code == "second-level-escalation"
    assert "qpc_assured" in outcome.missing_facts


def test_explanation_names_the_rule_the_facts_and_the_forum(ladder) -> None:
    outcome = evaluate_ladder(ladder(*STW), {**BASE, "months_under_target": 2})
    assert outcome.fired is not None and outcome.fired.path == "levels[2].when"
    assert outcome.explanation().startswith("stw-performance-improvement: level 2 'Improvement plan required")
    assert "months_under_target >= 2 (is 2): held" in outcome.explanation()
    assert [(check.code, check.verdict) for check in outcome.checks][:3] == [
        ("monitor", True), ("improvement-plan", True), ("first-level-escalation", False)]
