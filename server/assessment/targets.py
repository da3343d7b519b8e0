"""Whether a value meets its target, by polarity: the one definition every rule shares.

Meeting a target exactly counts as meeting it: national standards are phrased "at least 95%" or
"no more than 18 weeks". A missing value, a missing target or a neutral polarity neither meets nor
fails.
"""
from __future__ import annotations

import numpy as np


def meets_target(values: np.ndarray, targets: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """True where the value is at least as good as the target (broadcasts its arguments)."""
    values, targets, polarity = np.broadcast_arrays(
        np.asarray(values, dtype=float), np.asarray(targets, dtype=float), np.asarray(polarity)
    )
    return ((polarity > 0) & (values >= targets)) | ((polarity < 0) & (values <= targets))


def fails_target(values: np.ndarray, targets: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """True where the value is worse than the target (comparisons with NaN are False)."""
    values, targets, polarity = np.broadcast_arrays(
        np.asarray(values, dtype=float), np.asarray(targets, dtype=float), np.asarray(polarity)
    )
    return ((polarity > 0) & (values < targets)) | ((polarity < 0) & (values > targets))
