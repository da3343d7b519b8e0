"""XmR centre line and process limits for many series at once (NHSRplotthedots ptd_spc_standard.R).

Per segment (a rebase starts a new one, as R's ``rebase_group = cumsum(rebase)``):

* baseline = the segment's observed points, or those among its first ``fix_after_points`` periods
  (R ``fix_y``: ``row_number() <= fix_after_n_points`` counts rows, missing ones included; with
  ``points_counted="observed"`` the first N observed points); mean = R's mean of the baseline;
* moving range at t = |y[t] - y[t-1]| when both are baseline points of the same segment (R
  ``c(NA, abs(diff(fix_y)))``: a gap gives no moving range on either side of it);
* screening: moving ranges >= 3.267 x their mean are dropped and the mean recomputed, once (R
  ``mr < 3.267 * amr``). When every moving range is zero R drops them all and the segment has no
  limits; ``constant_baseline="limits_on_mean"`` keeps them, so the limits sit on the mean;
* limits = mean +/- 2.66 x mean moving range, two-sigma lines = mean +/- (2 x 2.66 / 3) x it.

A segment *has limits* when a mean moving range remains. It is *assessed* (its points get types,
the series verdicts) unless ``below_minimum="not_shown"`` hides a short segment, or
``without_limits="not_assessed"`` hides one without limits. With R's ``without_limits="runs_only"``
a segment without limits keeps its mean, so shifts and trends still count, as in R, while a rule
comparing with a limit never fires (R compares with NaN). Short = fewer than ``minimum_points``
rows in the segment (R ``n() < 13``), or baseline points with ``points_counted="observed"``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from server.assessment.arithmetic import r_mean_by_segment
from server.assessment.params import LIMIT_MULTIPLIER, SCREENING_MULTIPLIER, TWO_SIGMA_MULTIPLIER, SpcParameters


@dataclass(frozen=True)
class Limits:
    """Per-point arrays (series x periods); NaN where a segment has no limits (or no mean)."""

    segment: np.ndarray  # int: 0 for the first segment, +1 at each rebase
    segment_start: np.ndarray  # bool: the period opens a segment
    observed: np.ndarray  # bool: the value is not NaN
    baseline: np.ndarray  # bool: the point is used for the mean and moving ranges
    moving_range: np.ndarray  # float: baseline moving range ending at the point, else NaN
    moving_range_excluded: np.ndarray  # bool: dropped by screening
    rows: np.ndarray  # int: periods in the point's segment, missing ones included (R ``n()``)
    baseline_points: np.ndarray  # int: observed baseline points in the point's segment
    short_baseline: np.ndarray  # bool: fewer than minimum_points (rows or baseline points)
    assessed: np.ndarray  # bool: the segment's points are judged (types, verdicts)
    shown: np.ndarray  # bool: the segment has process limits and shows them
    mean: np.ndarray  # NaN where the segment is not assessed or has no observed baseline point
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
    starts = segment_starts(*values.shape, rebase)
    segment = np.cumsum(starts, axis=1) - 1
    observed = ~np.isnan(values)

    baseline = observed
    if parameters.fix_after_points is not None:
        counted = np.ones_like(observed) if parameters.points_counted == "rows" else observed
        baseline = observed & (_rank_in_segment(counted, starts) <= parameters.fix_after_points)
    rows = _count_in_segment(np.ones_like(observed), segment)
    baseline_points = _count_in_segment(baseline, segment)

    moving_range = np.full(values.shape, np.nan)
    moving_range[:, 1:] = np.abs(values[:, 1:] - values[:, :-1])
    has_moving_range = np.zeros(values.shape, dtype=bool)
    has_moving_range[:, 1:] = baseline[:, 1:] & baseline[:, :-1] & ~starts[:, 1:]

    mean_moving_range = r_mean_by_segment(moving_range, has_moving_range, segment)
    kept = has_moving_range
    if parameters.screen_moving_ranges:
        with np.errstate(invalid="ignore"):
            kept = has_moving_range & (moving_range < SCREENING_MULTIPLIER * mean_moving_range)
        if parameters.constant_baseline == "limits_on_mean":
            kept |= has_moving_range & (mean_moving_range == 0)
        mean_moving_range = r_mean_by_segment(moving_range, kept, segment)

    short = (rows if parameters.points_counted == "rows" else baseline_points) < parameters.minimum_points
    hidden = short & (parameters.below_minimum == "not_shown")
    shown = np.isfinite(mean_moving_range) & ~hidden
    assessed = shown if parameters.without_limits == "not_assessed" else ~hidden
    centre = np.where(assessed, r_mean_by_segment(values, baseline, segment), np.nan)
    spread = np.where(shown, mean_moving_range, np.nan)
    return Limits(
        segment=segment,
        segment_start=starts,
        observed=observed,
        baseline=baseline,
        moving_range=np.where(has_moving_range, moving_range, np.nan),
        moving_range_excluded=has_moving_range & ~kept,
        rows=rows,
        baseline_points=baseline_points,
        short_baseline=short,
        assessed=assessed,
        shown=shown,
        mean=centre,
        mean_moving_range=spread,
        # Same operation order as R (``mean - (limit * amr)``) and as reference.py.
        lower=centre - LIMIT_MULTIPLIER * spread,
        upper=centre + LIMIT_MULTIPLIER * spread,
        lower_two_sigma=centre - TWO_SIGMA_MULTIPLIER * spread,
        upper_two_sigma=centre + TWO_SIGMA_MULTIPLIER * spread,
    )


def _rank_in_segment(counted: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """1-based position of each counted period among the counted periods of its segment."""
    running = np.cumsum(counted, axis=1)
    before_segment = np.maximum.accumulate(np.where(starts, running - counted, 0), axis=1)
    return running - before_segment


def _count_in_segment(flags: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Per point, how many points of its segment are flagged."""
    n_series = flags.shape[0]
    per_series = int(segment.max(initial=0)) + 1
    group = np.arange(n_series)[:, None] * per_series + segment
    counts = np.bincount(group.ravel(), weights=flags.ravel().astype(float), minlength=n_series * per_series)
    return counts[group].astype(np.int64)
