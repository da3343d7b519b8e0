"""Every seed ladder reaches its last level through data, judgements and time — and the judgement is
what takes it there: without it the same data stop lower. These are the walk-throughs of issue 11, one
per seed, run against the tenant files themselves (the facts are those the store and the judgement
service supply; the clocks are the months a tick counts)."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.escalation import evaluate_ladder
from server.judgements.kinds import tenant_fact_registry
from server.tenants.load import validate_tenants

TENANTS = validate_tenants(Path(__file__).resolve().parents[2] / "tenants")

FAILING_SERIES = dict(target_missed=True, months_under_target=12, periods_under_target=12, failure_forecast_next_quarter=True,
                      improvement_plan_in_place=True, accountability="system", current_level=0, months_in_level=0)

# tenant, ladder, data facts, judgement facts (with the clock months a tick counted), the level reached, the level without the judgements
WALKTHROUGHS = [
    # STW SAPF: six months on a plan without improvement (data) -> 2nd level; System QPC not assured
    # (judgement) -> step 5; three months on (tick) -> ICB; six months on -> NHS England.
    ("STW", "stw-performance-improvement", {**FAILING_SERIES, "months_since_plan_without_improvement": 6},
     {"qpc_assured": False, "months_since_assurance_report_without_improvement": 6}, "nhse-oversight", "second-level-escalation"),
    # SaTH (RJAH, SCHT alike): a high risk brings executive escalation after one month without improvement.
    ("RXW", "sath-performance-improvement", {**FAILING_SERIES, "accountability": "sole", "months_since_plan_without_improvement": 1},
     {"risk_rating": "high"}, "exec-escalation", "improvement-plan"),
    ("RL1", "rjah-performance-improvement", {**FAILING_SERIES, "accountability": "sole", "months_since_plan_without_improvement": 1},
     {"risk_rating": "high"}, "exec-escalation", "improvement-plan"),
    ("R1D", "scht-performance-improvement", {**FAILING_SERIES, "accountability": "sole", "months_since_plan_without_improvement": 1},
     {"risk_rating": "high"}, "exec-escalation", "improvement-plan"),
    ("QOC", "icb-performance-improvement", {**FAILING_SERIES, "accountability": "sole", "months_since_plan_without_improvement": 1},
     {"risk_rating": "high"}, "exec-escalation", "improvement-plan"),
    # ULHT 4: the Executive Team places the division in special measures.
    ("RWD", "ulht-divisional", dict(failed_criteria=3, critical_failure=False, recovery_plan_in_place=True, months_sustained=0,
                                     periods_sustained=0, current_level=2, months_in_level=1),
     {"executive_team_decision": "special_measures"}, "special-measures", "serious-failure"),
    # WHSSC 8.2: CDG judges the deviation material; with a high patient-safety risk, the Joint Committee.
    ("WHSSC", "whssc-service-escalation", dict(months_under_target=2, periods_under_target=2, target_missed=True,
                                                months_since_plan_without_improvement=0, current_level=1, months_in_level=1),
     {"material_deviation": True, "patient_safety_risk": True, "risk_rating": "high"}, "joint-committee", "enhanced-monitoring"),
    # WHSSC 8.2: a dashboard measure off target whose deviation the CDG judges material goes to the Management Group.
    ("WHSSC", "whssc-dashboard", dict(months_under_target=2, periods_under_target=2, target_missed=True, current_level=1, months_in_level=0),
     {"material_deviation": True}, "management-group", "cdg-exception"),
    # Sheffield 3.2.1: a programme exception the IPDB refers as an absolute exception goes to CET.
    ("03N", "sheffield-programme", dict(milestones_overdue=1, qipp_shortfall_percent_ytd=0.0, high_risks=0, months_exception_unresolved=2,
                                         current_level=3, months_in_level=0), {"requires_cet_decision": True}, "cet", "ipdb"),
    # Sheffield 3.2: triangulated intelligence assessed high risk reaches the IPDB without waiting for data.
    ("03N", "sheffield-provider", dict(months_under_target=0, periods_under_target=0, target_missed=False, current_level=0, months_in_level=0),
     {"intelligence_concern": True, "risk_rating": "high"}, "ipdb", "routine"),
    # THGPCG 13: after every measure, sustainability in question -> the Board, which gives notice.
    ("NL4", "thgpcg-exception", {**FAILING_SERIES, "months_since_plan_without_improvement": 12, "national_target_at_risk": True,
                                 "masked_failure": False},
     {"sustainability_in_question": True, "board_service_decision": "give_notice"}, "notice-given", "change-of-management"),
    # The ICB's provider contracts: a remedial action plan not agreed after four months is breached.
    ("QOC", "icb-provider-contract", dict(months_under_target=4, periods_under_target=4, target_missed=True, failure_forecast_next_quarter=True,
                                          months_since_plan_without_improvement=0, current_level=0, months_in_level=0),
     {"remedial_action_plan_agreed": False}, "remedial-plan-breached", "remedial-action-plan"),
]


@pytest.mark.parametrize(("tenant", "ladder_code", "data", "judged", "reached", "without"), WALKTHROUGHS,
                         ids=[f"{t}-{ladder}" for t, ladder, *_ in WALKTHROUGHS])
def test_the_judgement_takes_the_ladder_to_its_step(tenant, ladder_code, data, judged, reached, without):
    framework = TENANTS[tenant]
    ladder = next(l for l in framework.escalation.ladders if l.code == ladder_code)
    known = tenant_fact_registry(framework)
    assert set(judged) <= set(framework.judgements) | {k.clock.fact for k in framework.judgements.values() if k.clock}
    with_judgement = evaluate_ladder(ladder, {**data, **judged}, known=known)
    without_judgement = evaluate_ladder(ladder, data, known=known)
    assert (with_judgement.level_code, without_judgement.level_code) == (reached, without)
    assert not set(judged) & set(with_judgement.missing_facts)


def test_every_seed_escalation_ladder_has_a_walkthrough_to_a_judged_step():
    walked = {(tenant, ladder) for tenant, ladder, *_ in WALKTHROUGHS}
    waiting = {(code, ladder.code) for code, tenant in TENANTS.items() for ladder in tenant.escalation.ladders
               if ladder.purpose == "escalation" and tenant.judgements}
    assert waiting - walked == set(), "a ladder whose tenant declares judgements has no walk-through here"
