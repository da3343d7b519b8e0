"""A tenant's judgement kinds as facts, and the loader's checks of its ``judgements:`` section.

A kind's name is the fact the ladders compare. Where the fact registry already defines that name
(``risk_rating``, ``qpc_assured``...) the kind must agree with its type; a new name defines a fact
for that tenant alone, so a framework with a judgement nobody else makes needs no code.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from server.escalation import facts as registry
from server.escalation.facts import FACTS, FactDefinition
from server.tenants.parse import TenantFileProblem
from server.tenants.policy_roles import roles_granting
from server.tenants.spec import JudgementKindSpec, TenantFile

JUDGEMENT = "a recorded judgement (server/judgements)"
# Facts computed from data: a judgement may not stand in for them (a person does not record a RAG).
# ULHT 5.2 criterion 4, adherence to policies, is rated with the data criteria but has no data source.
COMPUTED_FROM_DATA = frozenset({registry.SERIES, registry.DIVISION, registry.CONTRACT, registry.SCORECARD, registry.LIFECYCLE})
JUDGED_DIVISION_CRITERIA = frozenset({"policies_adhered"})
# Judged facts the store also reads from data: an indicator's plan says who is accountable for it.
ALSO_FROM_DATA = frozenset({"accountability"})
JUDGEMENT_CLOCK = "the time since a recorded judgement (server/judgements)"


def is_boolean_kind(kind: JudgementKindSpec) -> bool:
    return all(isinstance(value, bool) for value in kind.values)


def judgement_facts(tenant: TenantFile) -> dict[str, FactDefinition]:
    """The facts the tenant's judgements supply: one per kind, plus one per clock."""
    facts: dict[str, FactDefinition] = {}
    for name, kind in tenant.judgements.items():
        if is_boolean_kind(kind):
            facts[name] = FactDefinition(name, "boolean", JUDGEMENT, kind.description or kind.name)
        else:
            facts[name] = FactDefinition(name, "choice", JUDGEMENT, kind.description or kind.name, tuple(str(v) for v in kind.values))
        if kind.clock is not None:
            facts[kind.clock.fact] = FactDefinition(
                kind.clock.fact, "integer", JUDGEMENT_CLOCK, f"Whole months since {kind.name.lower()} became {value_word(kind.clock.value)}.")
    return facts


def tenant_fact_registry(tenant: TenantFile) -> Mapping[str, FactDefinition]:
    """Every fact a tenant's conditions may name: the registry's, and its judgements'."""
    return {**FACTS, **judgement_facts(tenant)}


def judgement_subject_types(tenant: TenantFile) -> dict[str, set[str]]:
    """For each judgement fact (and clock), the subject types it is recorded about."""
    supplied: dict[str, set[str]] = {}
    for name, kind in tenant.judgements.items():
        supplied.setdefault(name, set()).update(kind.subjects)
        if kind.clock is not None:
            supplied.setdefault(kind.clock.fact, set()).update(kind.subjects)
    return supplied


def value_word(value: bool | str) -> str:
    """How a value reads on a page and in a form: yes / no, or the word with spaces."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.replace("_", " ")


def value_code(value: bool | str) -> str:
    """How a value travels in a form or the API: yes / no, or the word itself."""
    return ("yes" if value else "no") if isinstance(value, bool) else value


def parse_value(kind: JudgementKindSpec, given: str | bool) -> bool | str | None:
    """The kind's value a form or API sent (yes/no/true/false for a yes-or-no kind); None if it is not one."""
    if isinstance(given, bool):
        return given if given in kind.values else None
    text = given.strip().lower()
    if is_boolean_kind(kind):
        answer = {"yes": True, "true": True, "no": False, "false": False}.get(text)
        return answer if answer in kind.values else None
    return next((value for value in kind.values if isinstance(value, str) and value.lower() == text), None)


def validate_judgements(tenant: TenantFile, file: str, *, recording_roles: Collection[str]) -> list[TenantFileProblem]:
    """Every problem with the file's ``judgements:`` section, each naming file and path.

    ``recording_roles`` are the roles the Casbin policy lets record a judgement at all: a kind
    naming any other role could never be recorded. A ladder or cadence rule that compares a fact only
    people supply, which the file does not declare as a judgement, is refused too: nobody could ever
    record it, so the rule would wait for ever under "not known".
    """
    forums = {forum.code for forum in tenant.forums}
    problems = [TenantFileProblem(file, path, message) for path, message in _problems(tenant.judgements, forums, recording_roles)]
    return problems + [TenantFileProblem(file, path, message) for path, message in _undeclared(tenant)]


