"""The ``maturity:`` section of a tenant file: levels numbered from one, roles the policy allows."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.maturity.validation import validate_maturity
from server.settings import PROJECT_ROOT
from server.tenants.load import validate_tenants
from server.tenants.spec import MaturitySpec, PeerGroupSpec, TenantFile


def test_stw_declares_the_five_levels_of_the_seed():
    stw = validate_tenants(PROJECT_ROOT / "tenants")["STW"]
    assert stw.maturity is not None
    assert [(level.level, level.name) for level in stw.maturity.levels] == [
        (1, "Disparate, uncoordinated approach"), (2, "Systematic performance measurement"), (3, "Effective performance reporting"),
        (4, "Performance management"), (5, "Performance improvement culture"),
    ]
    assert "system_planning_lead" in stw.maturity.roles


def test_levels_must_count_up_from_one():
    with pytest.raises(ValidationError, match="numbered 1, 2, 3"):
        MaturitySpec.model_validate({"roles": ["executive"], "levels": [
            {"level": 1, "name": "a", "impact": "a"}, {"level": 3, "name": "c", "impact": "c"}]})
    with pytest.raises(ValidationError):  # the database holds levels 1-5
        MaturitySpec.model_validate({"roles": ["executive"], "levels": [
            {"level": n, "name": str(n), "impact": str(n)} for n in range(1, 7)]})


def test_another_tenant_declares_its_own_levels_and_a_role_the_policy_refuses_is_named():
    tenant = TenantFile.model_validate({
        "organisation": {"code": "NCH", "name": "Northshire", "kind": "trust"},
        "maturity": {"roles": ["performance_manager", "viewer"], "levels": [
            {"level": 1, "name": "Starting", "impact": "Little is measured."}, {"level": 2, "name": "Established", "impact": "Measured and used."}]},
    })
    problems = validate_maturity(tenant, "nch.yaml")
    assert [str(p) for p in problems] == [
        "nch.yaml: maturity.roles[1]: 'viewer' may not record a maturity_assessment in the policy "
        "(roles that may: performance_manager, planning_performance_lead, system_planning_lead)"]


def test_a_peer_group_must_include_the_organisation_itself():
    with pytest.raises(ValidationError, match="must list the organisation itself"):
        TenantFile.model_validate({
            "organisation": {"code": "NCH", "name": "Northshire", "kind": "trust"},
            "peer_groups": [PeerGroupSpec(code="P", name="Peers", members=["RXW", "RL1"]).model_dump()],
        })
