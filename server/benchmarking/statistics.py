"""Quartiles, ranks and the quarter an organisation falls in, given the indicator's polarity.

Method (stated on the page and in the API):
- Quartiles are numpy percentiles 25, 50 and 75 with ``method="linear"``: Hyndman and Fan type 7,
  numpy's and R's default and Excel's QUARTILE.INC. Over one value, each quartile is that value.
- Rank 1 is the best by polarity (the highest value when higher is better); equal values share the
  better rank ("1, 2, 2, 4").
- Quarter 1 is the best quarter. Higher is better: at or above the upper quartile is quarter 1, at or
  above the median quarter 2, at or above the lower quartile quarter 3, else 4 (lower is better
  mirrors it). A value on a boundary counts in the better quarter.
- Neutral polarity (neither direction is better): quartiles, but no rank or quarter.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

QUARTILE_METHOD = "linear"
METHOD_WORDS = (
    "Quartiles are the 25th, 50th and 75th percentiles of the organisations with a value, by linear "
    "interpolation between closest ranks (numpy's 'linear' method, Hyndman and Fan type 7, as Excel's "
    "QUARTILE.INC). Rank 1 and quarter 1 are the best by the indicator's polarity; equal values share a "
    "rank, and a value on a quartile counts in the better quarter."
)
POLARITY_SIGN = {"higher_is_better": 1, "lower_is_better": -1}


@dataclass(frozen=True)
class Quartiles:
    lower: float
    median: float
    upper: float


def quartiles(values: Sequence[float]) -> Quartiles | None:
    if not values:
        return None
    lower, median, upper = np.percentile(np.asarray(values, dtype=float), [25, 50, 75], method=QUARTILE_METHOD)
    return Quartiles(float(lower), float(median), float(upper))


def ranks(values: Sequence[float], polarity: str) -> list[int | None]:
    """Competition ranks, 1 = best by polarity; None for every value when the polarity is neutral."""
    sign = POLARITY_SIGN.get(polarity)
    if sign is None:
        return [None] * len(values)
    scores = np.asarray(values, dtype=float) * sign
    # The rank of a value is one more than the number of values strictly better than it.
    return [int((scores > score).sum()) + 1 for score in scores]


def quarter(value: float, found: Quartiles, polarity: str) -> int | None:
    """1 = the best quarter by polarity; None when the polarity is neutral."""
    sign = POLARITY_SIGN.get(polarity)
    if sign is None:
        return None
    if sign > 0:
        return 1 if value >= found.upper else 2 if value >= found.median else 3 if value >= found.lower else 4
    return 1 if value <= found.lower else 2 if value <= found.median else 3 if value <= found.upper else 4
