"""A small trust of its own for tests that write and derive data, so the shared seed tenants stay as they are."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.db.models import Domain, Indicator, Organisation, OrgUnit, Target, UnitTier
from server.db.session import AccessContext, Database


@dataclass(frozen=True)
class Trust:
    org_id: int
    code: str
    leaf_codes: list[str]
    indicators: dict[str, int]  # code -> id

    @property
    def access(self) -> AccessContext:
        return AccessContext.for_orgs([self.org_id], write=True)


async def create_trust(database: Database, code: str, *, wards: int = 20) -> Trust:
    """A trust with one division of ``wards`` wards and three indicators: a count (lower is better,
    target 10), a percentage rate (higher is better, target 0.95) and a score without a target."""
    async with database.session() as session:
        organisation = Organisation(code=code, name=f"{code} Test Trust", kind="trust", is_tenant=True)
        session.add(organisation)
        await session.flush()
        org_id = organisation.id
    assert org_id is not None
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        session.add_all([UnitTier(org_id=org_id, depth=0, name="trust"), UnitTier(org_id=org_id, depth=1, name="division"),
                         UnitTier(org_id=org_id, depth=2, name="ward")])
        await session.flush()
        root = await _unit(session, org_id, code, depth=0, parent=None)
        division = await _unit(session, org_id, f"{code}-MED", depth=1, parent=root)
        leaves = [await _unit(session, org_id, f"{code}-W{number:02d}", depth=2, parent=division) for number in range(1, wards + 1)]
        domain = Domain(org_id=org_id, code="SAFE", name="Safe")
        session.add(domain)
        await session.flush()
        indicators = {}
        for name, indicator_code, unit, polarity, rollup, target in (
            ("Falls with harm", "FALLS", "count", "lower_is_better", "sum", Decimal(10)),
            ("Patients seen within 4 hours", "AE4H", "percent", "higher_is_better", "rate", Decimal("0.95")),
            ("Staff survey score", "SURVEY", "score", "neutral", "max", None),
        ):
            indicator = Indicator(org_id=org_id, code=indicator_code, name=name, unit=unit, polarity=polarity, rollup=rollup,
                                  domain_id=domain.id, source="local")
            session.add(indicator)
            await session.flush()
            indicators[indicator_code] = indicator.id
            if target is not None:
                session.add(Target(org_id=org_id, indicator_id=indicator.id, kind="local", value=target))
    return Trust(org_id=org_id, code=code, leaf_codes=[leaf.code for leaf in leaves], indicators=indicators)


async def _unit(session, org_id: int, code: str, *, depth: int, parent: OrgUnit | None) -> OrgUnit:  # type: ignore[no-untyped-def]
    unit = OrgUnit(org_id=org_id, code=code, name=code, depth=depth, parent_id=parent.id if parent else None, path="")
    session.add(unit)
    await session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await session.flush()
    return unit
