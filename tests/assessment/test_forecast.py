"""Failure forecast for the next quarter, on constructed series."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from server.assessment import ForecastParameters, forecast_failure

NAN = math.nan
TARGET = 0.78  # higher is better


def forecast(values, polarity=1, target=TARGET, trajectory=None, mean=None, **parameters):
    return forecast_failure(
        np.array([values], dtype=float), np.array([target]), np.array([polarity]),
        None if trajectory is None else np.array([trajectory], dtype=float),
        None if mean is None else np.array([mean]), ForecastParameters(**parameters),
    )


def test_falling_line_crossing_the_target_predicts_failure_and_names_the_period():
    # 0.90 falling 0.01 a month for 12 months: 0.79 at period 11, projected 0.78, 0.77, 0.76.
    values = [0.90 - 0.01 * month for month in range(12)]
    result = forecast(values)
    evidence = json.loads(json.dumps(result.explain(0), allow_nan=False))
    assert evidence["method"] == "linear_trend" and evidence["failure_predicted"]
    assert evidence["projected_values"] == pytest.approx([0.78, 0.77, 0.76])
    assert evidence["projected_periods"] == [12, 13, 14]
    assert evidence["first_failing_period"] == 13  # 0.78 itself meets the target
    assert evidence["slope_per_period"] == pytest.approx(-0.01)


def test_flat_series_above_target_predicts_nothing():
    assert not forecast([0.85, 0.86] * 6).failure_predicted[0]


def test_rising_series_below_target_recovering_in_time_still_fails_on_the_first_steps():
    values = [0.60 + 0.01 * month for month in range(12)]  # projected 0.72, 0.73, 0.74
    assert forecast(values).failure_predicted[0]


def test_lower_is_better_rising_towards_a_ceiling():
    values = [10 + 0.5 * month for month in range(12)]  # 15.5 at period 11; projected 16, 16.5, 17
    assert not forecast(values, polarity=-1, target=18.0).failure_predicted[0]
    assert forecast(values, polarity=-1, target=16.5).failure_predicted[0]


def test_an_agreed_trajectory_covering_the_quarter_is_used_instead_of_the_trend():
    falling = [0.90 - 0.01 * month for month in range(12)]
    result = forecast(falling, trajectory=[0.80, 0.81, 0.82])
    assert result.explain(0)["method"] == "trajectory" and not result.failure_predicted[0]
    assert forecast([0.90] * 12, trajectory=[0.80, 0.77, 0.82]).failure_predicted[0]


def test_a_trajectory_with_a_gap_does_not_cover_the_quarter():
    result = forecast([0.90] * 12, trajectory=[0.80, NAN, 0.82])
    assert result.explain(0)["method"] == "linear_trend"


def test_process_mean_failing_the_target_predicts_failure_even_on_a_flat_line():
    values = [0.80, 0.81] * 6
    assert forecast(values, mean=0.75).failure_predicted[0]
    assert not forecast(values, mean=0.75, use_process_mean=False).failure_predicted[0]


def test_too_few_points_falls_back_to_the_process_mean_or_nothing():
    result = forecast([0.70, 0.72, 0.71], mean=0.71)
    assert result.explain(0)["method"] == "process_mean" and result.failure_predicted[0]
    assert forecast([0.70, 0.72, 0.71]).explain(0)["method"] == "none"


def test_gaps_are_left_out_of_the_fit():
    values = [0.90 - 0.01 * month for month in range(12)]
    values[5] = NAN
    assert forecast(values).explain(0)["projected_values"] == pytest.approx([0.78, 0.77, 0.76])


def test_only_the_trend_window_is_fitted():
    # An old high then 12 steady months at 0.85: the window of 12 sees a flat line; a window of 18
    # sees a fall of about 0.011 a month, projected to 0.794, 0.783, 0.772.
    values = [1.0] * 6 + [0.85] * 12
    assert not forecast(values).failure_predicted[0]
    assert forecast(values, trend_window=18).failure_predicted[0]


def test_no_target_or_neutral_predicts_nothing():
    assert forecast([0.1] * 12, target=NAN).explain(0)["method"] == "none"
    assert not forecast([0.1] * 12, polarity=0).failure_predicted[0]
