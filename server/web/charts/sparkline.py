"""A trend sparkline for a table row (partials/sparkline.html): the series' values as a line, the
target as a dashed line, the latest point marked. The picture is hidden from assistive
technology; its description, in words beside it, carries the same facts."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

WIDTH, HEIGHT, PAD = 120, 32, 3


class Point(Protocol):
    """What a sparkline reads of a point (a series' SeriesPoint, a system cell's TrendPoint)."""

    @property
    def label(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def target(self) -> float | None: ...


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    path: str  # the values, broken where a period has none
    target_path: str  # '' without a target
    last_x: float
    last_y: float
    description: str


def build_sparkline(points: Sequence[Point], fmt: Callable[[float | None], str]) -> Sparkline | None:
    """None with fewer than two values: a single point is no trend. (A system matrix draws one per
    cell: the x positions depend on the number of points only, and are made once per number.)"""
    observed = [p for p in points if p.value is not None]
    if len(observed) < 2:
        return None
    values = [v for p in points for v in (p.value, p.target) if v is not None]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    xs = _x_positions(len(points))

    def y_of(value: float) -> float:
        return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 1)

    commands, drawing, last = [], False, 0
    for position, point in enumerate(points):
        value = point.value
        if value is None:
            drawing = False
            continue
        commands.append(f"{'L' if drawing else 'M'}{xs[position]},{y_of(value)}")
        drawing, last = True, position
    target = observed[-1].target
    target_path = f"M{PAD},{y_of(target)} H{WIDTH - PAD}" if target is not None else ""
    return Sparkline(WIDTH, HEIGHT, " ".join(commands), target_path, xs[last], y_of(observed[-1].value or 0.0),
                     _description(observed, fmt))


@lru_cache(maxsize=64)
def _x_positions(count: int) -> tuple[float, ...]:
    step = (WIDTH - 2 * PAD) / (count - 1)
    return tuple(round(PAD + position * step, 1) for position in range(count))


def _description(observed: Sequence[Point], fmt: Callable[[float | None], str]) -> str:
    first, latest = observed[0], observed[-1]
    lowest = min(observed, key=lambda p: p.value or 0.0)
    highest = max(observed, key=lambda p: p.value or 0.0)
    words = (f"Trend, {first.label} to {latest.label}: {fmt(first.value)} to {fmt(latest.value)}; "
             f"lowest {fmt(lowest.value)} ({lowest.label}), highest {fmt(highest.value)} ({highest.label})")
    if latest.target is not None:
        words += f"; target {fmt(latest.target)}"
    return words + "."
