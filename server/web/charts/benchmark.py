"""A benchmark strip plot as plain geometry for an SVG template (partials/benchmark_chart.html,
written into pages/benchmark.html): one dot per organisation on a value axis, the organisation
benchmarked drawn larger and dark, the quartiles as vertical lines, and which way is better.
The table beneath the chart carries every value in words (its text alternative)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.benchmarking.service import Benchmark

WIDTH, HEIGHT = 760, 150
LEFT, RIGHT, TOP, BOTTOM = 24, 24, 34, 46
SUBJECT_COLOUR, PEER_COLOUR = "#005eb8", "#768692"


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    radius: float
    fill: str
    label: str


@dataclass(frozen=True)
class Rule:
    x: float
    label: str  # "Lower quartile 71.0%"
    short: str  # "Q1"


@dataclass(frozen=True)
class StripChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    axis_y: float
    title: str
    description: str
    better: str  # "Better →" or "← Better" or ""
    dots: tuple[Dot, ...]
    rules: tuple[Rule, ...]
    min_label: str
    max_label: str


def build_benchmark_chart(found: Benchmark, fmt: Callable[[float | None], str]) -> StripChart | None:
    """None when fewer than two organisations have a value: a plot of one dot says nothing."""
    valued = [entry for entry in found.entries if entry.value is not None]
    if len(valued) < 2 or found.quartiles is None:
        return None
    low, high = min(e.value for e in valued), max(e.value for e in valued)  # type: ignore[type-var]
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.05, high + span * 0.05
    left, right, axis_y = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM

    def x_of(value: float) -> float:
        return round(left + (value - low) / (high - low) * (right - left), 1)

    # Organisations with equal values stack upwards so that no dot hides another.
    stacked: dict[float, int] = {}
    dots = []
    for entry in sorted(valued, key=lambda e: e.is_subject):
        x = x_of(entry.value)  # type: ignore[arg-type]
        level = stacked.get(x, 0)
        stacked[x] = level + 1
        where = f"rank {entry.rank} of {len(valued)}" if entry.rank else ""
        dots.append(Dot(x, axis_y - 22 - level * 14, 7 if entry.is_subject else 5, SUBJECT_COLOUR if entry.is_subject else PEER_COLOUR,
                        f"{entry.organisation_name}: {fmt(entry.value)}" + (f", {where}" if where else "")))
    q = found.quartiles
    rules = (Rule(x_of(q.lower), f"Lower quartile {fmt(q.lower)}", "Q1"), Rule(x_of(q.median), f"Median {fmt(q.median)}", "Median"),
             Rule(x_of(q.upper), f"Upper quartile {fmt(q.upper)}", "Q3"))
    better = {"higher_is_better": "Better →", "lower_is_better": "← Better"}.get(found.polarity, "")
    subject = found.position
    said = (f"{subject.organisation_name} {fmt(subject.value)}" + (f", rank {subject.rank} of {len(valued)}, quarter {subject.quarter}" if subject and subject.rank else "")
            if subject and subject.value is not None else f"{found.organisation_name} has no value")
    description = (f"{len(valued)} organisations from {fmt(min(e.value for e in valued))} to {fmt(max(e.value for e in valued))}; "  # type: ignore[type-var]
                   f"lower quartile {fmt(q.lower)}, median {fmt(q.median)}, upper quartile {fmt(q.upper)}; {said}.")
    return StripChart(WIDTH, HEIGHT, left, right, axis_y, f"{found.indicator_name}: {found.group.name}", description, better,
                      tuple(dots), rules, fmt(low + span * 0.05), fmt(high - span * 0.05))
