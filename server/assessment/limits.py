"""XmR centre line and process limits for many series at once (NHSRplotthedots ptd_spc_standard.R).

Per segment (a rebase starts a new one, as R's ``rebase_group = cumsum(rebase)``):

* baseline = the segment's observed points, or its first ``fix_after_points`` observed points
  (R ``fix_y``); mean = mean of the baseline;
* moving range at t = |y[t] - y[t-1]| when both are baseline points of the same segment (R
  ``c(NA, abs(diff(fix_y)))``: a gap gives no moving range on either side of it);
* screening: moving ranges >= 3.267 x their mean are dropped and the mean recomputed, once (R
  ``mr < 3.267 * amr``). When every moving range is zero nothing is dropped (R would drop them all
  and leave no limits; we keep limits on the mean — see METHOD.md);
* limits = mean +/- 2.66 x mean moving range, two-sigma lines = mean +/- (2 x 2.66 / 3) x it.

A segment shows limits when its mean moving range exists (two adjacent baseline points) and, with
``below_minimum="not_shown"``, it has at least ``minimum_points`` baseline points. Everything is
computed with one ``np.bincount`` per sum over a (series, segment) group index; bincount adds in
period order, so each mean equals the left-to-right sum of the pure-Python reference exactly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from server.assessment.params import LIMIT_MULTIPLIER, SCREENING_MULTIPLIER, TWO_SIGMA_MULTIPLIER, SpcParameters


@dataclass(frozen=True)
class Limits:
    """Per-point arrays (series x periods); NaN where a segment shows no limits."""

    segment: np.ndarray  # int: 0 for the first segment, +1 at each rebase
    segment_start: np.ndarray  # bool: the period opens a segment
    observed: np.ndarray  # bool: the value is not NaN
    baseline: np.ndarray  # bool: the point is used for the mean and moving ranges
    moving_range: np.ndarray  # float: baseline moving range ending at the point, else NaN
    moving_range_excluded: np.ndarray  # bool: dropped by screening
    baseline_points: np.ndarray  # int: observed baseline points in the point's segment
    short_baseline: np.ndarray  # bool: baseline_points < minimum_points
    shown: np.ndarray  # bool: the segment has limits
    mean: np.ndarray
    mean_moving_range: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lower_two_sigma: np.ndarray
    upper_two_sigma: np.ndarray


def segment_starts(n_series: int, n_periods: int, rebase: np.ndarray | None) -> np.ndarray:
    """Boolean series x periods: True where a segment opens (period 0 always does)."""
    starts = np.zeros((n_series, n_periods), dtype=bool)
    if rebase is not None:
        starts |= np.asarray(rebase, dtype=bool)
    if n_periods:
        starts[:, 0] = True
    return starts


def compute_limits(values: np.ndarray, rebase: np.ndarray | None, parameters: SpcParameters) -> Limits:
    """Mean, moving ranges and limits of every segment of every series."""
    n_series, n_periods = values.shape
    starts = segment_starts(n_series, n_periods, rebase)
    segment = np.cumsum(starts, axis=1) - 1
    segments_per_series = int(segment.max(initial=0)) + 1
    group = (np.arange(n_series)[:, None] * segments_per_series + segment).ravel()
    n_groups = n_series * segments_per_series
    observed = ~np.isnan(values)

    baseline = observed
    if parameters.fix_after_points is not None:
        baseline = observed & (_rank_in_segment(observed, starts) <= parameters.fix_after_points)

    def per_group_sum(weights: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=weights.ravel(), minlength=n_groups)

    baseline_points = per_group_sum(baseline.astype(float))
    mean = _divide(per_group_sum(np.where(baseline, values, 0.0)), baseline_points)

    moving_range = np.full(values.shape, np.nan)
    moving_range[:, 1:] = np.abs(values[:, 1:] - values[:, :-1])
    has_moving_range = np.zeros(values.shape, dtype=bool)
    has_moving_range[:, 1:] = baseline[:, 1:] & baseline[:, :-1] & ~starts[:, 1:]

    mean_moving_range = _mean_where(moving_range, has_moving_range, per_group_sum)
    kept = has_moving_range
    if parameters.screen_moving_ranges:
        bound_per_point = SCREENING_MULTIPLIER * mean_moving_range[group].reshape(values.shape)
        zero_spread = mean_moving_range[group].reshape(values.shape) == 0
        kept = has_moving_range & ((moving_range < bound_per_point) | zero_spread)
        mean_moving_range = _mean_where(moving_range, kept, per_group_sum)

    short = baseline_points < parameters.minimum_points
    shown_group = np.isfinite(mean_moving_range)
    if parameters.below_minimum == "not_shown":
        shown_group &= ~short

    def per_point(per_group: np.ndarray) -> np.ndarray:
        return per_group[group].reshape(values.shape)

    shown = per_point(shown_group)
    centre = np.where(shown, per_point(mean), np.nan)
    spread = np.where(shown, per_point(mean_moving_range), np.nan)
    return Limits(
        segment=segment,
        segment_start=starts,
        observed=observed,
        baseline=baseline,
        moving_range=np.where(has_moving_range, moving_range, np.nan),
        moving_range_excluded=has_moving_range & ~kept,
        baseline_points=per_point(baseline_points).astype(np.int64),
        short_baseline=per_point(short),
        shown=shown,
        mean=centre,
        mean_moving_range=spread,
        # Same operation order as R (``mean - (limit * amr)``) and as reference.py.
        lower=centre - LIMIT_MULTIPLIER * spread,
        upper=centre + LIMIT_MULTIPLIER * spread,
        lower_two_sigma=centre - TWO_SIGMA_MULTIPLIER * spread,
        upper_two_sigma=centre + TWO_SIGMA_MULTIPLIER * spread,
    )


def _rank_in_segment(observed: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """1-based position of each observed point among the observed points of its segment."""
    running = np.cumsum(observed, axis=1)
    before_segment = np.maximum.accumulate(np.where(starts, running - observed, 0), axis=1)
    return running - before_segment


def _mean_where(moving_range: np.ndarray, use: np.ndarray, per_group_sum: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return _divide(per_group_sum(np.where(use, moving_range, 0.0)), per_group_sum(use.astype(float)))


def _divide(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
