"""Making Data Count SPC for a batch of series: limits, special causes, variation and assurance.

    batch = compute_spc(values, polarity, target, rebase=None, parameters=SpcParameters())

``values`` is series x periods (NaN = missing), ``polarity`` +1 higher is better, -1 lower is
better, 0 neutral; ``target`` one per series (NaN = none); ``rebase`` optional boolean
series x periods, True where a new baseline starts (``rebase_mask`` builds it from period
indexes). Each period is a row, as a row of R's data frame. By default this is NHSRplotthedots
0.2.x on every edge; params.py lists the settings and METHOD.md the reasons:

* point type (R ptd_special_cause_type): the rule that fires first in the order astronomical,
  trend, two-in-three, shift gives the point's direction (above / below the mean; a trend point
  takes the step to the next point when that point is in a trend too, else the step from the
  previous one: R's "use right side"); the direction against polarity gives improvement /
  concern; neutral polarity gives special_cause_neutral;
* variation verdict: the point type of the last row (R), where a missing row is common cause;
* assurance verdict (R ptd_calculate_assurance_type): target versus the last row's limits —
  higher is better: target > upper → consistently_fail, target < lower → consistently_pass,
  otherwise hit_and_miss (mirrored for lower is better), so no limits gives hit_and_miss; none
  without target or with neutral polarity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment import codes, rules
from server.assessment.limits import Limits, compute_limits
from server.assessment.params import SpcParameters
from server.assessment.recalculation import ongoing_shift_start


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
    variation_index: np.ndarray  # int per series: the period the verdict is read from, -1 if none
    assurance: np.ndarray  # int8 per series: codes.ASSURANCES
    recalculation_from: np.ndarray  # int per series: start of a shift still going (a candidate to rebase), -1 if none

    @property
    def n_series(self) -> int:
        return int(self.values.shape[0])

    def variation_words(self) -> list[str]:
        return codes.labels(self.variation, codes.VARIATIONS)

    def assurance_words(self) -> list[str]:
        return codes.labels(self.assurance, codes.ASSURANCES)

    def explain(self, series_index: int, with_points: bool = True) -> dict[str, Any]:
        """JSON-serialisable evidence for one series: points, limits per point, rules, verdicts.

        ``with_points=False``: without the per-point list (the store keeps points column-wise)."""
        from server.assessment.evidence import explain_spc

        return explain_spc(self, series_index, with_points)


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
            (codes.TREND, rising, falling, _trend_direction(values, rising, falling, limits, parameters)),
            (codes.TWO_IN_THREE, two_high, two_low, None),
            (codes.SHIFT, shift_high, shift_low, None),
        ],
    )
    point_type = _point_type(limits, rule, direction, polarity)
    variation, variation_index = _variation(point_type, limits, parameters)
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
        recalculation_from=ongoing_shift_start(shift_high, shift_low, limits),
    )


def _as_series_matrix(values: np.ndarray) -> np.ndarray:
    values = np.array(values, dtype=float, ndmin=2)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError("values must be series x periods with at least one period")
    if np.isinf(values).any():
        raise ValueError("values must be finite or NaN (missing)")
    return values


def _trend_direction(
    values: np.ndarray, rising: np.ndarray, falling: np.ndarray, limits: Limits, parameters: SpcParameters
) -> np.ndarray:
    """+1 / -1 for trend points.

    R (``right_side``): where the next point of the segment is also in a trend, the step to it;
    otherwise the step from the previous point; a step that is not up reads "Decreasing" (R
    ``ifelse(sdy == 1, "In", "De")``), so a tie counts as down. ``own_trend``: each point takes its
    own trend's direction, and only a peak or trough, in both, takes the later one.
    """
    next_step = np.zeros(values.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        next_step[:, :-1] = np.nan_to_num(np.sign(values[:, 1:] - values[:, :-1])).astype(np.int8)
    in_trend = rising | falling
    if parameters.trend_direction == "own_trend":
        own = np.where(rising & falling, next_step, np.where(rising, 1, np.where(falling, -1, 0)))
        return own.astype(np.int8)
    previous_step = np.zeros(values.shape, dtype=np.int8)
    previous_step[:, 1:] = np.where(limits.segment_start[:, 1:], 0, next_step[:, :-1])
    next_in_trend = np.zeros(values.shape, dtype=bool)
    next_in_trend[:, :-1] = in_trend[:, 1:] & ~limits.segment_start[:, 1:]
    step = np.where(next_in_trend, next_step, previous_step)
    return np.where(in_trend, np.where(step == 1, 1, -1), 0).astype(np.int8)


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
    point_type = np.where(limits.assessed, point_type, codes.NOT_ASSESSED)
    return np.where(limits.observed, point_type, codes.MISSING).astype(np.int8)


_VARIATION_OF_POINT_TYPE = np.array(
    [0, 1, 2, 3, codes.VARIATION_NONE, codes.VARIATION_NONE], dtype=np.int8
)  # indexed by codes.POINT_TYPES


def _variation(point_type: np.ndarray, limits: Limits, parameters: SpcParameters) -> tuple[np.ndarray, np.ndarray]:
    """The verdict and the period it is read from: the last row (R, ``last_row``; a missing row has
    no special cause, so it is common cause where its segment is assessed) or the latest observed
    point (``latest_observed``). A series with no value at all has no verdict."""
    observed = limits.observed
    n_series, n_periods = observed.shape
    any_observed = observed.any(axis=1)
    if parameters.variation_from == "last_row":
        latest = np.full(n_series, n_periods - 1)
    else:
        latest = n_periods - 1 - np.argmax(observed[:, ::-1], axis=1)
    latest = np.where(any_observed, latest, -1)
    rows = np.arange(n_series)
    latest_type = point_type[rows, np.maximum(latest, 0)]
    missing_as_common = (latest_type == codes.MISSING) & limits.assessed[rows, np.maximum(latest, 0)]
    latest_type = np.where(missing_as_common, codes.COMMON_CAUSE, latest_type)
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
    # A last row without limits compares with NaN: neither holds, so R says "inconsistent".
    assessable = (polarity != 0) & ~np.isnan(target) & limits.assessed[:, -1]
    return np.where(assessable, assurance, codes.ASSURANCE_NONE).astype(np.int8)
