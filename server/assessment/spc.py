"""Making Data Count SPC for a batch of series: limits, special causes, variation and assurance.

    batch = compute_spc(values, polarity, target, rebase=None, parameters=SpcParameters())

``values`` is series x periods (NaN = missing), ``polarity`` +1 higher is better, -1 lower is
better, 0 neutral; ``target`` one per series (NaN = none); ``rebase`` optional boolean
series x periods, True where a new baseline starts (``rebase_mask`` builds it from period
indexes). Follows NHSRplotthedots 0.2.x (see params.py and METHOD.md for sources and departures):

* point type (R ptd_point_type): the rule that fires first in the order astronomical, trend,
  two-in-three, shift gives the point's direction (above / below the mean; a trend point takes its
  trend's direction); the direction against polarity gives improvement / concern; neutral
  polarity gives special_cause_neutral;
* variation verdict: the point type of the latest observed point (R takes the last row);
* assurance verdict (R ptd_calculate_assurance_type): target versus the latest period's limits —
  higher is better: target > upper → consistently_fail, target < lower → consistently_pass,
  otherwise hit_and_miss (mirrored for lower is better); none without target or with neutral
  polarity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment import codes, rules
from server.assessment.limits import Limits, compute_limits
from server.assessment.params import SpcParameters


@dataclass(frozen=True)
class SpcBatch:
    """SPC results for a batch; per-point arrays are series x periods, verdicts one per series."""

    values: np.ndarray
    polarity: np.ndarray  # int8 per series
    target: np.ndarray  # float per series, NaN = none
    parameters: SpcParameters
    limits: Limits
    astronomical: np.ndarray  # bool per point: the rule fired at the point (any side)
    trend: np.ndarray
    two_in_three: np.ndarray
    shift: np.ndarray
    rule: np.ndarray  # int8 per point: codes.RULES, the rule that decides the point's direction
    direction: np.ndarray  # int8 per point: +1 high, -1 low, 0 none
    point_type: np.ndarray  # int8 per point: codes.POINT_TYPES
    variation: np.ndarray  # int8 per series: codes.VARIATIONS
    variation_index: np.ndarray  # int per series: period of the latest observed point, -1 if none
    assurance: np.ndarray  # int8 per series: codes.ASSURANCES

    @property
    def n_series(self) -> int:
        return int(self.values.shape[0])

    def variation_words(self) -> list[str]:
        return codes.labels(self.variation, codes.VARIATIONS)

    def assurance_words(self) -> list[str]:
        return codes.labels(self.assurance, codes.ASSURANCES)

    def explain(self, series_index: int) -> dict[str, Any]:
        """JSON-serialisable evidence for one series: points, limits per point, rules, verdicts."""
        from server.assessment.evidence import explain_spc

        return explain_spc(self, series_index)


def rebase_mask(n_series: int, n_periods: int, rebase_periods: dict[int, list[int]]) -> np.ndarray:
    """Boolean series x periods from ``{series index: [period indexes where a baseline starts]}``."""
    mask = np.zeros((n_series, n_periods), dtype=bool)
    for series_index, periods in rebase_periods.items():
        mask[series_index, periods] = True
    return mask


def compute_spc(
    values: np.ndarray,
    polarity: np.ndarray,
    target: np.ndarray | None = None,
    *,
    rebase: np.ndarray | None = None,
    parameters: SpcParameters = SpcParameters(),
) -> SpcBatch:
    """SPC for every series of ``values`` at once (see the module docstring)."""
    values = _as_series_matrix(values)
    n_series, n_periods = values.shape
    polarity = np.sign(np.broadcast_to(np.asarray(polarity), (n_series,))).astype(np.int8)
    target = np.full(n_series, np.nan) if target is None else np.broadcast_to(np.asarray(target, dtype=float), (n_series,)).copy()

    limits = compute_limits(values, rebase, parameters)
    side = rules.side_of_mean(values, limits)
    above_limit, below_limit = rules.astronomical(values, limits)
    rising, falling = rules.trend(values, limits, parameters.trend_length)
    if parameters.two_in_three:
        two_high, two_low = rules.two_in_three(values, side, limits, parameters.two_in_three_counts_beyond_limits)
    else:
        two_high = two_low = np.zeros(values.shape, dtype=bool)
    shift_high, shift_low = rules.shift(side, limits, parameters.run_length)

    rule, direction = _decide_direction(
        values,
        polarity,
        parameters,
        fired=[
            (codes.ASTRONOMICAL, above_limit, below_limit, None),
            (codes.TREND, rising, falling, _trend_direction(values, rising, falling)),
            (codes.TWO_IN_THREE, two_high, two_low, None),
            (codes.SHIFT, shift_high, shift_low, None),
        ],
    )
    point_type = _point_type(limits, rule, direction, polarity)
    variation, variation_index = _variation(point_type, limits.observed)
    return SpcBatch(
        values=values,
        polarity=polarity,
        target=target,
        parameters=parameters,
        limits=limits,
        astronomical=above_limit | below_limit,
        trend=rising | falling,
        two_in_three=two_high | two_low,
        shift=shift_high | shift_low,
        rule=rule,
        direction=direction,
        point_type=point_type,
        variation=variation,
        variation_index=variation_index,
        assurance=_assurance(limits, polarity, target, parameters.assurance_inclusive_limits),
    )


def _as_series_matrix(values: np.ndarray) -> np.ndarray:
    values = np.array(values, dtype=float, ndmin=2)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError("values must be series x periods with at least one period")
    if np.isinf(values).any():
        raise ValueError("values must be finite or NaN (missing)")
    return values


def _trend_direction(values: np.ndarray, rising: np.ndarray, falling: np.ndarray) -> np.ndarray:
    """+1 / -1 for trend points. A point ending one trend and starting the opposite one (a peak or
    trough) takes the later trend's direction, as R's "use right side" intends (see METHOD.md)."""
    next_step = np.zeros(values.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        next_step[:, :-1] = np.nan_to_num(np.sign(values[:, 1:] - values[:, :-1])).astype(np.int8)
    return np.where(rising & falling, next_step, np.where(rising, 1, np.where(falling, -1, 0))).astype(np.int8)


FiredRule = tuple[int, np.ndarray, np.ndarray, np.ndarray | None]  # code, high, low, own direction


def _decide_direction(
    values: np.ndarray, polarity: np.ndarray, parameters: SpcParameters, fired: list[FiredRule]
) -> tuple[np.ndarray, np.ndarray]:
    """Rule code and direction per point: the first rule in precedence order decides (R
    ``case_when``); with ``improvement_wins`` any rule pointing the improving way decides."""
    rule = np.zeros(values.shape, dtype=np.int8)
    direction = np.zeros(values.shape, dtype=np.int8)
    any_high = np.zeros(values.shape, dtype=bool)
    any_low = np.zeros(values.shape, dtype=bool)
    for code, high, low, own_direction in reversed(fired):
        this = high | low
        rule = np.where(this, code, rule)
        this_direction = own_direction if own_direction is not None else np.where(high, 1, -1)
        direction = np.where(this, this_direction, direction)
        any_high |= high
        any_low |= low
    if parameters.conflicting_signals == "improvement_wins":
        wanted = polarity[:, None]
        improving = ((wanted > 0) & any_high) | ((wanted < 0) & any_low)
        direction = np.where(improving, wanted, direction)
    return rule, direction.astype(np.int8)


def _point_type(limits: Limits, rule: np.ndarray, direction: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    wanted = polarity[:, None]
    point_type = np.where(direction == wanted, codes.IMPROVEMENT, codes.CONCERN)
    point_type = np.where(wanted == 0, codes.NEUTRAL, point_type)
    point_type = np.where(rule == codes.NO_RULE, codes.COMMON_CAUSE, point_type)
    point_type = np.where(limits.shown, point_type, codes.NOT_ASSESSED)
    return np.where(limits.observed, point_type, codes.MISSING).astype(np.int8)


_VARIATION_OF_POINT_TYPE = np.array(
    [0, 1, 2, 3, codes.VARIATION_NONE, codes.VARIATION_NONE], dtype=np.int8
)  # indexed by codes.POINT_TYPES


def _variation(point_type: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_periods = observed.shape[1]
    latest = n_periods - 1 - np.argmax(observed[:, ::-1], axis=1)
    latest = np.where(observed.any(axis=1), latest, -1)
    latest_type = point_type[np.arange(len(latest)), np.maximum(latest, 0)]
    variation = np.where(latest >= 0, _VARIATION_OF_POINT_TYPE[latest_type], codes.VARIATION_NONE)
    return variation.astype(np.int8), latest


def _assurance(limits: Limits, polarity: np.ndarray, target: np.ndarray, inclusive: bool) -> np.ndarray:
    upper, lower = limits.upper[:, -1], limits.lower[:, -1]
    with np.errstate(invalid="ignore"):
        above_upper = target >= upper if inclusive else target > upper
        below_lower = target <= lower if inclusive else target < lower
    # R checks "target > upl" first; the order matters only when both hold (limits collapsed).
    higher_better = np.where(above_upper, codes.CONSISTENTLY_FAIL, np.where(below_lower, codes.CONSISTENTLY_PASS, codes.HIT_AND_MISS))
    lower_better = np.where(above_upper, codes.CONSISTENTLY_PASS, np.where(below_lower, codes.CONSISTENTLY_FAIL, codes.HIT_AND_MISS))
    assurance = np.where(polarity > 0, higher_better, lower_better)
    assessable = (polarity != 0) & ~np.isnan(target) & limits.shown[:, -1]
    return np.where(assessable, assurance, codes.ASSURANCE_NONE).astype(np.int8)
