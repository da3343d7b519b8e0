"""Check every condition in a tenant file against the fact registry, and the ladder shapes the engine relies on.

The typed schema (server/tenants/spec.py) already guarantees the structure of a condition; this
module checks its meaning: the fact exists, the operator suits the fact's type, the value is of
that type (``{fact: risk_rating, value: severe}`` is refused: severe is not a risk rating), and the
ladder's kind of subject is ever told that fact (``months_sustained`` on a contract ladder is, on a
plan ladder ``failed_criteria`` is not: facts.SUBJECT_FACTS).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping

from server.escalation.facts import CADENCE_SUBJECT_FACTS, FACTS, JUDGED, OPERATORS_BY_TYPE, SUBJECT_FACTS, FactDefinition
from server.tenants.parse import TenantFileProblem
from server.tenants.spec import AllOf, AnyOf, Compare, Condition, LadderSpec, TenantFile


def validate_tenant_conditions(tenant: TenantFile, file: str) -> list[TenantFileProblem]:
    """Every problem with the conditions and ladders of one tenant file, each naming file and path."""
    from server.judgements.kinds import tenant_fact_registry

    known = tenant_fact_registry(tenant)  # the registry's facts and the tenant's judgements
    supplied = facts_by_subject(tenant)
    problems: list[TenantFileProblem] = []
    for path, condition, subject in _conditions_of(tenant):
        found = check_condition(condition, path, known)
        if not found and subject is not None:
            found = _check_supplied(condition, path, subject, supplied[subject])
        problems.extend(TenantFileProblem(file, where, message) for where, message in found)
    for index, ladder in enumerate(tenant.escalation.ladders):
        problems.extend(TenantFileProblem(file, where, message) for where, message in _check_ladder_shape(ladder, f"escalation.ladders[{index}]"))
    return problems


def facts_by_subject(tenant: TenantFile) -> dict[str, frozenset[str]]:
    """For each subject type, every fact its ladders may name in this tenant's file.

    The data and lifecycle facts of SUBJECT_FACTS; a judgement the file declares, for the subject types
    it declares it about; a registry judgement the file does not declare, for any subject.
    """
    from server.judgements.kinds import judgement_subject_types

    declared = judgement_subject_types(tenant)
    undeclared = JUDGED - set(declared)
    table = {**SUBJECT_FACTS, **CADENCE_SUBJECT_FACTS}
    return {
        subject: frozenset((names - JUDGED) | undeclared | {name for name, subjects in declared.items() if subject in subjects})
        for subject, names in table.items()
    }


def _check_supplied(condition: Condition, path: str, subject: str, supplied: frozenset[str]) -> list[tuple[str, str]]:
    """A comparison naming a fact this kind of subject is never given would be unknown on every run."""
    problems = []
    for where, comparison in _comparisons(condition, path):
        if comparison.fact not in supplied:
            others = [kind for kind in SUBJECT_FACTS if comparison.fact in SUBJECT_FACTS[kind]]
            hint = f" (it is supplied for {', '.join(others)} subjects)" if others else ""
            article = "an" if subject[0] in "aeiou" else "a"
            problems.append((f"{where}.fact", f"'{comparison.fact}' is never supplied for {article} {subject} subject{hint}"))
    return problems


def _comparisons(condition: Condition, path: str) -> Iterator[tuple[str, Compare]]:
    if isinstance(condition, Compare):
        yield path, condition
    elif isinstance(condition, AllOf):
        for index, child in enumerate(condition.all):
            yield from _comparisons(child, f"{path}.all[{index}]")
    elif isinstance(condition, AnyOf):
        for index, child in enumerate(condition.any):
            yield from _comparisons(child, f"{path}.any[{index}]")
    else:
        yield from _comparisons(condition.not_, f"{path}.not")


def check_condition(condition: Condition, path: str, known: Mapping[str, FactDefinition] = FACTS) -> list[tuple[str, str]]:
    """(path, message) for each comparison in the condition that names an unknown fact or misuses one."""
    if isinstance(condition, Compare):
        return _check_comparison(condition, path, known)
    if isinstance(condition, AllOf):
        return [problem for index, child in enumerate(condition.all) for problem in check_condition(child, f"{path}.all[{index}]", known)]
    if isinstance(condition, AnyOf):
        return [problem for index, child in enumerate(condition.any) for problem in check_condition(child, f"{path}.any[{index}]", known)]
    return check_condition(condition.not_, f"{path}.not", known)


def _check_comparison(comparison: Compare, path: str, known: Mapping[str, FactDefinition]) -> list[tuple[str, str]]:
    definition = known.get(comparison.fact)
    if definition is None:
        suggestion = difflib.get_close_matches(comparison.fact, list(known), n=1)
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


def _conditions_of(tenant: TenantFile) -> Iterator[tuple[str, Condition, str | None]]:
    """(path, condition, the subject type it is evaluated for); spectrum thresholds rate, they run on no subject."""
    for index, threshold in enumerate(tenant.assessment.spectrum):
        yield f"assessment.spectrum[{index}].when", threshold.when, None
    for l_index, ladder in enumerate(tenant.escalation.ladders):
        for index, level in enumerate(ladder.levels):
            level_path = f"escalation.ladders[{l_index}].levels[{index}]"
            if level.when is not None:
                yield f"{level_path}.when", level.when, ladder.applies_to
            for r_index, route in enumerate(level.routes):
                if route.when is not None:
                    yield f"{level_path}.routes[{r_index}].when", route.when, ladder.applies_to
    for index, rule in enumerate(tenant.escalation.cadence_rules):
        yield f"escalation.cadence_rules[{index}].when", rule.when, rule.applies_to
