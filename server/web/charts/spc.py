"""A Making Data Count SPC chart as plain geometry for an SVG template (partials/spc_chart.html).

Points, the mean and the process limits per segment (so they step where the series was rebased),
the target and any trajectory, and special-cause points marked by the rule that decided them,
each rule with its own shape and each verdict with its own colour (the shape carries the rule
without colour; the data table beneath the chart carries everything in words).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.reporting.indicator import SeriesPoint

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 16, 52

# Making Data Count colours: improvement blue, concern orange, neutral purple, common cause grey.
POINT_COLOURS = {
    "special_cause_improvement": "#005eb8",
    "special_cause_concern": "#ed8b00",
    "special_cause_neutral": "#7c2855",
}
COMMON_COLOUR = "#768692"
RULE_SHAPES = {"astronomical": "triangle", "trend": "diamond", "two_in_three": "square", "shift": "circle"}
RULE_LEGEND = {
    "astronomical": "Beyond a process limit",
    "trend": "Trend",
    "two_in_three": "Two of three near a limit",
    "shift": "Shift (run on one side of the mean)",
}
VERDICT_LEGEND = {
    "special_cause_improvement": "Improvement",
    "special_cause_concern": "Concern",
    "special_cause_neutral": "Neither (neutral polarity)",
}


@dataclass(frozen=True)
class Line:
    path: str
    kind: str  # data, mean, limit, target, trajectory


@dataclass(frozen=True)
class Marker:
    shape: str  # circle or polygon
    x: float
    y: float
    radius: float
    points: str  # polygon vertices, '' for a circle
    fill: str
    label: str  # e.g. "Mar 2025: 61.2%, special cause concerning (shift)"


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    kind: str  # line or marker
    label: str
    line_kind: str = ""
    shape: str = ""
    points: str = ""
    fill: str = ""


@dataclass(frozen=True)
class SpcChart:
    title: str
    description: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    lines: tuple[Line, ...]
    markers: tuple[Marker, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    x_title: str
    y_title: str
    legend: tuple[LegendEntry, ...]

    @property
    def is_empty(self) -> bool:
        return not self.markers


def build_spc_chart(
    points: Sequence[SeriesPoint], *, title: str, y_title: str, fmt: Callable[[float | None], str], short_label: Callable[[SeriesPoint], str],
    width: int = WIDTH, height: int = HEIGHT,
) -> SpcChart:
    """``width`` and ``height`` in the SVG's units: a board paper's small multiples are shorter than the page's chart."""
    observed = [p for p in points if p.value is not None]
    values = [v for p in points for v in (p.value, p.mean, p.lower_limit, p.upper_limit, p.target, p.trajectory) if v is not None]
    low, high, step = _nice_range(min(values, default=0.0), max(values, default=1.0))
    plot_width, plot_height = width - LEFT - RIGHT, height - TOP - BOTTOM
    count = max(len(points), 1)

    def x_of(position: int) -> float:
        return round(LEFT + (position + 0.5) * plot_width / count, 2)

    def y_of(value: float) -> float:
        return round(TOP + (high - value) / (high - low) * plot_height, 2)

    lines = [
        *_segment_lines(points, lambda p: p.upper_limit, x_of, y_of, "limit"),
        *_segment_lines(points, lambda p: p.lower_limit, x_of, y_of, "limit"),
        *_segment_lines(points, lambda p: p.mean, x_of, y_of, "mean"),
        *_step_lines(points, lambda p: p.target, x_of, y_of, "target"),
        *_step_lines(points, lambda p: p.trajectory, x_of, y_of, "trajectory"),
        *_runs(points, lambda p: p.value, x_of, y_of, "data"),
    ]
    markers = tuple(_marker(p, x_of(i), y_of(p.value), fmt) for i, p in enumerate(points) if p.value is not None)
    every = max(1, math.ceil(len(points) / 12))
    x_ticks = tuple(Tick(x_of(i), short_label(p)) for i, p in enumerate(points) if i % every == 0 or i == len(points) - 1 and i % every > every / 2)
    y_ticks = tuple(Tick(y_of(v), fmt(v)) for v in _ticks(low, high, step))
    return SpcChart(
        title=title, description=_description(points, observed, fmt), width=width, height=height,
        plot_left=LEFT, plot_right=width - RIGHT, plot_top=TOP, plot_bottom=height - BOTTOM,
        lines=tuple(lines), markers=markers, x_ticks=x_ticks, y_ticks=y_ticks, x_title="Period", y_title=y_title,
        legend=_legend(points),
    )


def _segment_lines(points, value_of, x_of, y_of, kind) -> list[Line]:  # type: ignore[no-untyped-def]
    """One path per segment: limits and mean are constant within a segment and step at a rebase."""
    lines: list[Line] = []
    by_segment: dict[int, list[tuple[int, float]]] = {}
    for position, point in enumerate(points):
        value = value_of(point)
        if value is not None and point.index is not None:
            by_segment.setdefault(point.segment, []).append((position, value))
    half = (x_of(1) - x_of(0)) / 2 if len(points) > 1 else 10
    for members in by_segment.values():
        first, last = members[0][0], members[-1][0]
        commands = [f"M{x_of(first) - half:.2f},{y_of(members[0][1])}"]
        commands += [f"L{x_of(position):.2f},{y_of(value)}" for position, value in members]
        commands.append(f"L{x_of(last) + half:.2f},{y_of(members[-1][1])}")
        lines.append(Line(" ".join(commands), kind))
    return lines


