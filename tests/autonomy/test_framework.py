"""The ``earned_autonomy:`` section of a tenant file: its ladder, powers, review forum, reset ladders and
roles are checked when the file loads, each problem naming the file and the path."""
from __future__ import annotations

import copy

import pytest
import yaml

from server.autonomy.framework import autonomy_framework
from server.autonomy.validation import validate_earned_autonomy
from server.settings import PROJECT_ROOT
from server.tenants.parse import TenantFileError, parse_tenant_file
from server.tenants.load import validate_tenants
from server.tenants.spec import TenantFile


def _ulht() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "tenants" / "ulht.yaml").read_text(encoding="utf-8"))


def test_ulht_declares_the_scheme_of_delegation_of_the_seed():
    autonomy = autonomy_framework(validate_tenants(PROJECT_ROOT / "tenants")["RWD"])
    assert autonomy is not None
    assert [level.code for level in autonomy.ladder.levels] == ["standard", "partial-autonomy", "full-autonomy"]
    assert len(autonomy.spec.powers) == 6 and autonomy.powers_of(0) == []
    assert [p.code for p in autonomy.powers_of(1)] == ["revenue_expenditure_authorisation", "staffing_budget_post_redesign",
                                                        "pay_to_non_pay_flexibility"]
    assert (autonomy.spec.review.every_months, autonomy.spec.review.roles, [l.code for l in autonomy.resets]) == (6, ["executive"], ["ulht-divisional"])


def test_broken_references_are_named_by_file_and_path(tmp_path):
    data = _ulht()
    broken = copy.deepcopy(data)
    broken["earned_autonomy"]["powers"] = broken["earned_autonomy"]["powers"][1:]  # revenue authorisation no longer declared
    broken["earned_autonomy"]["review"]["forum"] = "NOWHERE"
    broken["earned_autonomy"]["review"]["resets"] = ["ulht-earned-autonomy"]
    path = tmp_path / "ulht.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(TenantFileError) as raised:
        parse_tenant_file(path)
    problems = {(p.path, p.message) for p in raised.value.problems}
    assert ("escalation.ladders[1].levels[1].requires[0]",
            "'revenue_expenditure_authorisation' is not one of earned_autonomy.powers") in problems
    assert ("earned_autonomy.review.forum", "'NOWHERE' is not a declared forum") in problems
    assert ("earned_autonomy.review.resets[0]", "'ulht-earned-autonomy' is not a declared escalation ladder of units") in problems
    assert all(p.file == "ulht.yaml" for p in raised.value.problems)
    wrong_ladder = copy.deepcopy(data)
    wrong_ladder["earned_autonomy"]["ladder"] = "ulht-divisional"
    path.write_text(yaml.safe_dump(wrong_ladder), encoding="utf-8")
    with pytest.raises(TenantFileError) as raised:
        parse_tenant_file(path)
    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("earned_autonomy.ladder", "'ulht-divisional' must have purpose 'autonomy' and apply to 'unit'")]


def test_a_role_the_policy_does_not_let_record_the_review_is_named():
    data = _ulht()
    data["earned_autonomy"]["review"]["roles"] = ["executive", "divisional_triumvirate"]
    problems = validate_earned_autonomy(TenantFile.model_validate(data), "ulht.yaml")
    assert [str(p) for p in problems] == [
        "ulht.yaml: earned_autonomy.review.roles[1]: 'divisional_triumvirate' may not record an accountability_review in the policy "
        "(roles that may: executive)"]
