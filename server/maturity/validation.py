"""The loader's check of a tenant file's ``maturity:`` section against the policy: every role the
file names must be one the base policy lets ``record`` a ``maturity_assessment``, or nobody holding
it could ever record one (the same rule as judgements' roles)."""
from __future__ import annotations

import functools
from pathlib import Path

from server.settings import get_settings
from server.tenants.parse import TenantFileProblem
from server.tenants.spec import TenantFile


def validate_maturity(tenant: TenantFile, file: str, *, policy_file: Path | None = None) -> list[TenantFileProblem]:
    if tenant.maturity is None:
        return []
    allowed = _recording_roles(policy_file or get_settings().policies_dir / "policy.csv")
    return [
        TenantFileProblem(file, f"maturity.roles[{index}]",
                          f"'{role}' may not record a maturity_assessment in the policy (roles that may: {', '.join(sorted(allowed))})")
        for index, role in enumerate(tenant.maturity.roles) if role not in allowed
    ]


@functools.cache
def _recording_roles(policy_file: Path) -> frozenset[str]:
    roles = set()
    for line in policy_file.read_text(encoding="utf-8").splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) == 5 and fields[0] == "p" and fields[3:] == ["maturity_assessment", "record"]:
            roles.add(fields[1])
    return frozenset(roles)
