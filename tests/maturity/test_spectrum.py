"""The STW performance spectrum reaches "outstanding" (all KPI targets exceeded and continued
improvement, read from SPC verdicts), and a tenant's rule may also ask for a self-assessed maturity."""
from __future__ import annotations

from tests.reporting.test_spectrum import indicator, stw_rules

from server.reporting.spectrum import rate_spectrum

IMPROVING, CONCERNING = "special_cause_improving", "special_cause_concerning"


def test_every_target_exceeded_with_special_cause_improvement_is_outstanding():
    view = rate_spectrum([indicator("Finance", 0.95, 0.9, variation=IMPROVING), indicator("Quality", 0.99, 0.9)], stw_rules())
    assert view.level == "outstanding" and view.words == "Outstanding"
    assert any("continued_improvement" in line for line in view.rule_detail)


def test_concern_on_a_key_indicator_is_not_continued_improvement():
    view = rate_spectrum([indicator("Finance", 0.95, 0.9, variation=IMPROVING), indicator("Quality", 0.99, 0.9, variation=CONCERNING)],
                         stw_rules())
    assert view.level == "good"
    # A non-key indicator's concern does not outweigh improvement across the KPIs.
    view = rate_spectrum([indicator("Finance", 0.95, 0.9, variation=IMPROVING), indicator("Quality", 0.99, 0.9, key=False, variation=CONCERNING)],
                         stw_rules())
    assert view.level == "outstanding"


def test_improvement_with_a_missed_target_is_not_outstanding():
    view = rate_spectrum([indicator("Finance", 0.85, 0.9, variation=IMPROVING), indicator("Quality", 0.99, 0.9)], stw_rules())
    assert view.level == "requires_improvement"


def test_a_tenant_may_ask_for_a_self_assessed_maturity_before_outstanding():
    rules = [{"rating": "outstanding", "when": {"all": [{"fact": "all_targets_exceeded", "value": True},
                                                        {"fact": "maturity_level", "op": ">=", "value": 4}]}},
             {"rating": "good", "when": {"fact": "kpi_targets_missed", "value": 0}}]
    exceeding = [indicator("Finance", 0.95, 0.9), indicator("Quality", 0.99, 0.9)]
    assert rate_spectrum(exceeding, rules).level == "good"  # no assessment recorded: unknown, not true
    assert rate_spectrum(exceeding, rules, maturity_level=3).level == "good"
    assert rate_spectrum(exceeding, rules, maturity_level=4).level == "outstanding"
