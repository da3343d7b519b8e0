"""Golden tests: NHSRplotthedots 0.2.2's own answers on the seven edge classes of issue 13.

Every expected value below was produced by the R package's code (R/ptd_spc_standard.R,
ptd_calculate_point_type.R, ptd_calculate_assurance_type.R, ptd_add_short_group_warnings.R at
nhs-r-community/NHSRplotthedots 050b07d) run by R 4.2.2 on x86-64 with dplyr 1.0.10 (its
``case_when(.default = x)`` written as ``TRUE ~ x``, which is the same for dplyr), printed with
``sprintf("%.17g")``. Means and limits are compared bit for bit.

Mapping of R's words: an NA row's "common_cause" is our "missing" point; ``consistent_pass`` /
``consistent_fail`` / ``inconsistent`` / NA are consistently_pass / consistently_fail /
hit_and_miss / none; the variation is the last row's point type (R's summary()).
Point types are one letter per row: c common cause, i improvement, x concern (- not assessed, ours only).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import numpy as np
import pytest

from server.assessment import SpcParameters, codes, compute_spc, rebase_mask

NAN = math.nan
LETTERS = {"common_cause": "c", "missing": "c", "special_cause_improvement": "i", "special_cause_concern": "x", "not_assessed": "-"}


class RCase(NamedTuple):
    name: str
    values: list[float]
    options: dict[str, Any]  # R arguments: fix (fix_after_n_points), rebase_at (1-based row), target, screen
    short: list[bool]  # short_group_warning per rebase group
    mean: list[float]  # mean_col, lpl, upl per rebase group
    lower: list[float]
    upper: list[float]
    point_types: str
    variation: str
    assurance: str


GOLDEN = [
    # 1. Short-group warning: R flags a group of fewer than 13 rows (ptd_add_short_group_warnings:
    # getOption("ptd_spc.warning_threshold", 13), n() < warning_threshold), though its message says 12.
    RCase("twelve_rows", [2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0], {},
          short=[True], mean=[1.0], lower=[-4.32], upper=[6.32],
          point_types="cccccccccccc", variation="common_cause", assurance="none"),
    RCase("thirteen_rows", [2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 1], {},
          short=[False], mean=[1.0], lower=[-4.098333333333334], upper=[6.098333333333334],
          point_types="ccccccccccccc", variation="common_cause", assurance="none"),
    # 2. Rows, not observed points: n() and row_number() count rows with NA. 13 rows with 11 values
    # are not short; fix_after_n_points = 12 takes rows 1-12, of which 11 have values.
    RCase("thirteen_rows_two_missing", [2, 0, 2, NAN, 2, 0, 2, 0, NAN, 0, 2, 0, 2], {},
          short=[False], mean=[1.0909090909090908], lower=[-4.2290909090909095], upper=[6.410909090909091],
          point_types="ccccccccccccc", variation="common_cause", assurance="none"),
    RCase("fix_after_twelve_rows_with_a_gap", [1, 3, NAN, 1, 3, 1, 3, 1, 3, 1, 3, 1, 10, 10, 10, 10, 10, 10, 10], {'fix': 12},
          short=[False], mean=[1.9090909090909092], lower=[-3.410909090909091], upper=[7.2290909090909095],
          point_types="cccccccccccciiiiiii", variation="special_cause_improving", assurance="none"),
    # 3. All moving ranges zero: screening keeps mr < 3.267 * 0, i.e. none; amr is NaN, so are the
    # limits; every point is common cause and the assurance "inconsistent" (case_when falls through).
    # The mean is still there, so a later shift is special cause. Without screening R keeps limits
    # on the mean.
    RCase("constant_series", [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5], {'target': 4},
          short=[False], mean=[5.0], lower=[NAN], upper=[NAN],
          point_types="ccccccccccccc", variation="common_cause", assurance="hit_and_miss"),
    RCase("constant_baseline_then_shift", [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6], {'fix': 12, 'target': 5.5},
          short=[False], mean=[5.0], lower=[NAN], upper=[NAN],
          point_types="cccccccccccciiiiiii", variation="special_cause_improving", assurance="hit_and_miss"),
    RCase("constant_series_unscreened", [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5], {'target': 4, 'screen': False},
          short=[False], mean=[5.0], lower=[5.0], upper=[5.0],
          point_types="ccccccccccccc", variation="common_cause", assurance="consistently_pass"),
    # 4. A group with one point, or no two adjacent points: a mean, no moving range, NaN limits.
    RCase("one_point", [5], {'target': 4},
          short=[True], mean=[5.0], lower=[NAN], upper=[NAN],
          point_types="c", variation="common_cause", assurance="hit_and_miss"),
    RCase("rebase_leaves_one_point", [2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 9], {'rebase_at': 13, 'target': 1},
          short=[True, True], mean=[1.0, 9.0], lower=[-4.32, NAN], upper=[6.32, NAN],
          point_types="ccccccccccccc", variation="common_cause", assurance="hit_and_miss"),
    RCase("no_two_adjacent_points", [5, NAN, 6], {'target': 4},
          short=[True], mean=[5.5], lower=[NAN], upper=[NAN],
          point_types="ccc", variation="common_cause", assurance="hit_and_miss"),
    # 5. Last row NA: no rule fires at an NA row, so it is common cause and R's variation (the last
    # row's point type) is common cause, although the latest value ends a shift.
    RCase("last_row_missing", [2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, NAN], {'target': 1},
          short=[False], mean=[1.1842105263157894], lower=[-2.2885672514619886], upper=[4.656988304093567],
          point_types="cccccccccccciiiiiiic", variation="common_cause", assurance="hit_and_miss"),
    # 6. Trend direction where two trends meet: "if a point is part of a trend either side, use right
    # side" (ptd_special_cause_type). The last point of a rising trend followed by a drop and a new
    # rising trend reads "Decreasing"; so does it before a tie (sign 0 is not "In"). At a true peak R
    # and the own-trend reading agree.
    RCase("trend_followed_by_a_drop_and_a_new_trend", [0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 7, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5], {'fix': 12},
          short=[False], mean=[5.0], lower=[-21.6], upper=[31.6],
          point_types="cccccccccccciiiiiixiiiiiii", variation="special_cause_improving", assurance="none"),
    RCase("trend_tie_at_the_peak", [0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13], {'fix': 12},
          short=[False], mean=[5.0], lower=[-21.6], upper=[31.6],
          point_types="cccccccccccciiiiiixiiiiiii", variation="special_cause_improving", assurance="none"),
    RCase("trend_peak", [0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1], {'fix': 12},
          short=[False], mean=[5.0], lower=[-21.6], upper=[31.6],
          point_types="cccccccccccciiiiiixxxxxxx", variation="special_cause_concerning", assurance="none"),
    # 7. R's mean() sums in long double and adds the mean residual: this baseline's mean is exactly 2.4
    # (a plain double sum gives 2.3999999999999995), so the later 2.4s sit on the mean and make no
    # shift, and a target equal to the upper limit is not beyond it (strict comparison).
    RCase("mean_tie_in_long_double", [2.2, 2.6, 2.4, 2.4, 2.3, 2.6, 2.5, 2.4, 2.2, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4], {'fix': 12},
          short=[False], mean=[2.4], lower=[2.013090909090909], upper=[2.786909090909091],
          point_types="ccccccccccccccccccc", variation="common_cause", assurance="none"),
    RCase("target_on_the_upper_limit", [2.2, 2.6, 2.4, 2.4, 2.3, 2.6, 2.5, 2.4, 2.2, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4, 2.4], {'fix': 12, 'target': 2.786909090909091},
          short=[False], mean=[2.4], lower=[2.013090909090909], upper=[2.786909090909091],
          point_types="ccccccccccccccccccc", variation="common_cause", assurance="hit_and_miss"),
]


def run_like_r(case: RCase, parameters: SpcParameters = SpcParameters()):
    options = case.options
    n_periods = len(case.values)
    rebase = rebase_mask(1, n_periods, {0: [options["rebase_at"] - 1]}) if "rebase_at" in options else None
    parameters = dataclasses.replace(
        parameters, fix_after_points=options.get("fix"), screen_moving_ranges=options.get("screen", parameters.screen_moving_ranges)
    )
    return compute_spc(np.array([case.values], dtype=float), [1], [options.get("target", NAN)], rebase=rebase, parameters=parameters)


def segment_starts(case: RCase) -> list[int]:
    return [0] + ([case.options["rebase_at"] - 1] if "rebase_at" in case.options else [])


def same_bits(ours: list[float], r: list[float]) -> bool:
    return [None if math.isnan(v) else v.hex() for v in ours] == [None if math.isnan(v) else v.hex() for v in r]


@pytest.mark.parametrize("case", GOLDEN, ids=[case.name for case in GOLDEN])
def test_default_method_gives_r_s_answer(case):
    batch = run_like_r(case)
    starts = segment_starts(case)
    assert [bool(batch.limits.short_baseline[0, t]) for t in starts] == case.short
    assert same_bits([float(batch.limits.mean[0, t]) for t in starts], case.mean)
    assert same_bits([float(batch.limits.lower[0, t]) for t in starts], case.lower)
    assert same_bits([float(batch.limits.upper[0, t]) for t in starts], case.upper)
    assert "".join(LETTERS[word] for word in codes.labels(batch.point_type[0], codes.POINT_TYPES)) == case.point_types
    assert batch.variation_words() == [case.variation]
    assert batch.assurance_words() == [case.assurance]


def case_named(name: str) -> RCase:
    return next(case for case in GOLDEN if case.name == name)


def test_r_s_mean_is_exact_where_a_plain_double_sum_is_not():
    baseline = case_named("mean_tie_in_long_double").values[:12]
    assert sum(baseline) / len(baseline) == 2.3999999999999995
    assert run_like_r(case_named("mean_tie_in_long_double")).limits.mean[0, 0] == 2.4


# Each class's departure, as a named setting, reproduces what Accord did before 2.0.0.
DEPARTURES = [
    ("twelve_rows", dict(minimum_points=12), "short", [False]),
    ("thirteen_rows_two_missing", dict(points_counted="observed"), "short", [True]),
    ("constant_series", dict(constant_baseline="limits_on_mean"), "assurance", "consistently_pass"),
    ("one_point", dict(without_limits="not_assessed"), "assurance", "none"),
    ("rebase_leaves_one_point", dict(without_limits="not_assessed"), "variation", "none"),
    ("last_row_missing", dict(variation_from="latest_observed"), "variation", "special_cause_improving"),
    ("trend_followed_by_a_drop_and_a_new_trend", dict(trend_direction="own_trend"), "point_types", "cccccccccccciiiiiiiiiiiiii"),
    ("trend_tie_at_the_peak", dict(trend_direction="own_trend"), "point_types", "cccccccccccciiiiiiiiiiiiii"),
    ("trend_peak", dict(trend_direction="own_trend"), "point_types", "cccccccccccciiiiiixxxxxxx"),
]


@pytest.mark.parametrize(("name", "setting", "field", "expected"), DEPARTURES, ids=[f"{d[0]}-{next(iter(d[1]))}" for d in DEPARTURES])
def test_each_departure_is_a_named_setting(name, setting, field, expected):
    case = case_named(name)
    batch = run_like_r(case, SpcParameters(**setting))
    actual = {
        "short": [bool(batch.limits.short_baseline[0, t]) for t in segment_starts(case)],
        "assurance": batch.assurance_words()[0],
        "variation": batch.variation_words()[0],
        "point_types": "".join(LETTERS[word] for word in codes.labels(batch.point_type[0], codes.POINT_TYPES)),
    }[field]
    assert actual == expected
