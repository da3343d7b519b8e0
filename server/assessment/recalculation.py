"""Candidates for recalculating the limits: a sustained shift that is still going.

Making Data Count: limits are recalculated (a new segment, R ``rebase``) after a sustained shift
with a known cause, never automatically. The engine only flags the candidate; a person records the
decision with its reason, and the caller passes the recorded periods back as rebases.

A series is a candidate when its latest observed point ends a shift (``run_length`` or more
points on one side of the mean) in its latest segment; the new segment would start where that
shift began.
"""
from __future__ import annotations

import numpy as np

from server.assessment.limits import Limits


def ongoing_shift_start(shift_high: np.ndarray, shift_low: np.ndarray, limits: Limits) -> np.ndarray:
    """Per series, the period a shift still going at the latest observed point began (-1: none)."""
    n_series, n_periods = shift_high.shape
    if n_periods == 0:
        return np.full(n_series, -1)
    index = np.broadcast_to(np.arange(n_periods), shift_high.shape)
    starts = []
    for flags in (shift_high, shift_low):
        linked = np.zeros_like(flags)
        linked[:, 1:] = flags[:, 1:] & flags[:, :-1] & ~limits.segment_start[:, 1:]
        starts.append(np.maximum.accumulate(np.where(linked, 0, index), axis=1))
    rows = np.arange(n_series)
    latest = n_periods - 1 - np.argmax(limits.observed[:, ::-1], axis=1)
    start = np.where(shift_high[rows, latest], starts[0][rows, latest], np.where(shift_low[rows, latest], starts[1][rows, latest], -1))
    return np.where(limits.observed.any(axis=1), start, -1)
