"""Which roles the base Casbin policy grants an action: the loader checks the roles a tenant file names
(judgements, maturity, the accountability review) against it, or nobody holding one could ever act."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from server.settings import get_settings
from server.tenants.parse import TenantFileProblem


def roles_granting(obj: str, act: str, policy_file: Path | None = None) -> frozenset[str]:
    """The roles with a row ``p, <role>, *, <obj>, <act>`` in the base policy (the service's ``policies_dir``)."""
    return _roles_granting_in(policy_file or get_settings().policies_dir / "policy.csv", obj, act)


@functools.cache
def _roles_granting_in(policy_file: Path, obj: str, act: str) -> frozenset[str]:
    roles = set()
    for line in policy_file.read_text(encoding="utf-8").splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) == 5 and fields[0] == "p" and fields[3:] == [obj, act]:
            roles.add(fields[1])
    return frozenset(roles)


def roles_not_granted(file: str, path: str, roles: Sequence[str], obj: str, act: str, policy_file: Path | None = None) -> list[TenantFileProblem]:
    """A problem for each role a tenant file names at ``path`` that the base policy does not let ``act`` on ``obj``."""
    allowed = roles_granting(obj, act, policy_file)
    article = "an" if obj[0] in "aeiou" else "a"
    return [
        TenantFileProblem(file, f"{path}[{index}]",
                          f"'{role}' may not {act} {article} {obj} in the policy (roles that may: {', '.join(sorted(allowed)) or 'none'})")
        for index, role in enumerate(roles) if role not in allowed
    ]
