"""Reads about organisations, shared by the GraphQL schema and the pages.

Every function takes a session opened with the request's access context: row-level security has
already narrowed what these queries can see; the functions never widen it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Domain, Indicator, Measurement, Organisation, OrgUnit, Target, UnitTier

# Organisation-level value from leaf measurements, by the indicator's roll-up method (DOMAIN 4.2):
# counts sum, rates as sum(numerator)/sum(denominator), longest waits as max; 'none' is not rolled up.
# Percentages are stored as fractions (0.95 = 95%) throughout, as the tenant files write them.
ROLLUP_SQL = """
  case i.rollup
    when 'sum' then sum(m.value)
    when 'max' then max(m.value)
    when 'min' then min(m.value)
    when 'rate' then sum(m.numerator) / nullif(sum(m.denominator), 0)
    else case when count(*) = 1 then max(m.value) end
  end
"""


@dataclass(frozen=True)
class OrganisationValue:
    indicator_id: int
    period: dt.date
    value: float | None


async def visible_organisations(session: AsyncSession, org_ids: Sequence[int]) -> list[Organisation]:
    """Organisations among org_ids, by name. Directory rows: the caller passes what access allows."""
    if not org_ids:
        return []
    rows = await session.exec(select(Organisation).where(Organisation.id.in_(org_ids)).order_by(Organisation.name))
    return list(rows.all())


async def organisation_by_code(session: AsyncSession, code: str) -> Organisation | None:
    return (await session.exec(select(Organisation).where(Organisation.code == code))).first()


async def indicators_of(session: AsyncSession, *, org_id: int, key_only: bool = False) -> list[Indicator]:
    statement = select(Indicator).where(Indicator.org_id == org_id).order_by(Indicator.position)
    if key_only:
        statement = statement.where(Indicator.is_key)
    return list((await session.exec(statement)).all())


async def domains_of(session: AsyncSession, *, org_id: int) -> list[Domain]:
    return list((await session.exec(select(Domain).where(Domain.org_id == org_id).order_by(Domain.position))).all())


async def units_of(session: AsyncSession, *, org_id: int) -> list[OrgUnit]:
    return list((await session.exec(select(OrgUnit).where(OrgUnit.org_id == org_id).order_by(OrgUnit.path))).all())


async def tiers_of(session: AsyncSession, *, org_id: int) -> list[UnitTier]:
    return list((await session.exec(select(UnitTier).where(UnitTier.org_id == org_id).order_by(UnitTier.depth))).all())


async def current_targets(session: AsyncSession, indicator_ids: Sequence[int], on: dt.date | None = None) -> dict[int, Target]:
    """The target in force per indicator: the most stretching of those valid on the day.

    A tenant may set a local or stretch target more demanding than the national one (THGPCG 5);
    it cannot lower the standard, so a less demanding local figure (a plan's stepping stone) is
    tracked as a trajectory, not as the target.
    """
    if not indicator_ids:
        return {}
    on = on or dt.date.today()
    rows = (await session.exec(
        select(Target, Indicator.polarity).join(Indicator, Indicator.id == Target.indicator_id).where(Target.indicator_id.in_(indicator_ids))
    )).all()
    chosen: dict[int, Target] = {}
    for target, polarity in rows:
        if (target.valid_from and target.valid_from > on) or (target.valid_to and target.valid_to < on):
            continue
        best = chosen.get(target.indicator_id)
        sign = -1 if polarity == "lower_is_better" else 1
        if best is None or sign * target.value > sign * best.value:
            chosen[target.indicator_id] = target
    return chosen


async def latest_organisation_values(session: AsyncSession, indicator_ids: Sequence[int]) -> dict[int, OrganisationValue]:
    """Each indicator's organisation-level value for its latest period with data."""
    if not indicator_ids:
        return {}
    rows = await session.exec(
        text(
            f"""
            with latest as (
              select indicator_id, max(period) as period from measurement
              where indicator_id = any(:ids) group by indicator_id
            )
            select i.id, l.period, {ROLLUP_SQL} as value
            from latest l join indicator i on i.id = l.indicator_id
            join measurement m on m.indicator_id = l.indicator_id and m.period = l.period
            group by i.id, i.rollup, i.unit, l.period
            """
        ),
        params={"ids": list(indicator_ids)},
    )
    return {row[0]: OrganisationValue(row[0], row[1], float(row[2]) if row[2] is not None else None) for row in rows.all()}


async def recent_measurements(session: AsyncSession, *, indicator_id: int, limit: int = 12) -> list[Measurement]:
    statement = (
        select(Measurement).where(Measurement.indicator_id == indicator_id)
        .order_by(Measurement.period.desc(), Measurement.unit_id).limit(limit)
    )
    return list((await session.exec(statement)).all())
