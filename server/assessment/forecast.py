"""Is failure predicted within the next quarter? (STW: "take proactive forward look for the next
3 months"; the ladder's level 2 fires on it.)

For each series, the first method that applies:

1. ``trajectory`` — an agreed trajectory covers every one of the next ``horizon`` periods: failure
   is predicted when any trajectory value fails the target (the plan itself expects failure);
2. ``linear_trend`` — at least ``minimum_trend_points`` observed values among the last
   ``trend_window`` periods: an ordinary least-squares line through them (x = period index) is
   projected to the next ``horizon`` periods; failure is predicted when any projected value fails
   the target, or (``use_process_mean``) when the SPC process mean fails it;
3. ``process_mean`` — too few points for a trend but a process mean: failure is predicted when the
   mean fails the target (projected values are the mean);
4. ``none`` — no target, neutral polarity, or no data: nothing is predicted.

"Fails" is polarity aware and equality meets the target (targets.py). The projected values, the
line and the method are returned as evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment.evidence import number
from server.assessment.params import ForecastParameters
from server.assessment.targets import fails_target

FORECAST_METHODS = ("trajectory", "linear_trend", "process_mean", "none")
TRAJECTORY, LINEAR_TREND, PROCESS_MEAN, NO_METHOD = range(4)


@dataclass(frozen=True)
class ForecastBatch:
    method: np.ndarray  # int8 FORECAST_METHODS
    failure_predicted: np.ndarray  # bool per series
    projected: np.ndarray  # series x horizon
    first_failing_step: np.ndarray  # int per series: 1..horizon, 0 when none (or mean only)
    slope: np.ndarray
    intercept: np.ndarray  # the line's value at period 0
    trend_points: np.ndarray  # int: observed points the line was fitted to
    process_mean: np.ndarray
    process_mean_fails: np.ndarray
    targets: np.ndarray
    n_periods: int
    parameters: ForecastParameters

    def explain(self, series_index: int) -> dict[str, Any]:
        s = series_index
        step = int(self.first_failing_step[s])
        return {
            "rule_set": self.parameters.describe(),
            "method": FORECAST_METHODS[self.method[s]],
            "failure_predicted": bool(self.failure_predicted[s]),
            "target": number(self.targets[s]),
            "projected_periods": list(range(self.n_periods, self.n_periods + self.parameters.horizon)),
            "projected_values": [number(v) for v in self.projected[s]],
            "first_failing_period": None if step == 0 else self.n_periods + step - 1,
            "slope_per_period": number(self.slope[s]),
            "intercept": number(self.intercept[s]),
            "trend_points": int(self.trend_points[s]),
            "process_mean": number(self.process_mean[s]),
            "process_mean_fails_target": bool(self.process_mean_fails[s]),
        }


def forecast_failure(
    values: np.ndarray,
    targets: np.ndarray,
    polarity: np.ndarray,
    trajectory_ahead: np.ndarray | None = None,
    process_mean: np.ndarray | None = None,
    parameters: ForecastParameters = ForecastParameters(),
) -> ForecastBatch:
    """``values`` series x periods; ``trajectory_ahead`` series x horizon (NaN = none) for the
    periods after the last; ``process_mean`` one per series, e.g. ``spc.limits.mean[:, -1]``."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n_series, n_periods = values.shape
    horizon = parameters.horizon
    targets = np.broadcast_to(np.asarray(targets, dtype=float), (n_series,))
    polarity = np.broadcast_to(np.sign(np.asarray(polarity)), (n_series,))
    ahead = np.full((n_series, horizon), np.nan) if trajectory_ahead is None else np.asarray(trajectory_ahead, dtype=float)
    mean = np.full(n_series, np.nan) if process_mean is None else np.broadcast_to(np.asarray(process_mean, dtype=float), (n_series,))

    slope, intercept, points = _fit_lines(values, parameters.trend_window)
    future = np.arange(n_periods, n_periods + horizon)
    line = intercept[:, None] + slope[:, None] * future
    has_trajectory = ~np.isnan(ahead).any(axis=1)
    has_trend = points >= parameters.minimum_trend_points
    assessable = (polarity != 0) & ~np.isnan(targets)
    method = np.select(
        [~assessable, has_trajectory, has_trend, ~np.isnan(mean)], [NO_METHOD, TRAJECTORY, LINEAR_TREND, PROCESS_MEAN], default=NO_METHOD
    ).astype(np.int8)
    projected = np.select(
        [method[:, None] == TRAJECTORY, method[:, None] == LINEAR_TREND, method[:, None] == PROCESS_MEAN],
        [ahead, line, np.broadcast_to(mean[:, None], line.shape)],
        default=np.nan,
    )
    step_fails = fails_target(projected, targets[:, None], polarity[:, None])
    mean_fails = fails_target(mean, targets, polarity)
    uses_mean = (method == PROCESS_MEAN) | ((method == LINEAR_TREND) & parameters.use_process_mean)
    predicted = step_fails.any(axis=1) | (uses_mean & mean_fails)
    first_step = np.where(step_fails.any(axis=1), np.argmax(step_fails, axis=1) + 1, 0)
    return ForecastBatch(method, predicted, projected, first_step, slope, intercept, points, np.array(mean), mean_fails, np.array(targets), n_periods, parameters)


def _fit_lines(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares slope and intercept through the observed points of the last ``window`` periods."""
    recent = values[:, -window:]
    x = np.arange(values.shape[1] - recent.shape[1], values.shape[1], dtype=float)
    used = ~np.isnan(recent)
    points = used.sum(axis=1)
    count = np.maximum(points, 1)
    x_mean = (used * x).sum(axis=1) / count
    y_mean = np.where(used, recent, 0.0).sum(axis=1) / count
    dx = np.where(used, x - x_mean[:, None], 0.0)
    dy = np.where(used, recent - y_mean[:, None], 0.0)
    spread = (dx * dx).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(spread > 0, (dx * dy).sum(axis=1) / np.where(spread > 0, spread, 1.0), np.nan)
    intercept = y_mean - slope * x_mean
    return slope, intercept, points