def _undeclared(tenant: TenantFile) -> Iterator[tuple[str, str]]:
    from server.escalation.validation import _comparisons, _conditions_of  # the loader's own walk over the file's rules

    supplied = {name for name in tenant.judgements} | {kind.clock.fact for kind in tenant.judgements.values() if kind.clock}
    for path, condition, subject in _conditions_of(tenant):
        for where, comparison in _comparisons(condition, path) if subject is not None else ():
            fact = comparison.fact
            if fact in registry.JUDGED and fact not in supplied and fact not in ALSO_FROM_DATA:
                yield f"{where}.fact", (f"'{fact}' is a judgement people record, but this file's judgements: section does not declare it "
                                        "(name, values, subjects and roles), so nobody could record it")


def _problems(kinds: Mapping[str, JudgementKindSpec], forums: Collection[str], recording_roles: Collection[str]) -> Iterator[tuple[str, str]]:
    clocks: dict[str, str] = {}
    for name, kind in kinds.items():
        path = f"judgements.{name}"
        types = {type(value) for value in kind.values}
        if len(types) > 1:
            yield f"{path}.values", "values are either all words or exactly [true, false], not a mixture"
            continue
        if len(set(kind.values)) != len(kind.values):
            yield f"{path}.values", "a value is listed twice"
        registered = FACTS.get(name)
        if registered is not None:
            yield from _agrees_with_registry(path, kind, registered)
        for index, role in enumerate(kind.roles):
            if role not in recording_roles:
                yield f"{path}.roles[{index}]", (f"'{role}' may not record judgements under policies/policy.csv "
                                                 f"(roles that may: {', '.join(sorted(recording_roles))})")
        if len(set(kind.subjects)) != len(kind.subjects):
            yield f"{path}.subjects", "a subject type is listed twice"
        if kind.forum is not None and kind.forum not in forums:
            yield f"{path}.forum", f"'{kind.forum}' is not a declared forum"
        if kind.clock is not None:
            yield from _clock_problems(path, name, kind, kinds, clocks)


def _agrees_with_registry(path: str, kind: JudgementKindSpec, registered: FactDefinition) -> Iterator[tuple[str, str]]:
    if registered.produced_by in COMPUTED_FROM_DATA and registered.name not in JUDGED_DIVISION_CRITERIA:
        yield path, f"'{registered.name}' is computed from data ({registered.produced_by}): it cannot be a judgement"
    elif registered.type == "boolean" and not is_boolean_kind(kind):
        yield f"{path}.values", f"'{registered.name}' is a yes-or-no fact: its values must be [true, false]"
    elif registered.type == "choice":
        if is_boolean_kind(kind):
            yield f"{path}.values", f"'{registered.name}' is {registered.describe_type()}, not yes or no"
        else:
            for index, value in enumerate(kind.values):
                if value not in registered.choices:
                    yield f"{path}.values[{index}]", f"'{value}' is not a value of '{registered.name}' ({registered.describe_type()})"
    elif registered.type not in ("boolean", "choice"):
        yield path, f"'{registered.name}' is {registered.describe_type()} produced by {registered.produced_by}: it cannot be a judgement"


def _clock_problems(path: str, name: str, kind: JudgementKindSpec, kinds: Mapping[str, JudgementKindSpec],
                    clocks: dict[str, str]) -> Iterator[tuple[str, str]]:
    clock = kind.clock
    assert clock is not None
    if clock.value not in kind.values:
        yield f"{path}.clock.value", f"{clock.value!r} is not one of this judgement's values"
    registered = FACTS.get(clock.fact)
    if registered is not None and registered.type != "integer":
        yield f"{path}.clock.fact", f"'{clock.fact}' is {registered.describe_type()}, not a count of months"
    if clock.fact in kinds:
        yield f"{path}.clock.fact", f"'{clock.fact}' is a judgement of its own"
    if clock.fact in clocks:
        yield f"{path}.clock.fact", f"'{clock.fact}' is already the clock of judgements.{clocks[clock.fact]}"
    clocks.setdefault(clock.fact, name)


def recording_roles(policy_file: Path | None = None) -> frozenset[str]:
    """The roles the base policy (the service's ``policies_dir``) lets record a judgement (``p, <role>, *, judgement, record``)."""
    return roles_granting("judgement", "record", policy_file)
