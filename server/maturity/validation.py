"""The loader's check of a tenant file's ``maturity:`` section against the policy: every role the
file names must be one the base policy lets ``record`` a ``maturity_assessment``, or nobody holding
it could ever record one (the same rule as judgements' roles)."""
from __future__ import annotations

from pathlib import Path

from server.tenants.parse import TenantFileProblem
from server.tenants.policy_roles import roles_not_granted
from server.tenants.spec import TenantFile


def validate_maturity(tenant: TenantFile, file: str, *, policy_file: Path | None = None) -> list[TenantFileProblem]:
    if tenant.maturity is None:
        return []
    return roles_not_granted(file, "maturity.roles", tenant.maturity.roles, "maturity_assessment", "record", policy_file)
