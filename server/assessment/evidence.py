"""Evidence for one SPC series as plain JSON: what data, which rule, which parameters (DOMAIN 5)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from server.assessment import codes
from server.assessment.method import describe_method

if TYPE_CHECKING:
    from server.assessment.spc import SpcBatch


def number(value: Any) -> float | int | None:
    """A JSON-safe number: NaN becomes None, numpy scalars become Python ones."""
    if value is None:
        return None
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def explain_spc(batch: SpcBatch, series_index: int, with_points: bool = True) -> dict[str, Any]:
    limits = batch.limits
    s = series_index
    polarity = int(batch.polarity[s])
    return {
        "rule_set": batch.parameters.describe(),
        "method": describe_method(batch.parameters),
        "polarity": polarity,
        "target": number(batch.target[s]),
        **({"points": _points(batch, s)} if with_points else {}),
        "segments": _segments(batch, s),
        "rules_fired": {
            "astronomical": _indexes(batch.astronomical[s]),
            "trend": _indexes(batch.trend[s]),
            "two_in_three": _indexes(batch.two_in_three[s]),
            "shift": _indexes(batch.shift[s]),
        },
        "variation": {
            "verdict": codes.VARIATIONS[batch.variation[s]],
            "from_point": number(batch.variation_index[s]) if batch.variation_index[s] >= 0 else None,
            "reason": _variation_reason(batch, s),
        },
        "recalculation": _recalculation(batch, s),
        "assurance": {
            "verdict": codes.ASSURANCES[batch.assurance[s]],
            "target": number(batch.target[s]),
            "lower_limit": number(limits.lower[s, -1]),
            "upper_limit": number(limits.upper[s, -1]),
            "limit_equality_counts": batch.parameters.assurance_inclusive_limits,
            "reason": _assurance_reason(batch, s),
        },
    }


def _points(batch: SpcBatch, s: int) -> list[dict[str, Any]]:
    """Every point of one series. Each array is turned into Python values once per series (not once
    per point and field: 15,000 numpy scalar conversions per organisation dominated deriving)."""
    limits = batch.limits
    value, mean, lower, upper = _floats(batch.values[s]), _floats(limits.mean[s]), _floats(limits.lower[s]), _floats(limits.upper[s])
    lower_two, upper_two, moving_range = _floats(limits.lower_two_sigma[s]), _floats(limits.upper_two_sigma[s]), _floats(limits.moving_range[s])
    segment, baseline, excluded = limits.segment[s].tolist(), limits.baseline[s].tolist(), limits.moving_range_excluded[s].tolist()
    rule, direction, point_type = batch.rule[s].tolist(), batch.direction[s].tolist(), batch.point_type[s].tolist()
    flags = [(name, array[s].tolist()) for name, array in _rule_flags(batch)]
    return [
        {
            "index": t, "value": value[t], "segment": segment[t], "in_baseline": baseline[t], "mean": mean[t],
            "lower_limit": lower[t], "upper_limit": upper[t], "lower_two_sigma": lower_two[t], "upper_two_sigma": upper_two[t],
            "moving_range": moving_range[t], "moving_range_excluded": excluded[t],
            "rules": [name for name, fired in flags if fired[t]],
            "deciding_rule": codes.RULES[rule[t]], "direction": direction[t], "point_type": codes.POINT_TYPES[point_type[t]],
        }
        for t in range(len(value))
    ]


def _floats(array: np.ndarray) -> list[float | None]:
    """As ``number`` for a whole row: NaN becomes None."""
    return [None if x != x else x for x in array.tolist()]


def _rule_flags(batch: SpcBatch) -> list[tuple[str, np.ndarray]]:
    return [
        ("astronomical", batch.astronomical),
        ("trend", batch.trend),
        ("two_in_three", batch.two_in_three),
        ("shift", batch.shift),
    ]


def _segments(batch: SpcBatch, s: int) -> list[dict[str, Any]]:
    limits = batch.limits
    starts = np.flatnonzero(limits.segment_start[s]).tolist()
    ends = [start - 1 for start in starts[1:]] + [batch.values.shape[1] - 1]
    return [
        {
            "first_period": start,
            "last_period": end,
            "baseline_periods": _indexes(limits.baseline[s, start : end + 1], offset=start),
            "rows": int(limits.rows[s, start]),
            "baseline_points": int(limits.baseline_points[s, start]),
            "short_baseline": bool(limits.short_baseline[s, start]),
            "assessed": bool(limits.assessed[s, start]),
            "limits_shown": bool(limits.shown[s, start]),
            "limits_are_trial": bool(limits.shown[s, start] and limits.short_baseline[s, start]),
            "mean": number(limits.mean[s, start]),
            "mean_moving_range": number(limits.mean_moving_range[s, start]),
            "lower_limit": number(limits.lower[s, start]),
            "upper_limit": number(limits.upper[s, start]),
            "excluded_moving_ranges_at": _indexes(limits.moving_range_excluded[s, start : end + 1], offset=start),
        }
        for start, end in zip(starts, ends)
    ]


def _indexes(flags: np.ndarray, offset: int = 0) -> list[int]:
    return (np.flatnonzero(flags) + offset).tolist()


def _recalculation(batch: SpcBatch, s: int) -> dict[str, Any]:
    """MDC: a sustained shift with a known cause is a reason to recalculate; the engine only flags it."""
    start = int(batch.recalculation_from[s])
    if start < 0:
        return {"candidate": False, "from_period": None, "points": 0, "side": None, "reason": "no shift is still going at the latest point"}
    side = "above" if batch.values[s, start] > batch.limits.mean[s, start] else "below"
    return {
        "candidate": True,
        "from_period": start,
        "points": int(np.count_nonzero(batch.limits.observed[s, start:])),
        "side": side,
        "reason": (f"a shift {side} the mean since period {start} is still going; if it has a known cause, the limits "
                   "may be recalculated from that period (a recorded decision, never automatic)"),
    }


def _variation_reason(batch: SpcBatch, s: int) -> str:
    t = int(batch.variation_index[s])
    method = batch.parameters.method
    if t < 0:
        return "no observed values"
    point_type = codes.POINT_TYPES[batch.point_type[s, t]]
    if point_type == "not_assessed":
        return f"the latest segment is not assessed under {method} (too few points, or no limits)"
    if point_type == "missing":
        return f"the last period (period {t}) has no value, which {method} reads as common cause"
    rule = codes.RULES[batch.rule[s, t]]
    which = "last period" if batch.parameters.variation_from == "last_row" else "latest observed point"
    return f"{which} (period {t}) is {point_type}" + ("" if rule == "none" else f" by the {rule} rule") + f" ({method})"


def _assurance_reason(batch: SpcBatch, s: int) -> str:
    method = batch.parameters.method
    if batch.polarity[s] == 0:
        return "neutral polarity has no assurance"
    if math.isnan(batch.target[s]):
        return "no target"
    if not batch.limits.assessed[s, -1]:
        return f"the latest segment is not assessed under {method}"
    if not batch.limits.shown[s, -1]:
        return f"the latest segment has no process limits, so the target cannot be shown to be always met or missed ({method})"
    comparison = ">=" if batch.parameters.assurance_inclusive_limits else ">"
    return (f"target compared with the latest limits (consistent only when target {comparison} upper or mirrored for lower; "
            f"{method})")
