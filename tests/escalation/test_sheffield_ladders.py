"""Sheffield CCG PMF 3: programme route PMO -> PMDG -> IPDB -> CET; provider route contract monitoring -> IPDB -> CMB."""
from __future__ import annotations

import pytest

from server.escalation import evaluate_ladder

PROGRAMME = ("sheffield-ccg.yaml", "sheffield-programme")
PROVIDER = ("sheffield-ccg.yaml", "sheffield-provider")

PROGRAMME_BASE = dict(milestones_overdue=0, qipp_shortfall_percent_ytd=0.0, high_risks=0, months_exception_unresolved=0, requires_cet_decision=False)

URGENT_CARE_QIPP = [
    # period   facts                                                                 level            forum   required action
    ("2016-01", {},                                                                  "on-track",      None,   None),
    ("2016-02", dict(qipp_shortfall_percent_ytd=0.08),                                "pmo-exception", "PMO",  "exception_report"),
    ("2016-03", dict(qipp_shortfall_percent_ytd=0.08, months_exception_unresolved=1), "pmdg",          "PMDG", "delivery_group_review"),
    ("2016-04", dict(milestones_overdue=1, months_exception_unresolved=2),           "ipdb",          "IPDB", "remedial_actions_recommended"),
    ("2016-05", dict(high_risks=1, months_exception_unresolved=3),                   "ipdb",          "IPDB", None),
    ("2016-06", dict(qipp_shortfall_percent_ytd=0.08, months_exception_unresolved=4), "cet",           "CET",  "cet_decision"),
    ("2016-07", {},                                                                  "on-track",      None,   None),
]


def test_programme_exception_climbs_pmo_pmdg_ipdb_cet(ladder, run_months, transitions_of) -> None:
    steps = run_months(ladder(*PROGRAMME), PROGRAMME_BASE, URGENT_CARE_QIPP, subject="03N-PROG-UEC")
    assert [kind for _, kind, _ in transitions_of(steps)] == ["opened", "escalated", "escalated", "escalated", "closed"]


def test_ipdb_may_refer_an_absolute_exception_to_cet_at_once(ladder) -> None:
    facts = {**PROGRAMME_BASE, "milestones_overdue": 1, "months_exception_unresolved": 2, "requires_cet_decision": True}
    assert evaluate_ladder(ladder(*PROGRAMME), facts).forum == "CET"


PROVIDER_BASE = dict(months_under_target=0, intelligence_concern=False, risk_rating="low", remedial_action_plan_agreed=True,
                     months_since_plan_without_improvement=0)

TEACHING_HOSPITALS_RTT = [
    # period   facts                                                              level                 forum      required action
    ("2016-01", dict(months_under_target=1),                                      "contract-monitoring", "CMM",     "remedial_actions"),
    ("2016-02", dict(months_under_target=2),                                      "ipdb",               "IPDB",    "triangulate_quality_contracting_finance_performance"),
    ("2016-03", dict(months_under_target=3),                                      "cmb",                "CMB-STH", "director_oversight_of_remedial_actions"),
    ("2016-04", dict(months_under_target=4, months_since_plan_without_improvement=1), "cmb",            "CMB-STH", None),
    ("2016-06", dict(months_under_target=6, months_since_plan_without_improvement=3), "performance-notice", "CMB-STH", "contract_performance_notice"),
]


def test_provider_concern_goes_through_ipdb_to_that_providers_contract_management_board(ladder, run_months) -> None:
    run_months(ladder(*PROVIDER), {**PROVIDER_BASE, "provider_code": "RHQ"}, TEACHING_HOSPITALS_RTT, subject="RHQ")


@pytest.mark.parametrize(("provider", "route", "board"), [("RHQ", "sth", "CMB-STH"), ("RCU", "sch", "CMB-SCH"), ("TAH", "shsc", "CMB-SHSC")])
def test_each_provider_has_its_own_contract_management_board(ladder, provider, route, board) -> None:
    outcome = evaluate_ladder(ladder(*PROVIDER), {**PROVIDER_BASE, "provider_code": provider, "months_under_target": 3})
    assert (outcome.level_code, outcome.route, outcome.forum) == ("cmb", route, board)


def test_triangulated_high_risk_intelligence_reaches_the_ipdb_without_a_missed_month(ladder) -> None:
    facts = {**PROVIDER_BASE, "provider_code": "TAH", "intelligence_concern": True, "risk_rating": "high"}
    assert evaluate_ladder(ladder(*PROVIDER), facts).forum == "IPDB"
