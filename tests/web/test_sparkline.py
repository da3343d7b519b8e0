"""Sparkline coordinates: each written with one decimal by the format itself, the same text as
``str(round(y, 1))`` (which it replaced for speed), on random series with gaps and flat lines."""
from __future__ import annotations

import datetime as dt
import random
from functools import partial

from server.reporting.indicator import SeriesPoint
from server.web.charts.sparkline import HEIGHT, PAD, WIDTH, build_sparkline
from server.web.templating import format_number


def reference_path(points: list[SeriesPoint]) -> tuple[str, str]:
    """The line and target as the first sparkline wrote them: every coordinate through round()."""
    values = [v for p in points for v in (p.value, p.target) if v is not None]
    low, span = min(values), (max(values) - min(values)) or 1.0
    step = (WIDTH - 2 * PAD) / (len(points) - 1)

    def y_of(value: float) -> float:
        return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 1)

    commands, drawing = [], False
    for position, point in enumerate(points):
        if point.value is None:
            drawing = False
            continue
        commands.append(f"{'L' if drawing else 'M'}{round(PAD + position * step, 1)},{y_of(point.value)}")
        drawing = True
    target = [p for p in points if p.value is not None][-1].target
    return " ".join(commands), (f"M{PAD},{y_of(target)} H{WIDTH - PAD}" if target is not None else "")


def test_coordinates_read_as_rounding_them_would_on_random_series():
    rng = random.Random(20261202)
    fmt = partial(format_number, unit="percent")
    drawn = 0
    for _ in range(3000):
        scale = rng.choice([1.0, 40.0, 1e6])
        flat = rng.random() < 0.1
        points = [
            SeriesPoint(None, dt.date(2024, 1, 1), f"P{i}", None if rng.random() < 0.15 else (0.5 if flat else rng.uniform(-scale, scale)),
                        None if rng.random() < 0.3 else float(rng.randint(-3, 3)), None, "red", False)
            for i in range(rng.randint(0, 30))
        ]
        line = build_sparkline(points, fmt)
        if sum(p.value is not None for p in points) < 2:
            assert line is None
            continue
        assert line is not None and (line.path, line.target_path) == reference_path(points)
        drawn += 1
    assert drawn > 2000
