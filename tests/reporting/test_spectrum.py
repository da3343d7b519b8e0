"""An organisation's place on the performance spectrum, from its tenant's rules or the defaults."""
from __future__ import annotations

import datetime as dt

from server.reporting.spectrum import SpectrumInput, rate_spectrum
from server.reporting.status import IndicatorStatus
from server.tenants.parse import parse_tenant_file
from server.settings import PROJECT_ROOT


def indicator(domain: str, value: float, target: float, *, key: bool = True, variation: str = "common_cause") -> SpectrumInput:
    status = IndicatorStatus(period=dt.date(2026, 10, 1), value=value, target=target, trajectory=None, rag="none", variation=variation,
                             variation_direction=None, assurance="none", periods_under_target=0, failure_forecast=False, masked_failure=False)
    return SpectrumInput(domain=domain, is_key=key, polarity="higher_is_better", status=status)


def stw_rules() -> list:
    tenant = parse_tenant_file(PROJECT_ROOT / "tenants" / "stw.yaml")
    return [threshold.model_dump(mode="json", by_alias=True, exclude_none=True) for threshold in tenant.assessment.spectrum]


def test_tenant_rules_rate_three_missed_key_targets_across_two_domains_unacceptable():
    indicators = [indicator("Finance", 0.5, 0.9), indicator("Finance", 0.5, 0.9), indicator("Quality", 0.5, 0.9), indicator("Quality", 0.95, 0.9)]
    view = rate_spectrum(indicators, stw_rules())
    assert view.level == "unacceptable" and view.words == "Unacceptable"
    assert view.reason == "3 key targets missed across 2 domains (Finance, Quality)"
    assert view.rule_source == "the organisation's own spectrum rules"
    assert any("kpi_targets_missed >= 3" in line for line in view.rule_detail)


def test_tenant_rules_rate_no_missed_target_good_while_continued_improvement_is_not_recorded():
    view = rate_spectrum([indicator("Finance", 0.95, 0.9), indicator("Quality", 0.99, 0.9)], stw_rules())
    # STW "outstanding" also needs continued improvement, which nobody records yet: unknown, not true.
    assert view.level == "good"


def test_non_key_misses_do_not_count():
    view = rate_spectrum([indicator("Finance", 0.5, 0.9, key=False), indicator("Quality", 0.95, 0.9)], stw_rules())
    assert view.level == "good" and view.facts.kpi_targets_missed == 0


def test_without_tenant_rules_the_engine_defaults_apply():
    view = rate_spectrum([indicator("Finance", 0.5, 0.9), indicator("Quality", 0.95, 0.9)], None)
    assert view.level == "requires_improvement"
    assert view.rule_source == "Accord's default spectrum thresholds"
    improving = rate_spectrum([indicator("Finance", 0.95, 0.9), indicator("Quality", 0.8, 0.7, variation="special_cause_improving")], None)
    assert improving.level == "outstanding"


def test_no_data_is_not_rated_as_failing():
    view = rate_spectrum([SpectrumInput(domain="Finance", is_key=True, polarity="higher_is_better", status=None)], None)
    assert view.facts.kpi_targets_missed == 0 and view.reason == "No assessed indicators yet"
