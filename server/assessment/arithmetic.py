"""R's ``mean()``, so that a point on the mean, or a target on a limit, is on it exactly as in R.

R (src/main/summary.c, ``real_mean``) adds the values one by one in long double, divides by n,
then adds the mean of the residuals, ``sum(x - s) / n``, also accumulated in long double, and
rounds once to double. A plain double sum can differ in the last bit: the mean of 2.2, 2.6 and
2.4 is 2.3999999999999995 by ``sum(x) / n`` and exactly 2.4 in R.

numpy's ``longdouble`` is the platform's C long double, the type R's ``LDOUBLE`` is on the same
platform (80-bit extended on x86-64 Linux). ``cumsum`` adds strictly left to right, as R's loop
does (``np.sum`` adds pairwise, which is not R's order), and adding an exact zero for a value
that is not in the mean leaves a long-double total unchanged.
"""
from __future__ import annotations

import numpy as np


def r_mean_by_segment(values: np.ndarray, use: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Per point, R's mean of the used values of the point's segment (NaN where none is used).

    ``values``, ``use`` and ``segment`` are series x periods; segments are numbered 0, 1, ... along
    each series.
    """
    mean = np.full(values.shape, np.nan)
    for number in range(int(segment.max(initial=-1)) + 1):
        in_segment = use & (segment == number)
        segment_mean = r_mean(values, in_segment)
        mean = np.where(segment == number, segment_mean[:, None], mean)
    return mean


def r_mean(values: np.ndarray, use: np.ndarray) -> np.ndarray:
    """R's ``mean(x[use])`` for each row of a series x periods array (NaN for a row using nothing)."""
    count = use.sum(axis=1)
    terms = np.where(use, values, 0.0).astype(np.longdouble)
    with np.errstate(invalid="ignore", divide="ignore"):
        first_pass = _left_to_right_sum(terms) / count
        residuals = np.where(use, terms - first_pass[:, None], np.longdouble(0))
        mean = (first_pass + _left_to_right_sum(residuals) / count).astype(float)
    return np.where(count > 0, mean, np.nan)


def _left_to_right_sum(terms: np.ndarray) -> np.ndarray:
    if terms.shape[1] == 0:
        return np.zeros(terms.shape[0], dtype=np.longdouble)
    return np.cumsum(terms, axis=1)[:, -1]


def r_mean_of(values: list[float]) -> float:
    """R's ``mean()`` of one list of values, for the plain reference implementation."""
    if not values:
        return float("nan")
    total = np.longdouble(0)
    for value in values:
        total += np.longdouble(value)
    total /= len(values)
    residual = np.longdouble(0)
    for value in values:
        residual += np.longdouble(value) - total
    return float(total + residual / len(values))
