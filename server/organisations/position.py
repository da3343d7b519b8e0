"""An organisation's position: its key indicators with the latest stored assessment."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Organisation


@dataclass(frozen=True)
class IndicatorPosition:
    indicator_id: int
    code: str
    name: str
    unit: str
    polarity: str
    domain: str
    period: dt.date | None
    value: float | None
    target: float | None
    rag: str
    variation: str
    assurance: str
    periods_under_target: int


@dataclass(frozen=True)
class OrganisationPosition:
    organisation: Organisation
    indicators: list[IndicatorPosition]

    @property
    def off_target(self) -> int:
        return sum(1 for i in self.indicators if i.rag == "red")


async def key_indicator_positions(session: AsyncSession, organisations: list[Organisation], *, key_only: bool = True) -> list[OrganisationPosition]:
    """One query for all organisations: what RLS lets this session see, nothing more."""
    if not organisations:
        return []
    rows = await session.exec(
        text(
            """
            select i.org_id, i.id, i.code, i.name, i.unit, i.polarity, d.name,
                   a.period, a.value, a.target, coalesce(a.rag, 'none'), coalesce(a.variation, 'none'),
                   coalesce(a.assurance, 'none'), coalesce(a.periods_under_target, 0)
            from indicator i
            join domain d on d.id = i.domain_id
            left join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
            where i.org_id = any(:org_ids) and (i.is_key or not :key_only)
            order by i.org_id, i.position
            """
        ),
        params={"org_ids": [o.id for o in organisations], "key_only": key_only},
    )
    by_org: dict[int, list[IndicatorPosition]] = {}
    for row in rows.all():
        by_org.setdefault(row[0], []).append(IndicatorPosition(*row[1:]))
    return [OrganisationPosition(org, by_org.get(org.id, [])) for org in organisations]
