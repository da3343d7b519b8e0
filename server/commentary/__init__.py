"""The indicator owner's commentary for a period: written on the indicator page, printed beside the
chart in the IPR, kept version by version (a new text is a new row; the latest is current).

Who may write it is the accountability matrix's ``commentary write`` (the performance team, the
executives who own indicators, divisional triumvirates). Services never commit.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.auth.authz import Authorizer, Principal, acting_domain
from server.db.models import Commentary, Indicator, OrgUnit

OBJECT = "commentary"
LIMIT = 4000


@dataclass(frozen=True)
class CommentaryView:
    id: int
    indicator_id: int
    period: dt.date
    body: str
    author: str
    written_at: dt.datetime


@dataclass(frozen=True)
class CommentaryRefused:
    message: str
    status_code: int = 400
    field: str | None = None


def may_write(authorizer: Authorizer, principal: Principal | None, domain: str) -> bool:
    return authorizer.allows(principal, domain, OBJECT, "write")


async def write_commentary(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, indicator_id: int, unit_id: int | None,
    period: dt.date | None, body: str,
) -> CommentaryView | CommentaryRefused:
    """Store a new version of the commentary on one series for one period (``unit_id`` None: organisation level)."""
    indicator = await session.get(Indicator, indicator_id)
    unit = await session.get(OrgUnit, unit_id) if unit_id is not None else None
    if indicator is None or (unit_id is not None and (unit is None or unit.org_id != indicator.org_id)):
        return CommentaryRefused("Indicator not found", 404)
    if not may_write(authorizer, principal, await acting_domain(session, indicator.org_id)):
        return CommentaryRefused("Your role does not allow you to write the commentary on this indicator", 403)
    body = body.strip()
    if not body:
        return CommentaryRefused("Enter the commentary: what moved, why, and what is being done", field="commentary")
    if len(body) > LIMIT:
        return CommentaryRefused(f"The commentary must be {LIMIT:,} characters or fewer", field="commentary")
    unit_clause = "unit_id is null" if unit_id is None else "unit_id = :unit"
    periods = set((await session.exec(text(
        f"select period from assessment where indicator_id = :indicator and {unit_clause}"
    ), params={"indicator": indicator.id, "unit": unit_id})).scalars())
    if period not in periods:
        return CommentaryRefused("Choose a period that has a value", field="commentary_period")
    row = Commentary(org_id=indicator.org_id, indicator_id=indicator.id, unit_id=unit_id, period=period, body=body,
                     author_id=principal.user_id, author_name=principal.name)
    session.add(row)
    await session.flush()
    await record_event(
        session, action="commentary.written", object_type=OBJECT, object_id=str(row.id), org_id=indicator.org_id,
        actor_user_id=principal.user_id, after={"indicator": indicator.code, "period": period.isoformat(), "characters": len(body)},
    )
    return _view(row.id, row.indicator_id, row.period, row.body, row.author_name, row.written_at)


async def latest_commentary(
    session: AsyncSession, indicator_ids: Sequence[int], unit_id: int | None, *, before: dt.date | None = None,
) -> dict[int, CommentaryView]:
    """Per indicator, the current commentary on its latest stored period at the unit (None: organisation
    level), or on its last stored period before the day ``before`` (an IPR of an earlier month). One statement."""
    if not indicator_ids:
        return {}
    rows = (await session.exec(text(
        "select distinct on (c.indicator_id) c.id, c.indicator_id, c.period, c.body, c.author_name, c.written_at"
        " from commentary c"
        " where c.indicator_id = any(:ids) and c.unit_id is not distinct from cast(:unit as integer)"
        "   and c.period = (select max(a.period) from assessment a where a.indicator_id = c.indicator_id"
        "                   and a.unit_id is not distinct from c.unit_id and a.period < coalesce(cast(:before as date), 'infinity'))"
        " order by c.indicator_id, c.written_at desc, c.id desc"
    ), params={"ids": list(indicator_ids), "unit": unit_id, "before": before})).all()
    return {row[1]: _view(*row) for row in rows}


async def commentary_history(session: AsyncSession, indicator_id: int, unit_id: int | None, limit: int = 24) -> list[CommentaryView]:
    """The current commentary of each period of one series, newest period first."""
    rows = (await session.exec(text(
        "select * from (select distinct on (period) id, indicator_id, period, body, author_name, written_at from commentary"
        " where indicator_id = :indicator and unit_id is not distinct from cast(:unit as integer)"
        " order by period, written_at desc, id desc) current order by period desc limit :limit"
    ), params={"indicator": indicator_id, "unit": unit_id, "limit": limit})).all()
    return [_view(*row) for row in rows]


def _view(id: int, indicator_id: int, period: dt.date, body: str, author: str, written_at: dt.datetime) -> CommentaryView:  # noqa: A002
    return CommentaryView(id=id, indicator_id=indicator_id, period=period, body=body, author=author, written_at=written_at)
