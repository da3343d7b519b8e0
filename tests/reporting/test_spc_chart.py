"""The server-drawn SPC chart: limits step at a rebase, special causes get their rule's shape."""
from __future__ import annotations

import datetime as dt
import re

from server.reporting.indicator import SeriesPoint
from server.web.charts.spc import RULE_SHAPES, build_spc_chart
from server.web.templating import format_number


def point(index: int, value: float, *, segment: int = 0, mean: float = 10.0, spread: float = 3.0,
          point_type: str = "common_cause", rule: str = "none", direction: int = 0, target: float | None = 12.0) -> SeriesPoint:
    period = dt.date(2024 + (index // 12), index % 12 + 1, 1)
    return SeriesPoint(
        index=index, period=period, label=period.strftime("%b %Y"), value=value, target=target, trajectory=None, rag="none",
        masked_failure=False, mean=mean, lower_limit=mean - spread, upper_limit=mean + spread, segment=segment,
        rules=(rule,) if rule != "none" else (), deciding_rule=rule, point_type=point_type, direction=direction,
    )


def chart(points):  # type: ignore[no-untyped-def]
    return build_spc_chart(points, title="Test", y_title="Count", fmt=lambda v: format_number(v), short_label=lambda p: p.period.strftime("%b %y"))


def test_limits_and_mean_are_drawn_per_segment_so_they_step_at_a_rebase():
    points = [point(i, 10 + (i % 3)) for i in range(12)] + [point(i, 20 + (i % 3), segment=1, mean=21) for i in range(12, 24)]
    drawn = chart(points)
    assert sum(1 for line in drawn.lines if line.kind == "mean") == 2
    assert sum(1 for line in drawn.lines if line.kind == "limit") == 4  # upper and lower, per segment
    first_mean, second_mean = [line.path for line in drawn.lines if line.kind == "mean"]
    height = lambda path: {float(y) for y in re.findall(r",([\d.]+)", path)}  # noqa: E731
    assert len(height(first_mean)) == 1 and len(height(second_mean)) == 1
    assert height(first_mean) != height(second_mean)


def test_special_cause_points_take_the_shape_of_their_rule_and_the_colour_of_their_verdict():
    points = [point(0, 10), point(1, 20, point_type="special_cause_concern", rule="astronomical", direction=1),
              point(2, 14, point_type="special_cause_improvement", rule="shift", direction=1),
              point(3, 15, point_type="special_cause_improvement", rule="trend", direction=1),
              point(4, 12, point_type="special_cause_improvement", rule="two_in_three", direction=1)]
    drawn = chart(points)
    common, astronomical, shift, trend, two_in_three = drawn.markers
    assert common.shape == "circle" and common.radius < shift.radius
    assert astronomical.shape == "polygon" and len(astronomical.points.split()) == 3
    assert trend.shape == "polygon" and len(trend.points.split()) == 4
    assert two_in_three.shape == "polygon" and len(two_in_three.points.split()) == 4
    assert astronomical.fill != shift.fill  # concern and improvement
    assert "concern" in astronomical.label and "beyond a process limit" in astronomical.label
    legend = {entry.label for entry in drawn.legend}
    assert {"Values", "Mean", "Process limits", "Target", "Improvement", "Concern"} <= legend
    assert len([e for e in drawn.legend if e.kind == "marker" and e.fill == "#ffffff"]) == len(RULE_SHAPES)


def test_a_missing_period_breaks_the_data_line():
    points = [point(0, 10), point(1, 11), SeriesPoint(index=2, period=dt.date(2024, 3, 1), label="Mar 2024", value=None, target=None,
                                                   trajectory=None, rag="none", masked_failure=False), point(3, 12)]
    [data] = [line for line in chart(points).lines if line.kind == "data"]
    assert data.path.count("M") == 2


def test_axes_are_labelled_with_periods_and_values():
    drawn = chart([point(i, 10 + i % 4) for i in range(30)])
    assert drawn.x_ticks[0].label == "Jan 24"
    assert len(drawn.x_ticks) <= 13
    assert all(tick.label for tick in drawn.y_ticks) and len(drawn.y_ticks) >= 3
    assert "30 values from Jan 2024 to Jun 2026" in drawn.description
