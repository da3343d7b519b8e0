"""Roll-up of measures up a unit tree and across organisations (DOMAIN 4.2, ULHT 2.1).

Methods (the indicator's ``roll_up`` in the tenant file):

* ``sum``  — counts add up;
* ``rate`` — sum(numerators) / sum(denominators), never an average of percentages; a zero
  denominator gives no value;
* ``max`` / ``min`` — "longest wait" style measures take the extreme;
* ``none`` — cannot be rolled up: the result says so (``available`` False, values NaN) rather than
  inventing a number.

With ``require_complete`` (default) a parent has no value for a period unless every child
reported; the number of children reporting is always part of the evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment.evidence import number
from server.assessment.params import RollupParameters

ROLLUP_METHODS = ("sum", "rate", "max", "min", "none")
NOT_ROLLED_UP = "the indicator's roll-up method is 'none': it cannot be aggregated"


@dataclass(frozen=True)
class RollupResult:
    """One aggregate over children, per period."""

    method: str
    available: bool
    values: np.ndarray  # per period; NaN where unavailable or incomplete
    numerator: np.ndarray | None  # rate only: summed numerators
    denominator: np.ndarray | None
    children: int
    children_reporting: np.ndarray  # int per period
    reason: str | None
    parameters: RollupParameters

    def explain(self, period: int) -> dict[str, Any]:
        return {
            "rule_set": self.parameters.describe(),
            "method": self.method,
            "available": self.available,
            "reason": self.reason,
            "value": number(self.values[period]),
            "numerator": None if self.numerator is None else number(self.numerator[period]),
            "denominator": None if self.denominator is None else number(self.denominator[period]),
            "children": self.children,
            "children_reporting": int(self.children_reporting[period]),
        }


def rollup(
    method: str,
    children_values: np.ndarray | None = None,
    children_numerators: np.ndarray | None = None,
    children_denominators: np.ndarray | None = None,
    parameters: RollupParameters = RollupParameters(),
) -> RollupResult:
    """Aggregate children (children x periods arrays) into one series, vectorised over periods."""
    check_method(method)
    if method == "rate":
        numerators = np.atleast_2d(np.asarray(children_numerators, dtype=float))
        denominators = np.atleast_2d(np.asarray(children_denominators, dtype=float))
        reporting = ~np.isnan(numerators) & ~np.isnan(denominators)
    else:
        values = np.atleast_2d(np.asarray(children_values, dtype=float))
        reporting = ~np.isnan(values)
    n_children = reporting.shape[0]
    counted = reporting.sum(axis=0)
    complete = (counted > 0) & ((counted == n_children) | (not parameters.require_complete))
    if method == "none":
        nothing = np.full(reporting.shape[1], np.nan)
        return RollupResult(method, False, nothing, None, None, n_children, counted, NOT_ROLLED_UP, parameters)
    if method == "rate":
        numerator = np.where(reporting, numerators, 0.0).sum(axis=0)
        denominator = np.where(reporting, denominators, 0.0).sum(axis=0)
        rate = ratio(numerator, denominator)
        return RollupResult(method, True, np.where(complete, rate, np.nan), numerator, denominator, n_children, counted, None, parameters)
    if method == "sum":
        total = np.where(reporting, values, 0.0).sum(axis=0)
    else:
        extreme = np.fmax if method == "max" else np.fmin
        total = extreme.reduce(values, axis=0) if n_children else np.full(reporting.shape[1], np.nan)
    return RollupResult(method, True, np.where(complete, total, np.nan), None, None, n_children, counted, None, parameters)


def check_method(method: str) -> None:
    if method not in ROLLUP_METHODS:
        raise ValueError(f"unknown roll-up method {method!r}; expected one of {ROLLUP_METHODS}")


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator != 0, numerator / np.where(denominator != 0, denominator, 1.0), np.nan)
