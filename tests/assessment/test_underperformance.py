"""Consecutive periods under performance (STW ladder: 1 month → monitor, 2 → plan)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.assessment import UnderTargetParameters, consecutive_periods_under_target
from server.assessment.reference import consecutive_periods_under_target as reference_count

NAN = math.nan

# (values, target, polarity, missing breaks run, expected count, why) — target 0.78, 4-hour A&E.
CASES = [
    ([0.80, 0.79, 0.80], 0.78, 1, True, 0, "meeting every month"),
    ([0.80, 0.79, 0.70], 0.78, 1, True, 1, "one month under"),
    ([0.70, 0.80, 0.70, 0.75], 0.78, 1, True, 2, "only the latest run counts"),
    ([0.70, 0.70, 0.70], 0.78, 1, True, 3, "every period failing"),
    ([0.70, 0.78], 0.78, 1, True, 0, "exactly on target meets it"),
    ([0.70, 0.70, NAN], 0.78, 1, True, 0, "a missing latest month ends the run by default"),
    ([0.70, 0.70, NAN], 0.78, 1, False, 2, "skipping missing months"),
    ([19.0, 20.0], 18.0, -1, True, 2, "lower is better: above target fails"),
    ([0.70, 0.70], NAN, 1, True, 0, "no target"),
    ([0.70, 0.70], 0.78, 0, True, 0, "neutral polarity"),
]


@pytest.mark.parametrize(("values", "target", "polarity", "breaks", "expected", "why"), CASES, ids=[c[-1] for c in CASES])
def test_consecutive_periods_under_target(values, target, polarity, breaks, expected, why):
    result = consecutive_periods_under_target(
        np.array([values]), np.array([target]), np.array([polarity]), UnderTargetParameters(missing_breaks_run=breaks)
    )
    assert result.periods_under_target.tolist() == [expected]


def test_targets_may_change_over_time_and_the_run_start_is_evidence():
    values = np.array([[0.90, 0.85, 0.85, 0.85]])
    targets = np.array([[0.78, 0.78, 0.92, 0.92]])  # a stretching target from period 2
    result = consecutive_periods_under_target(values, targets, np.array([1]))
    assert result.periods_under_target.tolist() == [2]
    assert result.explain(0)["run_starts_at"] == 2


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.integers(0, 10).map(float), st.just(NAN)), min_size=1, max_size=20),
    target=st.integers(0, 10).map(float),
    polarity=st.sampled_from([1, -1, 0]),
    breaks=st.booleans(),
)
def test_vectorised_count_equals_the_reference(values, target, polarity, breaks):
    result = consecutive_periods_under_target(
        np.array([values]), np.array([target]), np.array([polarity]), UnderTargetParameters(missing_breaks_run=breaks)
    )
    assert result.periods_under_target[0] == reference_count(values, target, polarity, breaks)
