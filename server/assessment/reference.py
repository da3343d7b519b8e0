"""Plain per-series Python implementation of the same SPC rules, written the way the R package
reads (windows checked point by point), with no numpy arrays (R's mean needs numpy's long double
scalar: arithmetic.r_mean_of).

It is the yardstick for the vectorised engine: tests check both agree on random series, and the
benchmark times it as the loop the engine replaces. Keep it obvious rather than fast.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from server.assessment.arithmetic import r_mean_of
from server.assessment.params import LIMIT_MULTIPLIER, SCREENING_MULTIPLIER, TWO_SIGMA_MULTIPLIER, SpcParameters

NAN = float("nan")


@dataclass
class ReferenceSeries:
    mean: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    astronomical: list[bool] = field(default_factory=list)
    trend: list[bool] = field(default_factory=list)
    two_in_three: list[bool] = field(default_factory=list)
    shift: list[bool] = field(default_factory=list)
    point_type: list[str] = field(default_factory=list)
    assessed: list[bool] = field(default_factory=list)
    variation: str = "none"
    assurance: str = "none"


def spc_series(
    values: list[float],
    polarity: int,
    target: float = NAN,
    rebase_periods: tuple[int, ...] = (),
    parameters: SpcParameters = SpcParameters(),
) -> ReferenceSeries:
    """SPC for one series (same contract as ``compute_spc`` for one row)."""
    result = ReferenceSeries()
    starts = sorted({0, *rebase_periods})
    bounds = list(zip(starts, starts[1:] + [len(values)]))
    for first, end in bounds:
        _segment(values[first:end], polarity, parameters, result)
    result.variation = _variation(result.point_type, result.assessed, parameters)
    result.assurance = _assurance(result.lower[-1], result.upper[-1], result.assessed[-1], polarity, target, parameters)
    return result


def _segment(y: list[float], polarity: int, parameters: SpcParameters, result: ReferenceSeries) -> None:
    present = [not math.isnan(v) for v in y]
    baseline = []
    for i in range(len(y)):
        taken = i + 1 if parameters.points_counted == "rows" else sum(present[: i + 1])
        in_fix = parameters.fix_after_points is None or taken <= parameters.fix_after_points
        baseline.append(present[i] and in_fix)
    base_values = [v for v, b in zip(y, baseline) if b]
    mean = r_mean_of(base_values)
    ranges = [abs(y[i] - y[i - 1]) for i in range(1, len(y)) if baseline[i] and baseline[i - 1]]
    spread = r_mean_of(ranges)
    if parameters.screen_moving_ranges:
        keep_zero = parameters.constant_baseline == "limits_on_mean" and spread == 0
        spread = r_mean_of([r for r in ranges if r < SCREENING_MULTIPLIER * spread or keep_zero])
    counted = len(y) if parameters.points_counted == "rows" else len(base_values)
    hidden = parameters.below_minimum == "not_shown" and counted < parameters.minimum_points
    shown = not math.isnan(spread) and not hidden
    assessed = shown if parameters.without_limits == "not_assessed" else not hidden
    if not assessed:
        mean = NAN
    if not shown:
        spread = NAN
    lower, upper = mean - LIMIT_MULTIPLIER * spread, mean + LIMIT_MULTIPLIER * spread
    lower2, upper2 = mean - TWO_SIGMA_MULTIPLIER * spread, mean + TWO_SIGMA_MULTIPLIER * spread

    n = len(y)
    side = [0 if not present[i] or math.isnan(mean) else (1 if y[i] > mean else -1 if y[i] < mean else 0) for i in range(n)]
    above = [shown and present[i] and y[i] > upper for i in range(n)]
    below = [shown and present[i] and y[i] < lower for i in range(n)]

    # Shift: any window of run_length points with the same non-zero side (ptd_seven_point_one_side_mean).
    shift_dir = [0] * n
    k = parameters.run_length
    for end in range(k - 1, n):
        window = side[end - k + 1 : end + 1]
        if window[0] != 0 and all(s == window[0] for s in window):
            for i in range(end - k + 1, end + 1):
                shift_dir[i] = window[0]

    # Trend: any window of trend_length points with every step the same strict sign (ptd_seven_point_trend).
    rising, falling = [False] * n, [False] * n
    k = parameters.trend_length
    for end in range(k - 1, n):
        idx = range(end - k + 1, end + 1)
        if not assessed or not all(present[i] for i in idx):
            continue
        steps = [y[i] - y[i - 1] for i in list(idx)[1:]]
        for flags, ok in ((rising, all(d > 0 for d in steps)), (falling, all(d < 0 for d in steps))):
            if ok:
                for i in idx:
                    flags[i] = True
    trend_dir = []
    for i in range(n):
        if not (rising[i] or falling[i]):
            trend_dir.append(0)
        elif parameters.trend_direction == "own_trend":
            if rising[i] and falling[i]:
                trend_dir.append(1 if y[i + 1] > y[i] else -1)  # a peak or trough: the later trend
            else:
                trend_dir.append(1 if rising[i] else -1)
        else:  # R: "if a point is part of a trend either side, use right side"; not up reads "Decreasing"
            next_in_trend = i + 1 < n and (rising[i + 1] or falling[i + 1])
            step = y[i + 1] - y[i] if next_in_trend else (y[i] - y[i - 1] if i > 0 else 0.0)
            trend_dir.append(1 if step > 0 else -1)

    # Two in three (ptd_two_in_three + ptd_part_of_two_in_three).
    def near(i: int, direction: int) -> bool:
        if not (shown and present[i]):
            return False
        beyond_two = y[i] > upper2 if direction > 0 else y[i] < lower2
        beyond_three = y[i] > upper if direction > 0 else y[i] < lower
        return beyond_two and (parameters.two_in_three_counts_beyond_limits or not beyond_three)

    two_dir = [0] * n
    if parameters.two_in_three:
        for first in range(n - 2):
            for direction in (1, -1):
                window = range(first, first + 3)
                if all(side[i] == direction for i in window) and sum(near(i, direction) for i in window) >= 2:
                    for i in window:
                        if near(i, direction):
                            two_dir[i] = direction

    for i in range(n):
        fired = []  # (rule, direction) in precedence order
        if above[i] or below[i]:
            fired.append(("astronomical", 1 if above[i] else -1))
        if trend_dir[i]:
            fired.append(("trend", trend_dir[i]))
        if two_dir[i]:
            fired.append(("two_in_three", two_dir[i]))
        if shift_dir[i]:
            fired.append(("shift", shift_dir[i]))
        # Every direction any rule points at this point (a peak or trough is in both trends).
        pointing = {d for _, d in fired} | ({1} if rising[i] else set()) | ({-1} if falling[i] else set())
        result.point_type.append(_point_type(present[i], assessed, fired, pointing, polarity, parameters))
        result.assessed.append(assessed)
        result.astronomical.append(above[i] or below[i])
        result.trend.append(bool(trend_dir[i]))
        result.two_in_three.append(bool(two_dir[i]))
        result.shift.append(bool(shift_dir[i]))
        result.mean.append(mean)
        result.lower.append(lower)
        result.upper.append(upper)


def _point_type(
    present: bool, assessed: bool, fired: list[tuple[str, int]], pointing: set[int], polarity: int, parameters: SpcParameters
) -> str:
    if not present:
        return "missing"
    if not assessed:
        return "not_assessed"
    if not fired:
        return "common_cause"
    if polarity == 0:
        return "special_cause_neutral"
    direction = fired[0][1]
    if parameters.conflicting_signals == "improvement_wins" and polarity in pointing:
        direction = polarity
    return "special_cause_improvement" if direction == polarity else "special_cause_concern"


def _variation(point_types: list[str], assessed: list[bool], parameters: SpcParameters) -> str:
    words = {
        "common_cause": "common_cause",
        "special_cause_improvement": "special_cause_improving",
        "special_cause_concern": "special_cause_concerning",
        "special_cause_neutral": "special_cause_neutral",
    }
    if all(point_type == "missing" for point_type in point_types):
        return "none"
    if parameters.variation_from == "last_row":
        if point_types[-1] == "missing":  # R: an NA row has no special cause
            return "common_cause" if assessed[-1] else "none"
        return words.get(point_types[-1], "none")
    latest = next(point_type for point_type in reversed(point_types) if point_type != "missing")
    return words.get(latest, "none")


def _assurance(lower: float, upper: float, assessed: bool, polarity: int, target: float, parameters: SpcParameters) -> str:
    if polarity == 0 or math.isnan(target) or not assessed:
        return "none"
    inclusive = parameters.assurance_inclusive_limits
    above = target >= upper if inclusive else target > upper  # False against NaN, as R's case_when
    below = target <= lower if inclusive else target < lower
    if above:
        return "consistently_fail" if polarity > 0 else "consistently_pass"
    if below:
        return "consistently_pass" if polarity > 0 else "consistently_fail"
    return "hit_and_miss"


def consecutive_periods_under_target(values: list[float], target: float, polarity: int, missing_breaks_run: bool = True) -> int:
    """Latest consecutive periods failing the target, counting back from the last period."""
    count = 0
    for value in reversed(values):
        if math.isnan(value):
            if missing_breaks_run:
                break
            continue
        failing = (polarity > 0 and value < target) or (polarity < 0 and value > target)
        if not failing:
            break
        count += 1
    return count
