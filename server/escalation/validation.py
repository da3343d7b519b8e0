"""Check every condition in a tenant file against the fact registry, and the ladder shapes the engine relies on.

The typed schema (server/tenants/spec.py) already guarantees the structure of a condition; this
module checks its meaning: the fact exists, the operator suits the fact's type, and the value is of
that type (``{fact: risk_rating, value: severe}`` is refused: severe is not a risk rating).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator

from server.escalation.facts import FACTS, OPERATORS_BY_TYPE
from server.tenants.parse import TenantFileProblem
from server.tenants.spec import AllOf, AnyOf, Compare, Condition, LadderSpec, TenantFile


def validate_tenant_conditions(tenant: TenantFile, file: str) -> list[TenantFileProblem]:
    """Every problem with the conditions and ladders of one tenant file, each naming file and path."""
    problems: list[TenantFileProblem] = []
    for path, condition in _conditions_of(tenant):
        problems.extend(TenantFileProblem(file, where, message) for where, message in check_condition(condition, path))
    for index, ladder in enumerate(tenant.escalation.ladders):
        problems.extend(TenantFileProblem(file, where, message) for where, message in _check_ladder_shape(ladder, f"escalation.ladders[{index}]"))
    return problems


def check_condition(condition: Condition, path: str) -> list[tuple[str, str]]:
    """(path, message) for each comparison in the condition that names an unknown fact or misuses one."""
    if isinstance(condition, Compare):
        return _check_comparison(condition, path)
    if isinstance(condition, AllOf):
        return [problem for index, child in enumerate(condition.all) for problem in check_condition(child, f"{path}.all[{index}]")]
    if isinstance(condition, AnyOf):
        return [problem for index, child in enumerate(condition.any) for problem in check_condition(child, f"{path}.any[{index}]")]
    return check_condition(condition.not_, f"{path}.not")


def _check_comparison(comparison: Compare, path: str) -> list[tuple[str, str]]:
    definition = FACTS.get(comparison.fact)
    if definition is None:
        suggestion = difflib.get_close_matches(comparison.fact, list(FACTS), n=1)
        hint = f" (did you mean '{suggestion[0]}'?)" if suggestion else ""
        return [(f"{path}.fact", f"'{comparison.fact}' is not a known fact{hint}")]
    if comparison.op not in OPERATORS_BY_TYPE[definition.type]:
        return [(f"{path}.op", f"'{comparison.op}' cannot compare {definition.type} fact '{comparison.fact}'")]
    values = comparison.value if isinstance(comparison.value, list) else [comparison.value]
    wrong = [value for value in values if not definition.accepts(value)]
    if wrong:
        return [(f"{path}.value", f"fact '{comparison.fact}' is {definition.describe_type()}; {wrong[0]!r} is not")]
    return []


def _check_ladder_shape(ladder: LadderSpec, path: str) -> Iterator[tuple[str, str]]:
    # Level semantics (server/escalation/ladder.py): the first level is the resting level and has no
    # condition; every other level must say when it applies.
    first, *others = ladder.levels
    if first.when is not None:
        yield f"{path}.levels[0].when", "the first level is the resting level and takes no condition"
    for index, level in enumerate(others, start=1):
        if level.when is None:
            yield f"{path}.levels[{index}].when", "only the first (resting) level may have no condition"
    for index, level in enumerate(ladder.levels):
        defaults = [r_index for r_index, route in enumerate(level.routes) if route.when is None]
        if defaults and defaults[0] != len(level.routes) - 1:
            yield f"{path}.levels[{index}].routes[{defaults[0] + 1}]", "unreachable: a route without a condition must come last"


def _conditions_of(tenant: TenantFile) -> Iterator[tuple[str, Condition]]:
    for index, threshold in enumerate(tenant.assessment.spectrum):
        yield f"assessment.spectrum[{index}].when", threshold.when
    for l_index, ladder in enumerate(tenant.escalation.ladders):
        for index, level in enumerate(ladder.levels):
            level_path = f"escalation.ladders[{l_index}].levels[{index}]"
            if level.when is not None:
                yield f"{level_path}.when", level.when
            for r_index, route in enumerate(level.routes):
                if route.when is not None:
                    yield f"{level_path}.routes[{r_index}].when", route.when
    for index, rule in enumerate(tenant.escalation.cadence_rules):
        yield f"escalation.cadence_rules[{index}].when", rule.when
