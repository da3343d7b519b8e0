"""Improvement since an improvement plan started (STW ladder step 3)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from server.assessment import ImprovementParameters, SpcParameters, compute_spc, improvement_since_plan

NAN = math.nan
PARAMETERS = ImprovementParameters(baseline_periods=3, sustained_periods=3, use_spc_signal=False)

# Plan starts at period 3; baseline = mean of periods 0-2 = 0.70 (higher is better).
# (values, polarity, plan start, expected status, why)
CASES = [
    ([0.70, 0.72, 0.68, 0.71, 0.73, 0.75], 1, 3, "improved", "three periods since the start all above 0.70"),
    ([0.70, 0.72, 0.68, 0.71, 0.69, 0.75], 1, 3, "not_improved", "one of the three is below the baseline"),
    ([0.70, 0.72, 0.68, 0.71, 0.70, 0.75], 1, 3, "not_improved", "equal to the baseline is not better"),
    ([0.70, 0.72, 0.68, 0.71, NAN, 0.75], 1, 3, "not_improved", "a missing period breaks 'sustained'"),
    ([0.70, 0.72, 0.68, 0.71, 0.75], 1, 3, "too_early", "only two periods since the start"),
    ([0.70, 0.72, 0.68, 0.67, 0.66, 0.65], -1, 3, "improved", "lower is better: below the baseline"),
    ([NAN, NAN, NAN, 0.71, 0.73, 0.75], 1, 3, "no_baseline", "nothing observed before the start"),
    ([0.70, 0.72, 0.68, 0.71, 0.73, 0.75], 1, -1, "no_plan", "no plan"),
    ([0.70, 0.72, 0.68, 0.71, 0.73, 0.75], 0, 3, "not_applicable", "neutral polarity"),
]


@pytest.mark.parametrize(("values", "polarity", "start", "expected", "why"), CASES, ids=[c[-1] for c in CASES])
def test_sustained_improvement_against_the_plan_baseline(values, polarity, start, expected, why):
    result = improvement_since_plan(np.array([values]), np.array([polarity]), np.array([start]), parameters=PARAMETERS)
    assert result.explain(0)["status"] == expected


def test_baseline_is_the_last_k_observed_periods_before_the_start():
    values = np.array([[0.10, 0.70, NAN, 0.72, 0.68, 0.80, 0.80, 0.80]])
    result = improvement_since_plan(values, np.array([1]), np.array([5]), parameters=PARAMETERS)
    evidence = json.loads(json.dumps(result.explain(0), allow_nan=False))
    assert evidence["baseline_periods"] == [1, 3, 4]
    assert evidence["baseline_mean"] == pytest.approx(0.70)


STABLE = [2.0, 0.0] * 6  # mean 1


def test_special_cause_improvement_after_the_start_counts_as_improvement():
    values = np.array([STABLE + [1.5] * 7])  # a shift above the mean from period 12
    spc = compute_spc(values, [1], parameters=SpcParameters(fix_after_points=12))
    result = improvement_since_plan(values, np.array([1]), np.array([14]), spc=spc, parameters=ImprovementParameters(baseline_periods=3))
    evidence = result.explain(0)
    assert evidence["status"] == "improved" and evidence["criterion"] == "spc_signal"
    assert evidence["last_improvement_signal"] == 18


def test_a_concern_after_the_last_improvement_signal_cancels_it():
    values = np.array([STABLE + [1.5] * 7 + [-6.0]])  # then a point below the lower limit
    spc = compute_spc(values, [1], parameters=SpcParameters(fix_after_points=12))
    result = improvement_since_plan(values, np.array([1]), np.array([14]), spc=spc)
    assert result.explain(0)["status"] == "not_improved"
