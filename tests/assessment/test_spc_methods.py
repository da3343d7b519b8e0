"""The two SPC methods a tenant can choose, their settings, and the evidence naming them."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from server.assessment import SpcParameters, compute_spc
from server.assessment.params import LIMIT_MULTIPLIER
from server.assessment_store.recompute import engine_parameters
from server.tenants.spec import AssessmentSpec

NAN = math.nan
STABLE = [2.0, 0.0] * 6 + [1.0]  # 13 points: mean 1, mean moving range 1.8461538461538463


def test_default_method_is_nhsrplotthedots_with_no_departures():
    parameters = SpcParameters()
    assert parameters.method == "nhsrplotthedots" and parameters.departures() == {}
    assert SpcParameters.for_method("nhsrplotthedots") == parameters


def test_mdc_tools_changes_only_the_documented_differences():
    mdc = SpcParameters.for_method("mdc_tools")
    differs = {name for name, value in vars(mdc).items() if getattr(SpcParameters(), name) != value}
    assert differs == {
        "method", "screen_moving_ranges", "two_in_three_counts_beyond_limits", "below_minimum", "conflicting_signals",
        "assurance_inclusive_limits",
    }
    assert mdc.departures() == {}


def test_a_setting_given_overrides_the_method_and_is_named_a_departure():
    parameters = SpcParameters.for_method("mdc_tools", run_length=6, screen_moving_ranges=None)
    assert parameters.run_length == 6 and parameters.screen_moving_ranges is False
    assert parameters.departures() == {"run_length": 6}


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        SpcParameters.for_method("excel")


# ---- mdc_tools behaviour ---------------------------------------------------------------------
def mdc(values, polarity=1, target=NAN, **settings):
    return compute_spc(np.array([values], dtype=float), [polarity], [target], parameters=SpcParameters.for_method("mdc_tools", **settings))


def test_mdc_tools_shows_no_limits_or_icons_below_thirteen_points():
    batch = mdc([2.0, 0.0] * 6, target=-10)
    assert np.isnan(batch.limits.upper).all()
    assert batch.variation_words() == ["none"] and batch.assurance_words() == ["none"]
    assert not np.isnan(mdc(STABLE).limits.upper).any()


def test_mdc_tools_does_not_screen_moving_ranges():
    segment = mdc(STABLE[:-1] + [1.0, 30.0]).explain(0)["segments"][0]
    assert segment["excluded_moving_ranges_at"] == []


def test_mdc_tools_counts_a_point_beyond_the_limit_towards_two_in_three():
    batch = mdc(STABLE + [5.0, 7.0, 1.5], fix_after_points=13)
    assert batch.two_in_three[0, 13:].tolist() == [True, True, False]


def test_mdc_tools_shows_improvement_when_a_point_is_flagged_both_ways():
    # Seven falling points above the mean: each is in a falling trend (concern for higher is
    # better) and in a shift above the mean (improvement). R's precedence picks the trend.
    values = STABLE + [6.0, 5.5, 5.0, 4.5, 4.0, 3.5, 3.0]
    precedence = compute_spc(np.array([values]), [1], parameters=SpcParameters(fix_after_points=13))
    assert precedence.variation_words() == ["special_cause_concerning"]
    assert mdc(values, fix_after_points=13).variation_words() == ["special_cause_improving"]


def test_mdc_tools_counts_a_target_on_a_limit_as_consistent():
    upper = 1 + LIMIT_MULTIPLIER * 2
    values = [2.0, 0.0] * 7
    assert compute_spc(np.array([values]), [1], [upper]).assurance_words() == ["hit_and_miss"]
    assert mdc(values, target=upper, screen_moving_ranges=True).assurance_words() == ["consistently_fail"]


# ---- from the tenant file to the engine --------------------------------------------------------
def test_tenant_file_picks_the_method_and_overrides_single_settings():
    spec = AssessmentSpec.model_validate({"spc": {"method": "mdc_tools", "run_length": 6, "trend_length": 6}})
    spc, _ = engine_parameters(spec)
    assert spc.method == "mdc_tools" and spc.below_minimum == "not_shown"
    assert spc.departures() == {"run_length": 6, "trend_length": 6}


def test_tenant_file_without_spc_settings_gives_r_defaults():
    spc, _ = engine_parameters(AssessmentSpec())
    assert spc == SpcParameters()


@pytest.mark.parametrize("bad", [{"method": "excel"}, {"points_counted": "all"}, {"run_length": 4}, {"fix_after_points": 11}])
def test_tenant_file_refuses_unknown_methods_and_settings(bad):
    with pytest.raises(ValueError):
        AssessmentSpec.model_validate({"spc": bad})


# ---- evidence ----------------------------------------------------------------------------------
def test_evidence_names_the_method_and_its_departures_in_words():
    parameters = SpcParameters.for_method("nhsrplotthedots", run_length=6)
    evidence = json.loads(json.dumps(compute_spc(np.array([STABLE]), [1], parameters=parameters).explain(0), allow_nan=False))
    assert evidence["method"]["name"] == "nhsrplotthedots"
    assert evidence["method"]["departures"] == {"run_length": 6}
    assert evidence["method"]["summary"] == (
        "Method: NHSRplotthedots 0.2.x (the NHS-R R package), except that a shift is 6 points in a row on one side of the mean."
    )
    assert evidence["rule_set"]["parameters"]["method"] == "nhsrplotthedots"
    assert evidence["rule_set"]["departures_from_method"] == {"run_length": 6}
    assert "nhsrplotthedots" in evidence["variation"]["reason"]


def test_evidence_describes_every_setting():
    method = compute_spc(np.array([STABLE]), [1]).explain(0)["method"]
    assert method["summary"] == "Method: NHSRplotthedots 0.2.x (the NHS-R R package)."
    assert set(method["settings"]) == set(vars(SpcParameters())) - {"method"}
