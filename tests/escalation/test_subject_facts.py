"""Each kind of subject is told a declared set of facts; the loader refuses a ladder whose rules name any other."""
from __future__ import annotations

import pytest

from server.escalation import validate_tenant_conditions
from server.escalation.facts import FACTS, SUBJECT_FACTS
from server.tenants.spec import TenantFile


def _tenant(applies_to: str, when: dict, judgements: dict | None = None) -> TenantFile:
    return TenantFile.model_validate({
        "organisation": {"code": "X", "name": "X", "kind": "trust"},
        "escalation": {"ladders": [{"code": "l", "name": "l", "applies_to": applies_to, "levels": [
            {"level": 0, "code": "rest", "name": "rest"},
            {"level": 1, "code": "one", "name": "one", "when": when},
        ]}]},
        **({"judgements": judgements} if judgements else {}),
    })


@pytest.mark.parametrize(("applies_to", "fact", "value"), [
    ("indicator", "failed_criteria", 1),  # a divisional rating: units only
    ("domain", "contract_value", 1000.0),
    ("plan", "milestone_missed", True),
    ("organisation", "spc_variation", "special_cause_concerning"),  # one series' verdict, not a scorecard's
])
def test_a_fact_the_subject_type_never_supplies_is_refused_naming_file_and_path(applies_to, fact, value) -> None:
    problems = validate_tenant_conditions(_tenant(applies_to, {"fact": fact, "value": value}), "x.yaml")
    assert [(p.file, p.path) for p in problems] == [("x.yaml", "escalation.ladders[0].levels[1].when.fact")]
    article = "an" if applies_to in ("indicator", "organisation") else "a"
    assert f"'{fact}' is never supplied for {article} {applies_to} subject" in problems[0].message


@pytest.mark.parametrize("applies_to", list(SUBJECT_FACTS))
def test_periods_sustained_on_target_is_supplied_for_every_subject_type(applies_to) -> None:
    assert validate_tenant_conditions(_tenant(applies_to, {"fact": "periods_sustained", "op": ">=", "value": 2}), "x.yaml") == []


def test_every_declared_fact_is_in_the_registry_and_every_subject_hears_its_lifecycle() -> None:
    assert set().union(*SUBJECT_FACTS.values()) <= set(FACTS)
    assert all({"current_level", "months_in_level", "periods_in_level"} <= names for names in SUBJECT_FACTS.values())


def test_a_judgement_the_tenant_declares_counts_only_for_the_subjects_it_names() -> None:
    declared = {"risk_rating": {"name": "Risk", "values": ["low", "medium", "high"], "subjects": ["indicator"],
                                "roles": ["planning_performance_lead"]}}
    on_domain = _tenant("domain", {"fact": "risk_rating", "value": "high"}, declared)
    on_indicator = _tenant("indicator", {"fact": "risk_rating", "value": "high"}, declared)
    assert "'risk_rating' is never supplied for a domain subject" in validate_tenant_conditions(on_domain, "x.yaml")[0].message
    assert validate_tenant_conditions(on_indicator, "x.yaml") == []
