"""Properties of the SPC engine, checked on generated series (hypothesis).

Values are multiples of 1/4 so that sums are exact in floating point: the properties are about
the rules, not about rounding.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from server.assessment import SpcParameters, codes, compute_spc, rebase_mask
from server.assessment.reference import spc_series

NAN = math.nan
quarter_values = st.one_of(st.integers(-40, 40).map(lambda n: n / 4), st.just(NAN))
series = st.lists(quarter_values, min_size=1, max_size=40)
parameters = st.builds(
    SpcParameters,
    method=st.sampled_from(["nhsrplotthedots", "mdc_tools"]),
    run_length=st.integers(2, 9),
    trend_length=st.integers(2, 9),
    screen_moving_ranges=st.booleans(),
    two_in_three=st.booleans(),
    two_in_three_counts_beyond_limits=st.booleans(),
    fix_after_points=st.one_of(st.none(), st.integers(2, 20)),
    minimum_points=st.integers(2, 15),
    points_counted=st.sampled_from(["rows", "observed"]),
    below_minimum=st.sampled_from(["trial_limits", "not_shown"]),
    constant_baseline=st.sampled_from(["no_limits", "limits_on_mean"]),
    without_limits=st.sampled_from(["runs_only", "not_assessed"]),
    trend_direction=st.sampled_from(["right_side", "own_trend"]),
    variation_from=st.sampled_from(["last_row", "latest_observed"]),
    conflicting_signals=st.sampled_from(["rule_precedence", "improvement_wins"]),
    assurance_inclusive_limits=st.booleans(),
)
targets = st.one_of(st.just(NAN), st.integers(-12, 12).map(lambda n: n / 2))


@settings(max_examples=300, deadline=None)
@given(values=series, polarity=st.sampled_from([1, -1, 0]), target=targets, spc_parameters=parameters, data=st.data())
def test_vectorised_engine_equals_the_reference_implementation(values, polarity, target, spc_parameters, data):
    rebase_periods = data.draw(st.lists(st.integers(1, max(1, len(values) - 1)), max_size=3, unique=True)) if len(values) > 1 else []
    batch = compute_spc(
        np.array([values]), [polarity], [target], rebase=rebase_mask(1, len(values), {0: rebase_periods}), parameters=spc_parameters
    )
    reference = spc_series(values, polarity, target, tuple(rebase_periods), spc_parameters)

    assert codes.labels(batch.point_type[0], codes.POINT_TYPES) == reference.point_type
    for rule in ("astronomical", "trend", "two_in_three", "shift"):
        assert getattr(batch, rule)[0].tolist() == getattr(reference, rule), rule
    np.testing.assert_array_equal(batch.limits.mean[0], reference.mean)
    np.testing.assert_array_equal(batch.limits.lower[0], reference.lower)
    np.testing.assert_array_equal(batch.limits.upper[0], reference.upper)
    assert batch.variation_words() == [reference.variation]
    assert batch.assurance_words() == [reference.assurance]


def test_vectorised_engine_equals_the_reference_on_many_random_normal_series_at_once():
    rng = np.random.default_rng(7)
    values = rng.normal(50, 5, size=(300, 36)) + rng.normal(0, 0.3, size=(300, 1)) * np.arange(36)  # noise plus drift
    values[rng.random(values.shape) < 0.05] = NAN
    polarity = rng.choice([1, -1, 0], size=300)
    target = rng.normal(50, 10, size=300)
    batch = compute_spc(values, polarity, target)
    for s in range(300):
        reference = spc_series(values[s].tolist(), int(polarity[s]), float(target[s]))
        assert codes.labels(batch.point_type[s], codes.POINT_TYPES) == reference.point_type
        assert batch.variation_words()[s] == reference.variation
        assert batch.assurance_words()[s] == reference.assurance


@settings(max_examples=200, deadline=None)
@given(values=series, polarity=st.sampled_from([1, -1, 0]), constant=st.integers(-1000, 1000), spc_parameters=parameters)
def test_adding_a_constant_moves_the_limits_by_it_and_changes_no_signal(values, polarity, constant, spc_parameters):
    before = compute_spc(np.array([values]), [polarity], parameters=spc_parameters)
    after = compute_spc(np.array([values]) + constant, [polarity], parameters=spc_parameters)
    for limit in ("mean", "lower", "upper", "lower_two_sigma", "upper_two_sigma"):
        np.testing.assert_allclose(getattr(after.limits, limit), getattr(before.limits, limit) + constant, atol=1e-9)
    for rule in ("astronomical", "trend", "two_in_three", "shift", "point_type", "rule"):
        np.testing.assert_array_equal(getattr(after, rule), getattr(before, rule))
    np.testing.assert_array_equal(after.variation, before.variation)


SWAPPED_POINT = {codes.IMPROVEMENT: codes.CONCERN, codes.CONCERN: codes.IMPROVEMENT}
SWAPPED_VARIATION = {1: 2, 2: 1}
SWAPPED_ASSURANCE = {codes.CONSISTENTLY_PASS: codes.CONSISTENTLY_FAIL, codes.CONSISTENTLY_FAIL: codes.CONSISTENTLY_PASS}


@settings(max_examples=200, deadline=None)
@given(values=series, target=targets, spc_parameters=parameters)
def test_reversing_polarity_swaps_improvement_and_concern_and_pass_and_fail(values, target, spc_parameters):
    if spc_parameters.conflicting_signals == "improvement_wins":
        # Not symmetric by design: a point flagged both ways shows improvement under either polarity.
        spc_parameters = SpcParameters(**{**spc_parameters.describe()["parameters"], "conflicting_signals": "rule_precedence"})
    higher = compute_spc(np.array([values]), [1], [target], parameters=spc_parameters)
    lower = compute_spc(np.array([values]), [-1], [target], parameters=spc_parameters)
    swapped = np.vectorize(lambda code: SWAPPED_POINT.get(code, code))(higher.point_type)
    np.testing.assert_array_equal(lower.point_type, swapped)
    assert lower.variation[0] == SWAPPED_VARIATION.get(int(higher.variation[0]), higher.variation[0])
    assert lower.assurance[0] == SWAPPED_ASSURANCE.get(int(higher.assurance[0]), higher.assurance[0])
