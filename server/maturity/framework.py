"""Which maturity levels an organisation assesses itself against, and what it may assess.

An organisation's own file's ``maturity:`` section if it declares one; otherwise its system's (STW's
members assess against the ICS's levels), which the loader stores with the member's framework. The
scopes are the whole organisation and, where it has them, its programme areas: units of a
``programme`` tier and declared ``programmes:`` (the seed: "we may be at multiple levels ... for
different programme areas").
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.tenants.spec import MaturityLevelSpec, MaturitySpec

PROGRAMME_TIER = "programme"

# The stored framework's levels and programmes, and the programme-tier units: one statement.
_FRAMEWORK = text(
    """
    select f.spec -> 'maturity', coalesce(f.spec -> 'programmes', '[]'),
           array(select jsonb_build_array(u.code, u.name) from org_unit u
                   join unit_tier t on t.org_id = u.org_id and t.depth = u.depth
                  where u.org_id = f.org_id and t.name = :tier order by u.path)
      from tenant_framework f where f.org_id = :org and f.spec ? 'maturity'
    """
)


@dataclass(frozen=True)
class MaturityFramework:
    spec: MaturitySpec
    programmes: tuple[tuple[str, str], ...]  # (code, name) of the programme areas assessed separately

    def level(self, number: int) -> MaturityLevelSpec | None:
        return next((level for level in self.spec.levels if level.level == number), None)

    def programme_name(self, code: str | None) -> str | None:
        return None if code is None else dict(self.programmes).get(code, code)


async def maturity_framework(session: AsyncSession, org_id: int) -> MaturityFramework | None:
    """The levels this organisation assesses against, or None when its framework has none (or it is not readable)."""
    found = (await session.exec(_FRAMEWORK, params={"org": org_id, "tier": PROGRAMME_TIER})).first()
    if found is None:
        return None
    try:
        spec = MaturitySpec.model_validate(found[0])
    except ValidationError:  # the loader validated the file; a stored copy that no longer parses is a deployment slip
        return None
    programmes = dict((code, name) for code, name in found[2])
    for declared in found[1]:
        programmes.setdefault(declared["code"], declared["name"])
    return MaturityFramework(spec, tuple(programmes.items()))
