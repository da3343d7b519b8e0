"""The STW SAPF steps inside each member's own PMF (section 2 matrix), the ICB's contract route, and the spectrum."""
from __future__ import annotations

import pytest

from server.escalation import evaluate_ladder, rate_on_spectrum

MEMBERS = [
    # file            ladder                           delivery  escalation  assurance  oversight
    ("sath.yaml",     "sath-performance-improvement",  "DPRM",   "EXEC",     "PAC",     "BOARD"),
    ("rjah.yaml",     "rjah-performance-improvement",  "DPM",    "EXEC",     "FPC",     "BOARD"),
    ("scht.yaml",     "scht-performance-improvement",  "DPM",    "EXEC",     "RPC",     "BOARD"),
]
BASE = dict(months_under_target=0, failure_forecast_next_quarter=False, improvement_plan_in_place=False,
            months_since_plan_without_improvement=0, accountability="sole", risk_rating="low")


@pytest.mark.parametrize(("file_name", "code", "delivery", "escalation", "assurance", "oversight"), MEMBERS)
def test_member_trust_escalates_through_its_own_matrix_row(ladder, run_months, file_name, code, delivery, escalation, assurance, oversight) -> None:
    with_plan = dict(improvement_plan_in_place=True)
    rows = [
        ("2025-04", dict(months_under_target=1),                                                  "monitor",             delivery,   "monitor"),
        ("2025-05", dict(months_under_target=2),                                                  "improvement-plan",    delivery,   "recovery_trajectory"),
        ("2025-08", dict(months_under_target=5, months_since_plan_without_improvement=3, **with_plan), "exec-escalation", escalation, None),
        ("2025-11", dict(months_under_target=8, months_since_plan_without_improvement=6, **with_plan), "committee-assurance", assurance, None),
        ("2026-02", dict(months_under_target=11, months_since_plan_without_improvement=9, **with_plan), "board-oversight", oversight, None),
    ]
    run_months(ladder(file_name, code), BASE, rows)


@pytest.mark.parametrize(("file_name", "code"), [(row[0], row[1]) for row in MEMBERS])
def test_member_that_cannot_recover_alone_raises_it_via_the_programme_delivery_group(ladder, file_name, code) -> None:
    outcome = evaluate_ladder(ladder(file_name, code), {**BASE, "months_under_target": 2, "accountability": "joint"})
    assert outcome.route == "cannot-recover-alone"
    assert "raise_via_programme_delivery_group" in outcome.requires


ICB_CONTRACT_BASE = dict(months_under_target=0, failure_forecast_next_quarter=False, remedial_action_plan_agreed=True,
                         months_since_plan_without_improvement=0)
SATH_CONTRACT = [
    # period   facts                                                               level                          forum  required action
    ("2025-04", dict(months_under_target=1),                                       "under-review",                "CRM", "provider_exception_report"),
    ("2025-05", dict(months_under_target=2),                                       "contract-performance-notice", "CRM", "contract_performance_notice"),
    ("2025-06", dict(months_under_target=3),                                       "remedial-action-plan",        "CRM", "remedial_action_plan"),
    ("2025-09", dict(months_under_target=6, months_since_plan_without_improvement=3), "remedial-plan-breached",   "EXEC", None),
    ("2025-12", dict(months_under_target=9, months_since_plan_without_improvement=6), "qpc-escalation",           "QPC", "assurance_committee_review"),
]


def test_icb_contract_review_route_for_a_member_trust(ladder, run_months) -> None:
    run_months(ladder("stw-icb.yaml", "icb-provider-contract"), {**ICB_CONTRACT_BASE, "provider_code": "RXW"}, SATH_CONTRACT)


SPECTRUM = [
    # kpi targets missed, domains, requirement breached, improvement targets missed, all exceeded, improving -> rating
    (0, 0, False, False, True,  True,  "outstanding"),
    (0, 0, False, False, False, True,  "good"),
    (1, 1, False, False, False, False, "requires_improvement"),
    (0, 0, False, True,  False, False, "requires_improvement"),
    (2, 2, False, False, False, False, "requires_improvement"),
    (3, 2, False, False, False, False, "unacceptable"),
    (0, 0, True,  False, False, False, "unacceptable"),
]


@pytest.mark.parametrize("file_name", ["stw.yaml", "stw-icb.yaml", "sath.yaml", "rjah.yaml", "scht.yaml"])
@pytest.mark.parametrize(("missed", "domains", "breached", "improvement_missed", "exceeded", "improving", "rating"), SPECTRUM)
def test_performance_spectrum(tenant, file_name, missed, domains, breached, improvement_missed, exceeded, improving, rating) -> None:
    facts = dict(kpi_targets_missed=missed, domains_with_missed_targets=domains, requirements_breached=breached,
                 improvement_targets_missed=improvement_missed, all_targets_exceeded=exceeded, continued_improvement=improving)
    result = rate_on_spectrum(tenant(file_name).assessment.spectrum, facts)
    assert result is not None and result.rating == rating
