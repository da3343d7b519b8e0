"""WHSSC framework 6: contract tier sets SLA and exec-to-exec cadence; escalation adds meetings at its level."""
from __future__ import annotations

import pytest

from server.escalation import evaluate_ladder, required_cadence

ESCALATION = ("whssc.yaml", "whssc-service-escalation")


def contract_facts(tenant, provider: str) -> dict[str, object]:
    contract = next(c for c in tenant("whssc.yaml").contracts if c.provider == provider)
    return {"contract_value": contract.annual_value, "strategically_important": contract.strategically_important,
            "provider_code": contract.provider}


CONTRACT_TIERS = [
    # provider  (value, strategic) in whssc.yaml       meetings that follow
    ("7A4",     "245m, strategic",                     {"EXEC2EXEC": "annual", "SLA": "bi-monthly"}),    # 6.1
    ("REM",     "28m",                                 {"SLA": "twice-yearly"}),                         # 6.2
    ("RRK",     "22m",                                 {"SLA": "twice-yearly"}),                         # 6.2
    ("RET",     "9.5m, sole provider for North Wales", {"EXEC2EXEC": "annual", "SLA": "bi-monthly"}),    # 6.1 strategic
    ("RJE",     "6.5m",                                {"SLA": "annual"}),                               # 6.3
]


@pytest.mark.parametrize(("provider", "described", "meetings"), CONTRACT_TIERS)
def test_contract_tier_sets_meeting_cadence(tenant, provider, described, meetings) -> None:
    decisions = required_cadence(tenant("whssc.yaml").escalation.cadence_rules, contract_facts(tenant, provider))
    assert {d.forum: d.frequency for d in decisions} == meetings, described


@pytest.mark.parametrize(("value", "sla"), [
    (40_000_001, "bi-monthly"), (40_000_000, "twice-yearly"), (10_000_000, "twice-yearly"), (9_999_999, "annual"),
])
def test_tier_boundaries(tenant, value, sla) -> None:
    decisions = required_cadence(tenant("whssc.yaml").escalation.cadence_rules,
                                 {"contract_value": value, "strategically_important": False})
    assert {d.forum: d.frequency for d in decisions}["SLA"] == sla


BASE = dict(months_under_target=0, quality_concern=False, material_deviation=False,
            months_since_plan_without_improvement=0, patient_safety_risk=False, risk_rating="low")

LIVERPOOL_CARDIAC = [
    # period   facts                                                              level                   forum        required action
    ("2025-04", dict(months_under_target=1),                                      "routine",              "SLA",       None),
    ("2025-05", dict(months_under_target=2),                                      "enhanced-monitoring",  "ESCMEET",   "enhanced_monitoring"),
    ("2025-06", dict(months_under_target=3, material_deviation=True),             "formal-escalation",    "ESCMEET",   "report_concerns_to_qps"),
    ("2025-07", dict(months_under_target=4, material_deviation=True, months_since_plan_without_improvement=1),
                                                                                  "formal-escalation",    "ESCMEET",   None),
    ("2025-09", dict(months_under_target=6, material_deviation=True, months_since_plan_without_improvement=3),
                                                                                  "executive-escalation", "EXEC2EXEC", "exec_to_exec_meeting"),
    ("2025-12", dict(months_under_target=9, material_deviation=True, months_since_plan_without_improvement=6),
                                                                                  "joint-committee",      "JC",        "joint_committee_decision_on_alternative_provision"),
    ("2026-01", dict(months_under_target=0),                                      "routine",              "SLA",       None),
]
# Escalation performance meetings in line with the level (CHOICE: level 1 quarterly, level 2+ monthly),
# on top of the twice-yearly SLA meetings of a 28m contract.
ESCALATION_MEETINGS_BY_MONTH = [None, None, "quarterly", "monthly", "monthly", "monthly", "monthly"]


def test_service_in_escalation_meets_in_line_with_its_level(tenant, ladder, run_months, transitions_of) -> None:
    base = {**BASE, **contract_facts(tenant, "REM")}
    steps = run_months(ladder(*ESCALATION), base, LIVERPOOL_CARDIAC, subject="REM")
    assert [kind for _, kind, _ in transitions_of(steps)] == ["opened", "escalated", "escalated", "escalated", "closed"]
    rules = tenant("whssc.yaml").escalation.cadence_rules
    meetings = [{d.forum: d.frequency for d in required_cadence(rules, step.outcome.facts)} for step in steps]
    assert [m.get("ESCMEET") for m in meetings] == ESCALATION_MEETINGS_BY_MONTH
    assert all(m["SLA"] == "twice-yearly" for m in meetings)


def test_quality_concern_alone_starts_enhanced_monitoring(ladder) -> None:
    outcome = evaluate_ladder(ladder(*ESCALATION), {**BASE, "quality_concern": True})
    assert (outcome.level_code, outcome.forum, outcome.review_frequency) == ("enhanced-monitoring", "ESCMEET", "quarterly")


def test_deep_dives_and_reporting_follow_the_framework(tenant) -> None:
    whssc = tenant("whssc.yaml")
    assert {f.code: f.frequency for f in whssc.forums}["DEEPDIVE"] == "quarterly"
    assert [(r.audience, r.frequency) for r in whssc.reporting_schedule] == [
        ("Corporate Directors Group Board", "monthly"), ("Management Group", "monthly"), ("Joint Committee", "bi-monthly")]
