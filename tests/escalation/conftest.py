"""Load the real tenant files and run a ladder month by month over a readable table."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from server.escalation.engine import EscalationStep, simulate
from server.tenants.parse import parse_tenant_file
from server.tenants.spec import LadderSpec, TenantFile

TENANTS = Path(__file__).resolve().parents[2] / "tenants"

# A row of a scenario table: (period "YYYY-MM", facts that differ from the base, expected level code,
# expected owning forum, an action the level must require or None).
Row = tuple[str, Mapping[str, Any], str, str | None, str | None]


@cache
def _load(file_name: str) -> TenantFile:
    return parse_tenant_file(TENANTS / file_name)


def month_start(period: str) -> dt.datetime:
    year, month = (int(part) for part in period.split("-"))
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


@pytest.fixture
def tenant() -> Callable[[str], TenantFile]:
    return _load


@pytest.fixture
def ladder() -> Callable[[str, str], LadderSpec]:
    def find(file_name: str, code: str) -> LadderSpec:
        return next(ladder for ladder in _load(file_name).escalation.ladders if ladder.code == code)
    return find


@pytest.fixture
def run_months() -> Callable[..., list[EscalationStep]]:
    """Run a ladder over table rows (base facts overlaid by each row's) and check every row's expectation."""

    def run(ladder: LadderSpec, base: Mapping[str, Any], rows: Sequence[Row], subject: str = "subject") -> list[EscalationStep]:
        periods = [(month_start(period), {**base, **facts}) for period, facts, *_ in rows]
        steps = simulate(ladder, periods, subject=subject)
        for (period, _, level_code, forum, action), step in zip(rows, steps, strict=True):
            outcome = step.outcome
            seen = (outcome.level_code, outcome.forum)
            assert seen == (level_code, forum), f"{period}: expected {(level_code, forum)}, got {seen}: {outcome.explanation()}"
            if action is not None:
                assert action in outcome.requires, f"{period}: {action} not in {outcome.requires}"
        return steps

    return run


def transitions(steps: Sequence[EscalationStep]) -> list[tuple[str, str, int | None]]:
    """(period, transition kind, level after) for every transition over a run."""
    return [(event.at.strftime("%Y-%m"), event.kind.value, event.to_level) for step in steps for event in step.events]


@pytest.fixture
def transitions_of() -> Callable[[Sequence[EscalationStep]], list[tuple[str, str, int | None]]]:
    return transitions
