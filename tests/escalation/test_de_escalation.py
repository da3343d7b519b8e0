"""Declared de-escalation: hold the level while the rules give a lower one, step down after N periods on target."""
from __future__ import annotations

import datetime as dt

from server.escalation import simulate
from server.escalation.periods import ReportingPeriod, months_spanned, periods_between, run_up_to_latest
from server.tenants.spec import LadderSpec

LADDER = {
    "code": "test-ladder", "name": "Test ladder", "applies_to": "domain",
    "levels": [
        {"level": 0, "code": "performing", "name": "Performing"},
        {"level": 1, "code": "watch", "name": "Watch", "when": {"fact": "periods_under_target", "op": ">=", "value": 1}},
        {"level": 2, "code": "plan", "name": "Recovery plan", "requires": ["recovery_plan"],
         "when": {"fact": "periods_under_target", "op": ">=", "value": 2}},
        {"level": 3, "code": "board", "name": "Board", "when": {"fact": "periods_under_target", "op": ">=", "value": 3}},
    ],
}


def quarter(year: int, number: int) -> dt.datetime:
    return dt.datetime(year, 3 * number - 2, 1, tzinfo=dt.UTC)


def _run(ladder: LadderSpec, rows: list[tuple[int, int]], frequency: str = "quarterly") -> list[tuple[int, str | None]]:
    """(level held, transition) per quarter for rows of (periods_under_target, periods_sustained)."""
    periods = [(quarter(2025 + index // 4, index % 4 + 1), {"periods_under_target": under, "periods_sustained": sustained})
               for index, (under, sustained) in enumerate(rows)]
    steps = simulate(ladder, periods, subject="domain:quality", frequency=frequency)  # type: ignore[arg-type]
    return [(step.escalation.level if step.escalation and step.escalation.is_open else 0, step.events[-1].kind.value if step.events else None)
            for step in steps]


def test_without_de_escalation_the_level_drops_as_soon_as_the_rules_give_a_lower_one() -> None:
    ladder = LadderSpec.model_validate(LADDER)
    assert _run(ladder, [(1, 0), (2, 0), (3, 0), (0, 1)]) == [(1, "opened"), (2, "escalated"), (3, "escalated"), (0, "closed")]


def test_de_escalation_holds_then_steps_down_one_level_per_two_quarters_on_target() -> None:
    ladder = LadderSpec.model_validate({**LADDER, "de_escalation": {"after_periods_on_target": 2, "step": 1}})
    levels = _run(ladder, [(1, 0), (2, 0), (3, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6)])
    assert levels == [(1, "opened"), (2, "escalated"), (3, "escalated"),
                      (3, None),  # one quarter on target: held
                      (2, "de_escalated"),  # two: one step down
                      (2, None), (1, "de_escalated"),  # two more at level 2
                      (1, None), (0, "closed")]


def test_a_miss_while_held_restarts_the_count() -> None:
    ladder = LadderSpec.model_validate({**LADDER, "de_escalation": {"after_periods_on_target": 2, "step": 1}})
    levels = _run(ladder, [(1, 0), (2, 0), (0, 1), (1, 0), (0, 1), (0, 2)])
    assert levels == [(1, "opened"), (2, "escalated"), (2, None), (2, None), (2, None), (1, "de_escalated")]


def test_a_bigger_step_never_goes_below_the_level_the_rules_give() -> None:
    ladder = LadderSpec.model_validate({**LADDER, "de_escalation": {"after_periods_on_target": 1, "step": 2}})
    # periods_under_target 1 with periods_sustained 1 cannot happen in data; the rules' level is the floor here.
    levels = _run(ladder, [(3, 0), (1, 1)])
    assert levels == [(3, "opened"), (1, "de_escalated")]


def test_the_held_outcome_explains_the_rule_the_facts_and_the_parameters() -> None:
    ladder = LadderSpec.model_validate({**LADDER, "de_escalation": {"after_periods_on_target": 2, "step": 1}})
    periods = [(quarter(2025, 1), {"periods_under_target": 2, "periods_sustained": 0}),
               (quarter(2025, 2), {"periods_under_target": 0, "periods_sustained": 1})]
    held = simulate(ladder, periods, subject="s", frequency="quarterly")[-1].outcome
    assert (held.level, held.level_code, held.requires) == (2, "plan", ("recovery_plan",))
    assert held.de_escalation is not None and held.rules_outcome is not None and held.rules_outcome.level == 0
    assert "held at level 2 although the level rules give level 0: 1 of 2 periods on target" in held.explanation()
    assert held.parameters["de_escalation.after_periods_on_target"] == 2


def test_periods_follow_the_frequency() -> None:
    assert periods_between(dt.date(2025, 1, 1), dt.date(2025, 10, 1), "quarterly") == 3
    assert periods_between(dt.date(2025, 1, 1), dt.date(2025, 10, 1), "monthly") == 9
    assert ReportingPeriod(dt.date(2025, 3, 3), "weekly").periods_since(dt.date(2025, 2, 3)) == 4
    assert months_spanned(dt.date(2025, 4, 1), dt.date(2025, 7, 1), "quarterly") == 6  # two quarters
    assert months_spanned(dt.date(2025, 4, 1), dt.date(2025, 5, 1), "monthly") == 2
    points = [(dt.date(2025, 7, 1), True), (dt.date(2025, 4, 1), True), (dt.date(2024, 10, 1), True)]  # Q1 2025 missing
    assert run_up_to_latest(points, "quarterly") == (2, dt.date(2025, 4, 1))
    assert run_up_to_latest([(dt.date(2025, 7, 1), False)], "quarterly") == (0, None)
