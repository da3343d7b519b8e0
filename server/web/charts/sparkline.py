"""A trend sparkline for a table row (partials/sparkline.html): the series' values as a line, the
target as a dashed line, the latest point marked. The picture is hidden from assistive
technology; its description, in words beside it, carries the same facts."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Protocol

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 120, 32, 3
_value = attrgetter("value")
_COORDINATE = "{},{:.1f}".format  # an x position's text and a y with one decimal


class Point(Protocol):
    """What a sparkline reads of a point (a SeriesPoint: an indicator's series, a system cell's trend)."""

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
    xs, x_texts = _x_positions(len(points)), _x_texts(len(points))
    # Each y written with one decimal by the format itself: the same digits as str(round(y, 1)) (both
    # round the exact binary value half to even) at a seventh of the cost, 24 times a row.
    if len(observed) == len(points):  # no gap (an IPR row's observed values): one line, written in one pass
        ys = [HEIGHT - PAD - (point.value - low) / span * (HEIGHT - 2 * PAD) for point in points]  # type: ignore[operator]
        path, last = "M" + " L".join(map(_COORDINATE, x_texts, ys)), len(points) - 1
    else:
        commands, drawing, last = [], False, 0
        for position, point in enumerate(points):
            value = point.value
            if value is None:
                drawing = False
                continue
            commands.append(f"{'L' if drawing else 'M'}{x_texts[position]},{HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD):.1f}")
            drawing, last = True, position
        path = " ".join(commands)
    target = observed[-1].target
    target_path = f"M{PAD},{HEIGHT - PAD - (target - low) / span * (HEIGHT - 2 * PAD):.1f} H{WIDTH - PAD}" if target is not None else ""
    last_y = round(HEIGHT - PAD - ((observed[-1].value or 0.0) - low) / span * (HEIGHT - 2 * PAD), 1)
    return Sparkline(WIDTH, HEIGHT, path, target_path, xs[last], last_y, _description(observed, fmt))


@lru_cache(maxsize=64)
def _x_positions(count: int) -> tuple[float, ...]:
    step = (WIDTH - 2 * PAD) / (count - 1)
    return tuple(round(PAD + position * step, 1) for position in range(count))


@lru_cache(maxsize=64)
def _x_texts(count: int) -> tuple[str, ...]:
    return tuple(map(str, _x_positions(count)))


def _description(observed: Sequence[Point], fmt: Callable[[float | None], str]) -> str:
    first, latest = observed[0], observed[-1]
    lowest = min(observed, key=_value)  # every observed point has a value
    highest = max(observed, key=_value)
    words = (f"Trend, {first.label} to {latest.label}: {fmt(first.value)} to {fmt(latest.value)}; "
             f"lowest {fmt(lowest.value)} ({lowest.label}), highest {fmt(highest.value)} ({highest.label})")
    if latest.target is not None:
        words += f"; target {fmt(latest.target)}"
    return words + "."


def sparkline_markup(line: Sparkline | None) -> Markup:
    """What the ``sparkline`` macro (partials/sparkline.html) writes for ``line``, for a page that
    draws many (the system matrix: tests/web/test_system_position.py checks both write the same)."""
    if not line:
        return _TOO_FEW
    # Only the description is text from outside: the sizes, coordinates and paths are numbers and
    # drawing letters written by build_sparkline (escaping them changes nothing, 140-250 times a page).
    target = (f'<path d="{line.target_path}" fill="none" stroke="#d5281b" stroke-width="1" stroke-dasharray="3 2"/>'
              if line.target_path else "")
    return Markup(
        f'<span class="accord-sparkline">\n<svg class="accord-sparkline__svg" viewBox="0 0 {line.width} {line.height}" width="{line.width}" '
        f'height="{line.height}" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">{target}<path d="{line.path}" '
        f'fill="none" stroke="#425563" stroke-width="1.5" stroke-linejoin="round"/>\n  <circle cx="{line.last_x}" cy="{line.last_y}" '
        f'r="2.5" fill="#005eb8"/>\n</svg>\n<span class="nhsuk-u-visually-hidden">{escape(line.description)}</span>\n</span>'
    )


_TOO_FEW = Markup('<span class="accord-muted">–<span class="nhsuk-u-visually-hidden">Too few values for a trend</span></span>')
