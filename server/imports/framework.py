"""What an import is checked against: the organisation's indicators and units, read once."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class IndicatorInfo:
    id: int
    code: str
    name: str
    unit: str  # percent, count, ...
    rollup: str  # rate, sum, max, min, none
    frequency: str

    @property
    def is_rate(self) -> bool:
        return self.rollup == "rate"

    @property
    def measured_as(self) -> str:
        if self.is_rate:
            return "numerator and denominator"
        if self.unit == "percent":
            return "percentage, e.g. 95 or 95%"
        return self.unit


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    is_leaf: bool
    is_root: bool


@dataclass(frozen=True)
class Framework:
    org_id: int
    org_code: str
    org_name: str
    indicators: dict[str, IndicatorInfo]  # by code, in the tenant file's order
    units: dict[str, UnitInfo]  # by code, tree order

    def recording_units(self, indicator: IndicatorInfo) -> list[UnitInfo]:
        """Measures are recorded at the lowest units (DOMAIN 4.2); ``rollup: none`` at the top."""
        return [u for u in self.units.values() if (u.is_root if indicator.rollup == "none" else u.is_leaf)]


async def load_framework(session: AsyncSession, *, org_id: int) -> Framework:
    organisation = (await session.exec(text("select code, name from organisation where id = :o"), params={"o": org_id})).one()
    indicators = (await session.exec(text(
        "select id, code, name, unit, rollup, frequency from indicator where org_id = :o order by position, code"), params={"o": org_id})).all()
    units = (await session.exec(text(
        "select u.id, u.code, u.name, not exists (select 1 from org_unit c where c.parent_id = u.id), u.parent_id is null"
        " from org_unit u where u.org_id = :o order by u.path"), params={"o": org_id})).all()
    return Framework(
        org_id=org_id, org_code=organisation[0], org_name=organisation[1],
        indicators={row[1]: IndicatorInfo(*row) for row in indicators},
        units={row[1]: UnitInfo(*row) for row in units},
    )
