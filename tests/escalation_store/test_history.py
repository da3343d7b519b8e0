"""Run facts from a series' stored history: periods in the series' own frequency, months they span, shortfall, improvement."""
from __future__ import annotations

import datetime as dt

from server.escalation_store.history import Point, SeriesHistory, group_facts


def series(code: str, values: list[tuple[str, float]], *, target: float | None, polarity: int = 1, frequency: str = "quarterly",
           domain: str = "access", key: bool = True, rag: str = "none") -> SeriesHistory:
    """Points given oldest first, as people read a table; stored newest first."""
    points = tuple(Point(dt.date.fromisoformat(period), value, target) for period, value in reversed(values))
    return SeriesHistory(1, 1, code, code, domain, key, polarity, frequency, points, rag, "none", "none", False)  # type: ignore[arg-type]


def test_a_quarterly_series_counts_quarters_and_the_months_they_span() -> None:
    urgent = series("URGENT24", [("2025-01-01", 0.96), ("2025-04-01", 0.93), ("2025-07-01", 0.90)], target=0.95)
    facts = urgent.facts()
    assert (facts["periods_under_target"], facts["months_under_target"], facts["periods_sustained"]) == (2, 6, 0)
    assert facts["reporting_frequency"] == "quarterly" and facts["target_missed"] is True
    assert abs(facts["target_shortfall"] - 0.05) < 1e-9 and abs(facts["target_shortfall_percent"] - 0.05 / 0.95) < 1e-9
    assert facts["improved_on_previous_period"] is False


def test_a_gap_ends_the_run_and_leaves_improvement_unknown() -> None:
    urgent = series("URGENT24", [("2024-07-01", 0.90), ("2025-01-01", 0.91)], target=0.95)  # 2024 Q4 missing
    facts = urgent.facts()
    assert facts["periods_under_target"] == 1 and "improved_on_previous_period" not in facts


def test_lower_is_better_counts_the_shortfall_above_the_target() -> None:
    incidents = series("INCIDENTS", [("2025-01-01", 2), ("2025-04-01", 6)], target=4, polarity=-1)
    facts = incidents.facts()
    assert (facts["target_shortfall"], facts["target_shortfall_percent"], facts["improved_on_previous_period"]) == (2, 0.5, False)
    met = series("INCIDENTS", [("2025-01-01", 6), ("2025-04-01", 4)], target=4, polarity=-1).facts()  # equal to target meets it
    assert (met["target_missed"], met["periods_sustained"], met["target_shortfall"], met["improved_on_previous_period"]) == (False, 1, 0.0, True)


def test_without_a_target_nothing_about_targets_is_claimed() -> None:
    facts = series("X", [("2025-01-01", 3)], target=None).facts()
    assert not {"target_missed", "periods_under_target", "target_shortfall"} & set(facts)


def test_a_group_misses_a_period_when_any_member_does_and_sustains_only_when_all_meet() -> None:
    urgent = series("URGENT24", [("2025-01-01", 0.96), ("2025-04-01", 0.93), ("2025-07-01", 0.96)], target=0.95, rag="green")
    routine = series("ROUTINE18", [("2025-01-01", 0.90), ("2025-04-01", 0.93), ("2025-07-01", 0.93)], target=0.92, key=False, rag="green")
    facts, period = group_facts([urgent, routine])
    assert period is not None and (period.latest, period.frequency) == (dt.date(2025, 7, 1), "quarterly")
    assert (facts["periods_under_target"], facts["periods_sustained"], facts["months_sustained"]) == (0, 1, 3)
    assert facts["improved_on_previous_period"] is True  # one missed in Q2, none in Q3
    assert (facts["targets_missed"], facts["kpi_targets_missed"], facts["all_indicators_met"], facts["rag"]) == (0, 0, True, "green")
    monthly = series("M", [("2025-06-01", 1.0), ("2025-07-01", 0.5)], target=0.9, frequency="monthly", key=False)
    mixed, mixed_period = group_facts([urgent, monthly])
    assert mixed_period is not None and mixed_period.frequency == "monthly"  # a group reports as often as its most frequent member
    assert (mixed["targets_missed"], mixed["key_indicators_met"], mixed["all_indicators_met"]) == (1, True, False)


def test_the_runs_are_those_run_up_to_latest_counts_over_every_point() -> None:
    """One pass over the points the latest resembles gives what counting both runs over every point gives."""
    import random

    from server.escalation.periods import next_period, run_up_to_latest

    rng = random.Random(20261202)
    for case in range(3000):
        frequency = rng.choice(["weekly", "monthly", "quarterly"])
        period, points = dt.date(2020, 1, 6 if frequency == "weekly" else 1), []
        for _ in range(rng.randint(1, 14)):
            period = next_period(period, frequency)
            if rng.random() < 0.1:
                period = next_period(period, frequency)  # a gap
            target = None if rng.random() < 0.1 else 10.0
            points.append(Point(period, rng.choice([8.0, 10.0, 12.0]), target))
        history = SeriesHistory(1, 1, "X", "X", "d", True, rng.choice([1, -1]), frequency, tuple(reversed(points)),  # type: ignore[arg-type]
                                "none", "none", "none", False)
        failing = [(p.period, history.fails(p)) for p in history.points]
        meeting = [(p.period, p.target is not None and not history.fails(p)) for p in history.points]
        assert history._runs == (run_up_to_latest(failing, frequency), run_up_to_latest(meeting, frequency)), case
