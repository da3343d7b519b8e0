"""The four Making Data Count special-cause rules, vectorised over series x periods.

Each function returns, per point, whether the point is *part of* a pattern, as NHSRplotthedots
marks it (R/ptd_calculate_point_type.R): every point of a qualifying run is flagged, not only the
point that completes it. Runs never cross a segment start (R groups by ``rebase_group``), and a
missing value breaks every run — R has no defined behaviour for NA here (its trend rule errors on
it; its other rules yield NA, which ``case_when`` treats as "no signal"), so "a gap breaks the run"
is the reading that matches R wherever R returns an answer.

Runs are found without Python loops: ``linked[t]`` says point t continues point t-1's run; the
start of each point's run is a running maximum of "last unlinked index", its end a reversed
running minimum, and membership is ``end - start + 1 >= length``.
"""
from __future__ import annotations

import numpy as np

from server.assessment.limits import Limits


def run_lengths(linked: np.ndarray) -> np.ndarray:
    """Length (in points) of the maximal linked run through each point."""
    n_periods = linked.shape[1]
    index = np.broadcast_to(np.arange(n_periods, dtype=np.int32), linked.shape)
    run_start = np.maximum.accumulate(np.where(linked, np.int32(0), index), axis=1)
    link_to_next = np.zeros_like(linked)
    link_to_next[:, :-1] = linked[:, 1:]
    run_end = np.minimum.accumulate(np.where(link_to_next, np.int32(n_periods), index)[:, ::-1], axis=1)[:, ::-1]
    return run_end - run_start + 1


def _linked_with_previous(condition: np.ndarray, starts: np.ndarray) -> np.ndarray:
    linked = np.zeros_like(condition)
    linked[:, 1:] = condition[:, 1:] & condition[:, :-1] & ~starts[:, 1:]
    return linked


def side_of_mean(values: np.ndarray, limits: Limits) -> np.ndarray:
    """+1 above the mean, -1 below, 0 on it, missing or unassessed (R ``sign(y - mean)``)."""
    with np.errstate(invalid="ignore"):
        side = np.sign(values - limits.mean)
    return np.where(np.isnan(side), 0, side).astype(np.int8)


def astronomical(values: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """Points strictly beyond the upper / lower process limit (R ``y > upl | y < lpl``)."""
    with np.errstate(invalid="ignore"):
        return values > limits.upper, values < limits.lower


def shift(side: np.ndarray, limits: Limits, run_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of at least ``run_length`` on one side of the mean.

    A point exactly on the mean has side 0 and so breaks the run (R ``vp[[i]] != 0``).
    """
    result = []
    for this_side in (side > 0, side < 0):
        linked = _linked_with_previous(this_side, limits.segment_start)
        result.append(this_side & (run_lengths(linked) >= run_length))
    return result[0], result[1]


def trend(values: np.ndarray, limits: Limits, trend_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of at least ``trend_length`` points each strictly above (below) the last.

    Equal neighbours break a trend (R: ``sign(diff(y))`` must be all 1 or all -1). R's trend reads
    the values only, so it fires in a segment without limits too (``without_limits="runs_only"``).
    """
    step = np.zeros(values.shape, dtype=np.int8)
    both_present = limits.assessed[:, 1:] & limits.observed[:, 1:] & limits.observed[:, :-1] & ~limits.segment_start[:, 1:]
    with np.errstate(invalid="ignore"):
        step[:, 1:] = np.where(both_present, np.sign(values[:, 1:] - values[:, :-1]), 0)
    rising = run_lengths(step > 0) >= trend_length
    falling = run_lengths(step < 0) >= trend_length
    return rising, falling


def two_in_three(
    values: np.ndarray, side: np.ndarray, limits: Limits, counts_beyond_limits: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Near-limit points in a window of three consecutive points of one segment, all on the same
    side of the mean, of which at least two are near that side's limit (R ptd_two_in_three).

    Near = strictly beyond the two-sigma line; by default (R ``close_to_limits``) not beyond the
    process limit itself; with ``counts_beyond_limits`` (MDC tools since 2023) beyond it too. Only
    the near points of a qualifying window are flagged (R ptd_part_of_two_in_three).
    """
    with np.errstate(invalid="ignore"):
        near_upper = values > limits.upper_two_sigma
        near_lower = values < limits.lower_two_sigma
        if not counts_beyond_limits:
            near_upper &= ~(values > limits.upper)
            near_lower &= ~(values < limits.lower)
    result = []
    for near, this_side in ((near_upper, side > 0), (near_lower, side < 0)):
        flagged = np.zeros(values.shape, dtype=bool)
        if values.shape[1] >= 3:
            same_segment = ~limits.segment_start[:, 1:-1] & ~limits.segment_start[:, 2:]
            same_side = this_side[:, :-2] & this_side[:, 1:-1] & this_side[:, 2:]
            near_count = near[:, :-2].astype(np.int8) + near[:, 1:-1] + near[:, 2:]
            window = same_segment & same_side & (near_count >= 2)  # window starting at each t
            covered = np.zeros(values.shape, dtype=bool)
            for offset in range(3):
                covered[:, offset : offset + window.shape[1]] |= window
            flagged = near & covered
        result.append(flagged)
    return result[0], result[1]
