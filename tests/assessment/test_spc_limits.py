"""Hand-worked XmR limits: mean, moving ranges, screening, fixed baselines, rebases, gaps, short
baselines (NHSRplotthedots ptd_spc_standard.R semantics)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from server.assessment import SpcParameters, compute_spc, rebase_mask
from server.assessment.params import LIMIT_MULTIPLIER, TWO_SIGMA_MULTIPLIER

NAN = math.nan


def segment_summary(values, parameters=SpcParameters(), rebase_periods=()):
    batch = compute_spc(
        np.array([values], dtype=float), [1], rebase=rebase_mask(1, len(values), {0: list(rebase_periods)}), parameters=parameters
    )
    return batch.explain(0)["segments"]


# (values, parameters, [(mean, mean moving range) per segment], rebase periods, why)
LIMIT_CASES = [
    ([10, 12, 10, 12, 10, 12, 10, 12], SpcParameters(), [(11, 2)], (), "moving ranges all 2"),
    # Screening: MRs are six 2s and one 30; mean MR 42/7 = 6; bound 3.267 x 6 = 19.6 drops the 30.
    ([10, 12, 10, 12, 10, 12, 10, 40], SpcParameters(), [(14.5, 2)], (), "screening drops the 30"),
    ([10, 12, 10, 12, 10, 12, 10, 40], SpcParameters(screen_moving_ranges=False), [(14.5, 6)], (), "screening off"),
    # fix_after_points=4: mean and MRs from [1, 3, 1, 3] only; the 10s are judged, not used.
    ([1, 3, 1, 3, 10, 10, 10, 10], SpcParameters(fix_after_points=4), [(2, 2)], (), "fixed after 4 points"),
    # R's fix_after_n_points counts rows: the first 4 rows hold 1, 3, 1 (mean 5/3), one MR of 2.
    ([1, NAN, 3, 1, 3, 10, 10], SpcParameters(fix_after_points=4), [(5 / 3, 2)], (), "gap inside a fixed baseline"),
    # Counting observed points instead skips the gap: the baseline is 1, 3, 1, 3 again.
    ([1, NAN, 3, 1, 3, 10, 10], SpcParameters(fix_after_points=4, points_counted="observed"), [(2, 2)], (), "observed points counted"),
    # A gap gives no moving range on either side (R diff with NA): MRs are 2 and 2, not |20 - 10|.
    ([10, NAN, 20, 22, 20], SpcParameters(), [(18, 2)], (), "gap is not bridged"),
    # Rebase at 4: two segments, and the jump 3 -> 11 across the rebase is no moving range.
    ([1, 3, 1, 3, 11, 13, 11, 13], SpcParameters(), [(2, 2), (12, 2)], (4,), "rebase"),
    # Constant series: every MR is 0; kept (not R's screening), the limits collapse onto the mean.
    ([5] * 12, SpcParameters(constant_baseline="limits_on_mean"), [(5, 0)], (), "constant series kept"),
    ([5] * 12, SpcParameters(screen_moving_ranges=False), [(5, 0)], (), "constant series unscreened"),
]


@pytest.mark.parametrize(("values", "parameters", "expected", "rebase_periods", "why"), LIMIT_CASES, ids=[c[-1] for c in LIMIT_CASES])
def test_segment_mean_and_moving_range(values, parameters, expected, rebase_periods, why):
    segments = segment_summary(values, parameters, rebase_periods)
    assert [(s["mean"], s["mean_moving_range"]) for s in segments] == [pytest.approx(pair) for pair in expected]
    for segment, (mean, spread) in zip(segments, expected):
        assert segment["lower_limit"] == pytest.approx(mean - 2.66 * spread)
        assert segment["upper_limit"] == pytest.approx(mean + 2.66 * spread)


def test_limits_are_reported_per_point_and_step_at_a_rebase():
    batch = compute_spc(np.array([[1, 3, 1, 3, 11, 13, 11, 13]], dtype=float), [1], rebase=rebase_mask(1, 8, {0: [4]}))
    assert batch.limits.upper[0].tolist() == pytest.approx([2 + 5.32] * 4 + [12 + 5.32] * 4)
    assert batch.limits.upper_two_sigma[0, 0] == pytest.approx(2 + TWO_SIGMA_MULTIPLIER * 2)


def test_screened_moving_range_is_named_in_the_evidence():
    segments = segment_summary([10, 12, 10, 12, 10, 12, 10, 40])
    assert segments[0]["excluded_moving_ranges_at"] == [7]


def test_fixed_baseline_lists_only_the_baseline_periods():
    segments = segment_summary([1, NAN, 3, 1, 3, 10, 10], SpcParameters(fix_after_points=4))
    assert segments[0]["baseline_periods"] == [0, 2, 3]
    assert segments[0]["rows"] == 7 and segments[0]["baseline_points"] == 3


def test_fewer_than_minimum_points_gives_trial_limits_by_default():
    """R computes limits for a short group and only warns (ptd_add_short_group_warnings, n() < 13)."""
    segment = segment_summary([2, 0, 2, 0, 2])[0]
    assert segment["short_baseline"] and segment["limits_shown"] and segment["limits_are_trial"]


def test_fewer_than_minimum_points_not_shown_gives_no_limits_and_no_verdicts():
    parameters = SpcParameters(below_minimum="not_shown")
    batch = compute_spc(np.array([[2, 0, 2, 0, 2, 9]], dtype=float), [1], [1], parameters=parameters)
    assert np.isnan(batch.limits.upper).all()
    assert batch.variation_words() == ["none"] and batch.assurance_words() == ["none"]
    assert batch.explain(0)["points"][-1]["point_type"] == "not_assessed"


def test_minimum_points_is_a_setting():
    assert not segment_summary([2, 0] * 3, SpcParameters(minimum_points=6))[0]["short_baseline"]
    assert segment_summary([2, 0] * 3, SpcParameters(minimum_points=7))[0]["short_baseline"]


@pytest.mark.parametrize(
    ("values", "variation", "why"),
    [
        ([5.0], "common_cause", "one point has no moving range"),
        ([5.0, NAN, 6.0], "common_cause", "no two adjacent points"),
        ([NAN, NAN], "none", "nothing observed"),
    ],
)
def test_a_segment_without_a_moving_range_has_a_mean_but_no_limits(values, variation, why):
    # R: mean_col is a number, lpl / upl NaN, no rule fires, assurance "inconsistent".
    batch = compute_spc(np.array([values]), [1], [5])
    assert np.isnan(batch.limits.upper).all()
    assert batch.variation_words() == [variation]


def test_without_limits_not_assessed_gives_no_verdicts():
    batch = compute_spc(np.array([[5.0, NAN, 6.0]]), [1], [5], parameters=SpcParameters(without_limits="not_assessed"))
    assert np.isnan(batch.limits.mean).all()
    assert batch.variation_words() == ["none"] and batch.assurance_words() == ["none"]


def test_constant_baseline_has_no_limits_but_a_later_shift_still_counts():
    # R: every zero moving range is screened away (NaN limits); the mean remains, so seven 6s are a shift.
    batch = compute_spc(np.array([[5.0] * 12 + [6.0] * 7]), [1], parameters=SpcParameters(fix_after_points=12))
    assert np.isnan(batch.limits.upper).all() and batch.limits.mean[0, 0] == 5
    assert batch.shift[0].tolist() == [False] * 12 + [True] * 7 and not batch.astronomical.any()


def test_constant_baseline_with_limits_on_mean_makes_any_later_change_astronomical():
    parameters = SpcParameters(fix_after_points=12, constant_baseline="limits_on_mean")
    batch = compute_spc(np.array([[5.0] * 12 + [6.0]]), [1], parameters=parameters)
    assert batch.astronomical[0].tolist() == [False] * 12 + [True]
    assert batch.variation_words() == ["special_cause_improving"]


def test_limit_constants_are_the_xmr_ones():
    assert LIMIT_MULTIPLIER == 2.66 and TWO_SIGMA_MULTIPLIER == pytest.approx(2 * 2.66 / 3)


@pytest.mark.parametrize(
    "bad",
    [dict(run_length=1), dict(fix_after_points=1), dict(minimum_points=1), dict(below_minimum="hide"), dict(method="excel"),
     dict(points_counted="all"), dict(trend_direction="left"), dict(variation_from="first")],
)
def test_parameters_fail_fast(bad):
    with pytest.raises(ValueError):
        SpcParameters(**bad)


def test_infinite_values_are_refused():
    with pytest.raises(ValueError):
        compute_spc(np.array([[1.0, math.inf]]), [1])
