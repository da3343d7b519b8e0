"""Hand-worked special-cause rules and their edges, as tables.

Every case appends a tail to the same fixed baseline, so the limits are known by hand:

    BASELINE = [2, 0] * 6, fix_after_points = 12
    mean 1, mean moving range 2
    process limits   1 +/- 2.66 x 2        = -4.32 .. 6.32
    two-sigma lines  1 +/- (2 x 2.66/3) x 2 = -2.55 .. 4.55

The baseline's last value (index 11) is 0, below the mean. Expected flags are indexes into the
tail (-1 is the baseline's last point when a run reaches back into it).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from server.assessment import SpcParameters, compute_spc, rules
from server.assessment.limits import compute_limits
from server.assessment.params import LIMIT_MULTIPLIER, TWO_SIGMA_MULTIPLIER

NAN = math.nan
BASELINE = [2.0, 0.0] * 6
UPPER = 1 + LIMIT_MULTIPLIER * 2
LOWER = 1 - LIMIT_MULTIPLIER * 2
UPPER_TWO_SIGMA = 1 + TWO_SIGMA_MULTIPLIER * 2


def run(tail, polarity=1, **parameters):
    parameters.setdefault("fix_after_points", 12)
    return compute_spc(np.array([BASELINE + list(tail)]), [polarity], parameters=SpcParameters(**parameters))


def flagged(tail, rule, **parameters):
    flags = getattr(run(tail, **parameters), rule)[0]
    return [int(i) - len(BASELINE) for i in np.flatnonzero(flags)]


def tail_point_types(tail, polarity=1, **parameters):
    explained = run(tail, polarity, **parameters).explain(0)["points"][len(BASELINE):]
    return [point["point_type"] for point in explained]


# ---- shift: run_length points in a row on one side of the mean --------------------------------
SHIFT_CASES = [
    ([1.5] * 7, {}, list(range(7)), "seven above the mean"),
    ([1.5] * 6, {}, [], "six above is not enough"),
    ([1.5] * 3 + [1.0] + [1.5] * 3, {}, [], "a point exactly on the mean breaks the run"),
    ([1.5] * 3 + [NAN] + [1.5] * 4, {}, [], "a gap breaks the run"),
    ([0.5] * 6, {}, [-1, 0, 1, 2, 3, 4, 5], "six below plus the baseline's last 0 make seven"),
    ([1.5] * 6, {"run_length": 6}, list(range(6)), "a tenant using six points"),
    ([1.5] * 9, {}, list(range(9)), "every point of a longer run is flagged"),
]


@pytest.mark.parametrize(("tail", "parameters", "expected", "why"), SHIFT_CASES, ids=[c[-1] for c in SHIFT_CASES])
def test_shift(tail, parameters, expected, why):
    assert flagged(tail, "shift", **parameters) == expected


# ---- trend: trend_length points each strictly above (below) the one before ---------------------
RISING_SEVEN = [-1, -0.5, 0, 0.5, 1.5, 2, 2.5]
TREND_CASES = [
    (RISING_SEVEN, {}, list(range(7)), "seven rising (the first falls from the baseline's 0)"),
    (RISING_SEVEN[:6], {}, [], "six rising is not enough"),
    ([-1, -0.5, 0, 0, 0.5, 1.5, 2, 2.5], {}, [], "a tie breaks the trend"),
    ([-1, -0.5, 0, NAN, 0.5, 1.5, 2, 2.5], {}, [], "a gap breaks the trend"),
    ([3, 2.5, 2, 1.5, 0.5, 0, -0.5], {}, list(range(7)), "seven falling"),
    (RISING_SEVEN[:6], {"trend_length": 6}, list(range(6)), "a tenant using six points"),
]


@pytest.mark.parametrize(("tail", "parameters", "expected", "why"), TREND_CASES, ids=[c[-1] for c in TREND_CASES])
def test_trend(tail, parameters, expected, why):
    assert flagged(tail, "trend", **parameters) == expected


def test_trend_points_take_the_trend_direction_not_their_side_of_the_mean():
    # Points 0-3 of the rising trend are below the mean, yet a rising trend is improvement.
    assert tail_point_types(RISING_SEVEN) == ["special_cause_improvement"] * 7


def test_peak_between_two_trends_takes_the_later_trend():
    # Rising 7 then falling 7 sharing the peak at tail 6: R "uses the right side" for the peak.
    tail = RISING_SEVEN + [2, 1.5, 0.5, 0, -0.5, -1]
    assert tail_point_types(tail) == ["special_cause_improvement"] * 6 + ["special_cause_concern"] * 7


def test_last_point_of_a_trend_followed_by_a_new_trend_takes_the_next_step_as_in_r():
    # R "uses the right side" whenever the next point is also in a trend: tail 6 ends the first
    # rising trend, the next point starts another after a drop, so R reads tail 6 "Decreasing".
    tail = RISING_SEVEN + RISING_SEVEN
    assert tail_point_types(tail) == ["special_cause_improvement"] * 6 + ["special_cause_concern"] + ["special_cause_improvement"] * 7


def test_own_trend_direction_is_a_setting():
    tail = RISING_SEVEN + RISING_SEVEN
    assert tail_point_types(tail, trend_direction="own_trend") == ["special_cause_improvement"] * 14


# ---- two in three: two of three consecutive points beyond two sigma, all on one side ----------
TWO_IN_THREE_CASES = [
    ([5, 1.5, 5], {}, [0, 2], "two near the upper limit, middle above the mean: only near points flagged"),
    ([5, 5, 1.5], {}, [0, 1], "two adjacent near points"),
    ([5, 0.5, 5], {}, [], "middle point below the mean: not all on one side"),
    ([5, 1.0, 5], {}, [], "middle point exactly on the mean"),
    ([-3, 0.5, -3], {}, [0, 2], "near the lower limit"),
    ([5, NAN, 5], {}, [], "a gap breaks the window"),
    ([UPPER_TWO_SIGMA, 1.5, UPPER_TWO_SIGMA], {}, [], "exactly on the two-sigma line is not beyond it"),
    ([5, 7, 1.5], {}, [], "R: a point beyond the process limit does not count (issue #153)"),
    ([5, 7, 1.5], {"two_in_three_counts_beyond_limits": True}, [0, 1], "MDC since 2023: it counts (issue #194)"),
    ([5, 1.5, 5], {"two_in_three": False}, [], "rule switched off"),
]


@pytest.mark.parametrize(("tail", "parameters", "expected", "why"), TWO_IN_THREE_CASES, ids=[c[-1] for c in TWO_IN_THREE_CASES])
def test_two_in_three(tail, parameters, expected, why):
    assert flagged(tail, "two_in_three", **parameters) == expected


@pytest.mark.parametrize("rule", ["two_in_three", "shift"])
def test_runs_and_windows_do_not_cross_a_segment_start(rule):
    # Same limits, but period 13 declared a segment start: R groups every rule by rebase_group.
    tail = [5, 5, 1.5] if rule == "two_in_three" else [1.5] * 7
    values = np.array([BASELINE + tail])
    limits = compute_limits(values, None, SpcParameters(fix_after_points=12))
    cut = dataclasses.replace(limits, segment_start=limits.segment_start | np.eye(1, values.shape[1], 13, dtype=bool))
    side = rules.side_of_mean(values, cut)
    if rule == "two_in_three":
        high, _ = rules.two_in_three(values, side, cut, counts_beyond_limits=False)
    else:
        high, _ = rules.shift(side, cut, run_length=7)
    assert not high.any()


# ---- astronomical: beyond a process limit ------------------------------------------------------
ASTRONOMICAL_CASES = [
    ([UPPER], [], "exactly on the upper limit is not beyond it"),
    ([UPPER + 0.01], [0], "just above the upper limit"),
    ([LOWER], [], "exactly on the lower limit"),
    ([LOWER - 0.01], [0], "just below the lower limit"),
]


@pytest.mark.parametrize(("tail", "expected", "why"), ASTRONOMICAL_CASES, ids=[c[-1] for c in ASTRONOMICAL_CASES])
def test_astronomical(tail, expected, why):
    assert flagged(tail, "astronomical") == expected


# ---- precedence and polarity -------------------------------------------------------------------
# tail 0 is beyond the upper limit; tails 0-6 fall every step (a trend) and all sit above the mean
# (a shift). Precedence astronomical > trend > two-in-three > shift decides each point's direction.
CONFLICTED = [7, 4, 3.5, 3, 2.5, 2, 1.5]


def test_rule_precedence_decides_direction():
    batch = run(CONFLICTED)
    rules = [point["deciding_rule"] for point in batch.explain(0)["points"][12:]]
    assert rules == ["astronomical"] + ["trend"] * 6
    assert tail_point_types(CONFLICTED) == ["special_cause_improvement"] + ["special_cause_concern"] * 6


def test_improvement_wins_setting_follows_the_mdc_tool():
    assert tail_point_types(CONFLICTED, conflicting_signals="improvement_wins") == ["special_cause_improvement"] * 7


def test_lower_is_better_reverses_the_meaning():
    assert tail_point_types(CONFLICTED, polarity=-1) == ["special_cause_concern"] + ["special_cause_improvement"] * 6


def test_neutral_polarity_gives_neutral_special_causes():
    assert tail_point_types(CONFLICTED, polarity=0) == ["special_cause_neutral"] * 7


def test_every_fired_rule_is_reported_even_when_another_decides():
    point = run(CONFLICTED).explain(0)["points"][12]
    assert point["rules"] == ["astronomical", "trend", "shift"]
