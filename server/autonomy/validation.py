"""The loader's check of a tenant file's ``earned_autonomy:`` section against the policy: every role its
review names must be one the base policy lets ``record`` an ``accountability_review`` (the same rule
as judgements' and maturity's roles). The section's references are checked with the file's model."""
from __future__ import annotations

from pathlib import Path

from server.tenants.parse import TenantFileProblem
from server.tenants.policy_roles import roles_not_granted
from server.tenants.spec import TenantFile


def validate_earned_autonomy(tenant: TenantFile, file: str, *, policy_file: Path | None = None) -> list[TenantFileProblem]:
    if tenant.earned_autonomy is None:
        return []
    return roles_not_granted(file, "earned_autonomy.review.roles", tenant.earned_autonomy.review.roles, "accountability_review", "record",
                             policy_file)
