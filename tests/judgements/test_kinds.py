"""The judgements: section of a tenant file: its kinds become facts, and mistakes are refused naming file and path."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.judgements.kinds import judgement_facts, parse_value, recording_roles, tenant_fact_registry, validate_judgements
from server.escalation.validation import validate_tenant_conditions
from server.tenants.parse import parse_tenant_file, parse_tenant_text
from server.tenants.load import validate_tenants

TENANTS = Path(__file__).resolve().parents[2] / "tenants"

TENANT = """
organisation: {code: JDG, name: Judged Community Trust, kind: trust}
tiers: [trust]
units: [{code: JDG, name: Judged Community Trust, tier: trust}]
domains: [{code: quality, name: Quality}]
indicators:
  - {code: FALLS, name: Falls, unit: count, polarity: lower_is_better, rollup: sum, domain: quality, source: local,
     targets: [{kind: local, value: 10}]}
forums:
  - {code: BOARD, name: Trust Board, tier: oversight, chair: Chair, frequency: monthly}
  - {code: QPC, name: Quality Committee, tier: assurance, chair: NED, frequency: monthly}
escalation:
  ladders:
    - code: ladder
      name: Ladder
      applies_to: indicator
      levels:
        - {level: 0, code: fine, name: Fine}
        - {level: 1, code: watched, name: Watched, when: {fact: cqc_concern, value: serious}}
        - {level: 2, code: not-assured, name: Not assured, when: {all: [{fact: qpc_assured, value: false}, {fact: months_not_assured, op: ">=", value: 2}]}}
judgements:
  cqc_concern:
    name: CQC concern
    values: [none, minor, serious]
    subjects: [indicator]
    roles: [committee_member]
    forum: QPC
  qpc_assured:
    name: Committee assured
    values: [yes, no]
    subjects: [indicator]
    roles: [committee_member]
    clock: {value: no, fact: months_not_assured}
"""


def _tenant(text: str = TENANT):
    return parse_tenant_text(text, file="judged.yaml")


def _problems(text: str) -> list[str]:
    tenant = _tenant(text)
    problems = validate_judgements(tenant, "judged.yaml", recording_roles=recording_roles()) + validate_tenant_conditions(tenant, "judged.yaml")
    return [str(problem) for problem in problems]


def test_a_new_kind_of_judgement_is_a_fact_of_this_tenant_alone():
    facts = judgement_facts(_tenant())
    assert facts["cqc_concern"].type == "choice" and facts["cqc_concern"].choices == ("none", "minor", "serious")
    assert facts["qpc_assured"].type == "boolean"  # yes/no read as booleans
    assert facts["months_not_assured"].type == "integer"  # the clock
    assert "cqc_concern" in tenant_fact_registry(_tenant())
    assert _problems(TENANT) == []


def test_every_seed_tenant_declares_the_judgements_its_ladders_wait_on():
    tenants = validate_tenants(TENANTS)  # raises, naming file and path, if a judged fact is used undeclared
    declared = {code: set(tenant.judgements) for code, tenant in tenants.items()}
    assert {"qpc_assured", "risk_rating", "patient_safety_risk"} <= declared["STW"]
    assert {"executive_team_decision", "policies_adhered"} <= declared["RWD"]
    assert "material_deviation" in declared["WHSSC"]
    assert {"intelligence_concern", "requires_cet_decision"} <= declared["03N"]
    assert {"plan_robust", "sustainability_in_question"} <= declared["NL4"]


@pytest.mark.parametrize(("change", "expected"), [
    (("roles: [committee_member]\n    forum: QPC", "roles: [data_submitter]\n    forum: QPC"),
     "judged.yaml: judgements.cqc_concern.roles[0]: 'data_submitter' may not record judgements under policies/policy.csv"),
    (("forum: QPC\n  qpc_assured", "forum: NOPE\n  qpc_assured"), "judged.yaml: judgements.cqc_concern.forum: 'NOPE' is not a declared forum"),
    (("values: [yes, no]", "values: [assured, not_assured]"),
     "judged.yaml: judgements.qpc_assured.values: 'qpc_assured' is a yes-or-no fact: its values must be [true, false]"),
    (("clock: {value: no,", "clock: {value: maybe,"), "judged.yaml: judgements.qpc_assured.clock.value: 'maybe' is not one of this judgement's values"),
    (("value: serious}}", "value: grave}}"),
     "judged.yaml: escalation.ladders[0].levels[1].when.value: fact 'cqc_concern' is one of none, minor, serious; 'grave' is not"),
    (("values: [none, minor, serious]", "values: [none, minor, yes]"),
     "judged.yaml: judgements.cqc_concern.values: values are either all words or exactly [true, false], not a mixture"),
])
def test_a_mistake_in_a_judgement_is_refused_naming_file_and_path(change, expected):
    old, new = change
    assert old in TENANT
    problems = _problems(TENANT.replace(old, new))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_fact_computed_from_data_cannot_be_declared_a_judgement():
    text = TENANT + "  rag:\n    name: RAG by hand\n    values: [red, amber, green]\n    subjects: [indicator]\n    roles: [committee_member]\n"
    assert "judged.yaml: judgements.rag: 'rag' is computed from data" in " ".join(_problems(text))


def test_a_registry_choice_judgement_may_use_only_its_values():
    text = TENANT + "  risk_rating:\n    name: Risk\n    values: [low, severe]\n    subjects: [indicator]\n    roles: [committee_member]\n"
    assert any(p.startswith("judged.yaml: judgements.risk_rating.values[1]: 'severe' is not a value of 'risk_rating'") for p in _problems(text))


def test_a_ladder_waiting_on_an_undeclared_judgement_is_refused():
    text = TENANT.replace("when: {fact: cqc_concern, value: serious}", "when: {fact: risk_rating, value: high}")
    problems = _problems(text)
    assert any(p.startswith("judged.yaml: escalation.ladders[0].levels[1].when.fact: 'risk_rating' is a judgement people record, but this file")
               for p in problems), problems


def test_values_arrive_from_forms_and_the_api_as_words():
    kinds = _tenant().judgements
    assert parse_value(kinds["qpc_assured"], "No") is False and parse_value(kinds["qpc_assured"], "yes") is True
    assert parse_value(kinds["cqc_concern"], "Serious") == "serious"
    assert parse_value(kinds["cqc_concern"], "grave") is None and parse_value(kinds["qpc_assured"], "maybe") is None


def test_the_seed_files_still_parse_one_by_one():
    for path in TENANTS.glob("*.yaml"):
        tenant = parse_tenant_file(path)
        assert validate_judgements(tenant, path.name, recording_roles=recording_roles()) == []


def test_a_value_of_no_known_type_is_refused_by_the_parser_with_its_path():
    from server.tenants.parse import TenantFileError

    with pytest.raises(TenantFileError, match=r"judged.yaml: judgements.cqc_concern.values\[3\]"):
        _tenant(TENANT.replace("values: [none, minor, serious]", "values: [none, minor, serious, 3]"))
