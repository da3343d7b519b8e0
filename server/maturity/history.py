"""Self-assessments as recorded: the one in force per scope (the organisation, each programme area)
and the full history, newest first. One statement each; a later assessment supersedes an earlier one
of the same scope (by date assessed, then by the order recorded)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class RecordedAssessment:
    id: int
    programme: str | None  # None: the whole organisation
    level: int
    assessed_on: dt.date
    assessed_by: str | None  # the person's name (None once their account is gone)
    evidence: str
    superseded: bool


_HISTORY = text(
    """
    select m.id, m.programme, m.level, m.assessed_on, u.name, coalesce(m.notes, ''),
           row_number() over (partition by m.programme order by m.assessed_on desc, m.id desc) > 1 as superseded
      from maturity_assessment m left join app_user u on u.id = m.assessed_by
     where m.org_id = :org
     order by m.assessed_on desc, m.id desc
     limit :limit
    """
)
_LATEST = text(
    """
    select m.id from maturity_assessment m
     where m.org_id = :org and m.programme is not distinct from cast(:programme as varchar)
     order by m.assessed_on desc, m.id desc limit 1
    """
)


async def assessment_history(session: AsyncSession, org_id: int, *, limit: int = HISTORY_LIMIT) -> list[RecordedAssessment]:
    rows = (await session.exec(_HISTORY, params={"org": org_id, "limit": limit})).all()
    return [RecordedAssessment(*row) for row in rows]


def current_assessments(history: list[RecordedAssessment]) -> list[RecordedAssessment]:
    """The assessment in force per scope: the organisation's first, then programme areas by code."""
    current = [entry for entry in history if not entry.superseded]
    return sorted(current, key=lambda entry: (entry.programme is not None, entry.programme or ""))


async def latest_assessment_id(session: AsyncSession, org_id: int, programme: str | None) -> int | None:
    return (await session.exec(_LATEST, params={"org": org_id, "programme": programme})).scalar_one_or_none()
