"""THGPCG PMF 13: exception-report triggers, then graduated interventions up to the Board's decision."""
from __future__ import annotations

import pytest

from server.escalation import evaluate_ladder

EXCEPTION = ("thgpcg.yaml", "thgpcg-exception")

QUIET = dict(target_missed=False, national_target_at_risk=False, quality_monitoring_at_risk=False, masked_failure=False,
             in_integrated_performance_report=True, plan_robust=True, months_since_plan_without_improvement=0,
             sustainability_in_question=False)

TRIGGERS = [
    # the one trigger present                       level               action required
    ({},                                            "compliant",        None),
    (dict(target_missed=True),                      "exception-report", "action_plan_with_operational_leads_and_completion_dates"),
    (dict(national_target_at_risk=True),            "exception-report", "exception_report"),
    (dict(quality_monitoring_at_risk=True),         "exception-report", "exception_report"),
    # "An area of failing performance masked by an overall compliant position": the aggregate passes
    (dict(masked_failure=True),                     "exception-report", "exception_report"),
]


@pytest.mark.parametrize(("trigger", "level", "action"), TRIGGERS)
def test_each_pmf_13_trigger_requires_an_exception_report_monitored_at_the_opg(ladder, trigger, level, action) -> None:
    outcome = evaluate_ladder(ladder(*EXCEPTION), {**QUIET, **trigger})
    assert outcome.level_code == level
    if action:
        assert outcome.forum == "OPG" and action in outcome.requires


def test_board_is_told_immediately_when_the_target_is_not_in_the_ipr(ladder) -> None:
    in_ipr = evaluate_ladder(ladder(*EXCEPTION), {**QUIET, "masked_failure": True})
    not_in_ipr = evaluate_ladder(ladder(*EXCEPTION), {**QUIET, "masked_failure": True, "in_integrated_performance_report": False})
    assert (in_ipr.route, not_in_ipr.route) == ("in-ipr", "not-in-ipr")
    assert "highlight_to_board_in_integrated_performance_report" in in_ipr.requires
    assert "inform_board_immediately_by_exception_report" in not_in_ipr.requires


GRADUATED_INTERVENTIONS = [
    # period   facts                                                                 level                    forum    required action
    ("2025-04", dict(target_missed=True),                                            "exception-report",      "OPG",   "exception_report"),
    ("2025-05", dict(target_missed=True, plan_robust=False),                         "targeted-support",      "OPG",   "targeted_support"),
    ("2025-06", dict(target_missed=True, months_since_plan_without_improvement=2),   "targeted-support",      "OPG",   None),
    ("2025-07", dict(target_missed=True, months_since_plan_without_improvement=3),   "director-intervention", "SMT",   "director_intervention"),
    ("2025-08", dict(target_missed=True, months_since_plan_without_improvement=4),   "benchmarking",          "OPG",   "benchmark_against_comparators"),
    ("2025-10", dict(target_missed=True, months_since_plan_without_improvement=6),   "capability",            "SMT",   "capability_policy"),
    ("2026-01", dict(target_missed=True, months_since_plan_without_improvement=9),   "change-of-management",  "SMT",   "change_of_management"),
    ("2026-04", dict(target_missed=True, months_since_plan_without_improvement=12),  "change-of-management",  "SMT",   None),
    ("2026-05", dict(target_missed=True, months_since_plan_without_improvement=13, sustainability_in_question=True),
                                                                                     "board-decision",        "BOARD", "board_decision_continue_or_give_notice_to_commissioners"),
]


def test_plan_not_robust_or_not_improving_brings_graduated_interventions(ladder, run_months, transitions_of) -> None:
    steps = run_months(ladder(*EXCEPTION), QUIET, GRADUATED_INTERVENTIONS, subject="NL4-CYP/HV12M")
    assert [level for _, _, level in transitions_of(steps)] == [1, 2, 3, 4, 5, 6, 7]


def test_recovered_service_closes_its_exception(ladder, run_months, transitions_of) -> None:
    rows = [
        ("2025-04", dict(target_missed=True), "exception-report", "OPG", None),
        ("2025-05", dict(target_missed=False, months_since_plan_without_improvement=0), "compliant", None, None),
    ]
    assert [kind for _, kind, _ in transitions_of(run_months(ladder(*EXCEPTION), QUIET, rows))] == ["opened", "closed"]
