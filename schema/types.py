"""GraphQL output types, each mapped from a storage row by ``from_row``."""
from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from sqlalchemy import select

from schema.assessments import Assessment, Escalation, latest_assessment
from schema.context import Info
from server.db import models
from server.organisations import queries


@strawberry.enum
class Polarity(Enum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEUTRAL = "neutral"


@strawberry.type
class Measurement:
    period: dt.date
    unit_code: str
    value: float | None
    numerator: float | None
    denominator: float | None
    status: str
    revision: int
    recorded_at: dt.datetime

    @classmethod
    def from_row(cls, row: models.Measurement, unit_code: str) -> "Measurement":
        return cls(
            period=row.period, unit_code=unit_code, value=_float(row.value), numerator=_float(row.numerator),
            denominator=_float(row.denominator), status=row.status, revision=row.revision, recorded_at=row.recorded_at,
        )


@strawberry.type
class Target:
    kind: str
    value: float
    valid_from: dt.date | None
    valid_to: dt.date | None


@strawberry.type
class Indicator:
    id: strawberry.Private[int]
    code: str
    name: str
    definition: str | None
    unit: str
    polarity: Polarity
    rollup: str
    frequency: str
    source: str
    is_key: bool
    owner: str | None
    unit_codes: strawberry.Private[dict[int, str]]

    @classmethod
    def from_row(cls, row: models.Indicator, unit_codes: dict[int, str]) -> "Indicator":
        return cls(
            id=row.id, code=row.code, name=row.name, definition=row.definition, unit=row.unit,
            polarity=Polarity(row.polarity), rollup=row.rollup, frequency=row.frequency, source=row.source,
            is_key=row.is_key, owner=row.owner, unit_codes=unit_codes,
        )

    @strawberry.field(description="Most recent measurements, newest first, at every unit (at most 500).")
    async def recent_measurements(self, info: Info, limit: int = 24) -> list[Measurement]:
        limit = max(1, min(limit, 500))
        async with info.context.session() as session:
            rows = await queries.recent_measurements(session, indicator_id=self.id, limit=limit)
        return [Measurement.from_row(row, self.unit_codes.get(row.unit_id, "")) for row in rows]

    @strawberry.field(description="The latest stored assessment, at organisation level or for one unit, with its evidence.")
    async def assessment(self, info: Info, unit_code: str | None = None) -> Assessment | None:
        unit_id = next((uid for uid, code in self.unit_codes.items() if code == unit_code), None) if unit_code else None
        if unit_code and unit_id is None:
            return None
        async with info.context.session() as session:
            row = await latest_assessment(session, self.id, unit_id)
        return Assessment.from_row(row, unit_code) if row else None

    @strawberry.field
    async def targets(self, info: Info) -> list[Target]:
        async with info.context.session() as session:
            rows = (await queries.current_targets(session, [self.id])).values()
        return [Target(kind=t.kind, value=float(t.value), valid_from=t.valid_from, valid_to=t.valid_to) for t in rows]


@strawberry.type
class Unit:
    code: str
    name: str
    tier: str
    parent_code: str | None


@strawberry.type
class Organisation:
    id: strawberry.Private[int]
    code: str
    name: str
    kind: str
    nation: str

    @classmethod
    def from_row(cls, row: models.Organisation) -> "Organisation":
        return cls(id=row.id, code=row.code, name=row.name, kind=row.kind, nation=row.nation)

    @strawberry.field
    async def units(self, info: Info) -> list[Unit]:
        async with info.context.session() as session:
            units = await queries.units_of(session, org_id=self.id)
            tiers = {t.depth: t.name for t in await queries.tiers_of(session, org_id=self.id)}
        code_of = {u.id: u.code for u in units}
        return [Unit(code=u.code, name=u.name, tier=tiers.get(u.depth, ""), parent_code=code_of.get(u.parent_id)) for u in units]

    @strawberry.field(description="Escalations raised by this organisation's ladders; open ones unless include_closed.")
    async def escalations(self, info: Info, include_closed: bool = False) -> list[Escalation]:
        statement = select(models.Escalation).where(models.Escalation.org_id == self.id).order_by(models.Escalation.level.desc())
        if not include_closed:
            statement = statement.where(models.Escalation.status != "closed")
        async with info.context.session() as session:
            rows = (await session.exec(statement.limit(500))).scalars().all()
        return [Escalation.from_row(row) for row in rows]

    @strawberry.field
    async def indicators(self, info: Info, key_only: bool = False) -> list[Indicator]:
        async with info.context.session() as session:
            rows = await queries.indicators_of(session, org_id=self.id, key_only=key_only)
            unit_codes = {u.id: u.code for u in await queries.units_of(session, org_id=self.id)}
        return [Indicator.from_row(row, unit_codes) for row in rows]


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