def _step_lines(points, value_of, x_of, y_of, kind) -> list[Line]:  # type: ignore[no-untyped-def]
    """Target and trajectory hold for a whole period: horizontal steps, broken where absent."""
    half = (x_of(1) - x_of(0)) / 2 if len(points) > 1 else 10
    commands: list[str] = []
    previous: float | None = None
    for position, point in enumerate(points):
        value = value_of(point)
        if value is None:
            previous = None
            continue
        x, y = x_of(position), y_of(value)
        commands.append(f"{'L' if previous is not None else 'M'}{x - half:.2f},{y} L{x + half:.2f},{y}")
        previous = value
    return [Line(" ".join(commands), kind)] if commands else []


def _runs(points, value_of, x_of, y_of, kind) -> list[Line]:  # type: ignore[no-untyped-def]
    """The data line, broken at a missing period rather than drawn across it."""
    commands: list[str] = []
    drawing = False
    for position, point in enumerate(points):
        value = value_of(point)
        if value is None:
            drawing = False
            continue
        commands.append(f"{'L' if drawing else 'M'}{x_of(position)},{y_of(value)}")
        drawing = True
    return [Line(" ".join(commands), kind)] if commands else []


def _marker(point: SeriesPoint, x: float, y: float, fmt) -> Marker:  # type: ignore[no-untyped-def]
    special = point.point_type in POINT_COLOURS and point.deciding_rule in RULE_SHAPES
    label = f"{point.label}: {fmt(point.value)}"
    if not special:
        return Marker("circle", x, y, 3.0, "", COMMON_COLOUR, label)
    shape = RULE_SHAPES[point.deciding_rule]
    label += f", {VERDICT_LEGEND[point.point_type].lower()} ({RULE_LEGEND[point.deciding_rule].lower()})"
    fill = POINT_COLOURS[point.point_type]
    if shape == "circle":
        return Marker("circle", x, y, 5.0, "", fill, label)
    return Marker("polygon", x, y, 5.5, _polygon(shape, x, y, 5.5, point.direction), fill, label)


def _polygon(shape: str, x: float, y: float, r: float, direction: int = 1) -> str:
    if shape == "triangle":
        # Points the way the value broke the limit: up above the upper limit, down below the lower.
        tip = -1.25 * r if direction >= 0 else 1.25 * r
        vertices = [(x, y + tip), (x - 1.15 * r, y - tip * 0.7), (x + 1.15 * r, y - tip * 0.7)]
    elif shape == "diamond":
        vertices = [(x, y - 1.35 * r), (x + 1.35 * r, y), (x, y + 1.35 * r), (x - 1.35 * r, y)]
    else:
        vertices = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    return " ".join(f"{vx:.2f},{vy:.2f}" for vx, vy in vertices)


def _legend(points: Sequence[SeriesPoint]) -> tuple[LegendEntry, ...]:
    entries = [LegendEntry("line", "Values", line_kind="data"), LegendEntry("line", "Mean", line_kind="mean"),
               LegendEntry("line", "Process limits", line_kind="limit")]
    if any(p.target is not None for p in points):
        entries.append(LegendEntry("line", "Target", line_kind="target"))
    if any(p.trajectory is not None for p in points):
        entries.append(LegendEntry("line", "Trajectory (plan)", line_kind="trajectory"))
    entries.append(LegendEntry("marker", "Common cause", shape="circle", fill=COMMON_COLOUR))
    rules = {p.deciding_rule for p in points if p.point_type in POINT_COLOURS}
    for rule, shape in RULE_SHAPES.items():
        if rule in rules:
            entries.append(LegendEntry("marker", RULE_LEGEND[rule], shape="circle" if shape == "circle" else "polygon",
                                       points="" if shape == "circle" else _polygon(shape, 8, 8, 5.5), fill="#ffffff"))
    verdicts = {p.point_type for p in points if p.point_type in POINT_COLOURS}
    for verdict, colour in POINT_COLOURS.items():
        if verdict in verdicts:
            entries.append(LegendEntry("marker", VERDICT_LEGEND[verdict], shape="square", points=_polygon("square", 8, 8, 5), fill=colour))
    return tuple(entries)


def _description(points: Sequence[SeriesPoint], observed: Sequence[SeriesPoint], fmt) -> str:  # type: ignore[no-untyped-def]
    if not observed:
        return "No values to chart yet."
    latest = observed[-1]
    parts = [f"{len(observed)} values from {observed[0].label} to {latest.label}; latest {fmt(latest.value)} in {latest.label}."]
    if latest.mean is not None:
        parts.append(f"Mean {fmt(latest.mean)}, process limits {fmt(latest.lower_limit)} to {fmt(latest.upper_limit)}.")
    if latest.target is not None:
        parts.append(f"Target {fmt(latest.target)}.")
    special = sum(1 for p in observed if p.point_type in POINT_COLOURS)
    parts.append(f"{special} special-cause {'point' if special == 1 else 'points'}. The table below lists every value.")
    return " ".join(parts)


def _nice_range(low: float, high: float) -> tuple[float, float, float]:
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step((high - low) / 5)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _nice_step(rough: float) -> float:
    magnitude = 10 ** math.floor(math.log10(rough))
    for multiple in (1, 2, 2.5, 5, 10):
        if rough <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float, step: float) -> list[float]:
    count = int(round((high - low) / step))
    return [round(low + i * step, 10) for i in range(count + 1)]
