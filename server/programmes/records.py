"""Read programme records (migration 0016): one statement for any number of programmes.

Each programme comes with its milestones, its QIPP benefits by month and its risks (aggregated in
the same statement), and the open escalation the programme ladder holds about it, so the list page,
the programme page, GraphQL and the ladder's facts all read the same rows the same way.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# NHS 5 x 5 risk matrix: likelihood x impact of 15 to 25 is red ("extreme"), 8 to 12 amber.
HIGH_RISK_SCORE = 15
AMBER_RISK_SCORE = 8


@dataclass(frozen=True)
class Milestone:
    id: int
    title: str
    due_on: dt.date
    achieved_on: dt.date | None
    status: str  # planned, achieved, dropped
    version: int

    def overdue_on(self, day: dt.date) -> bool:
        """Past its due date at ``day`` and not achieved by then (a dropped milestone never is)."""
        return self.status != "dropped" and self.due_on < day and (self.achieved_on is None or self.achieved_on > day)

    @property
    def achieved_late(self) -> bool:
        return self.achieved_on is not None and self.achieved_on > self.due_on


@dataclass(frozen=True)
class BenefitMonth:
    month: dt.date
    planned: Decimal
    realised: Decimal | None


@dataclass(frozen=True)
class Risk:
    id: int
    description: str
    likelihood: int
    impact: int
    owner: str
    mitigation: str
    status: str  # open, closed
    raised_on: dt.date
    closed_on: dt.date | None
    version: int

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def rating(self) -> str:
        return "high" if self.score >= HIGH_RISK_SCORE else "moderate" if self.score >= AMBER_RISK_SCORE else "low"

    def open_on(self, day: dt.date) -> bool:
        return self.raised_on <= day and (self.closed_on is None or self.closed_on > day)


@dataclass(frozen=True)
class ProgrammeEscalation:
    id: int
    level: int
    level_name: str
    forum_code: str | None
    status: str
    why: str


@dataclass(frozen=True)
class ProgrammeRecord:
    id: int
    org_id: int
    code: str
    name: str
    status: str  # active, paused, closed
    sro_user_id: int | None
    sro_name: str | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    unit_id: int | None
    unit_code: str | None
    version: int
    milestones: tuple[Milestone, ...]
    benefits: tuple[BenefitMonth, ...]
    risks: tuple[Risk, ...]
    escalation: ProgrammeEscalation | None

    @property
    def subject_key(self) -> str:
        return f"programme:{self.code}"


_READ = """
select p.id, p.org_id, p.code, p.name, p.status, p.sro_user_id, p.sro_name, p.starts_on, p.ends_on, p.version, p.unit_id, u.code as unit_code,
  (select coalesce(json_agg(json_build_object('id', m.id, 'title', m.title, 'due_on', m.due_on, 'achieved_on', m.achieved_on,
                                              'status', m.status, 'version', m.version) order by m.due_on, m.id), '[]')
   from programme_milestone m where m.org_id = p.org_id and m.programme_id = p.id) as milestones,
  (select coalesce(json_agg(json_build_object('month', b.month, 'planned', b.planned::text, 'realised', b.realised::text)
                            order by b.month), '[]')
   from programme_benefit b where b.org_id = p.org_id and b.programme_id = p.id) as benefits,
  (select coalesce(json_agg(json_build_object('id', r.id, 'description', r.description, 'likelihood', r.likelihood, 'impact', r.impact,
                                              'owner', r.owner, 'mitigation', r.mitigation, 'status', r.status, 'raised_on', r.raised_on,
                                              'closed_on', r.closed_on, 'version', r.version)
                            order by r.status desc, r.likelihood * r.impact desc, r.id), '[]')
   from programme_risk r where r.org_id = p.org_id and r.programme_id = p.id) as risks,
  (select json_build_object('id', e.id, 'level', e.level, 'level_name', e.level_name, 'forum_code', e.forum_code, 'status', e.status,
                            'why', coalesce(e.explanation ->> 'text', ''))
   from escalation e where e.org_id = p.org_id and e.subject_type = 'programme' and e.subject_key = 'programme:' || p.code
     and e.status <> 'closed' order by e.level desc, e.id desc limit 1) as escalation
from programme p left join org_unit u on u.org_id = p.org_id and u.id = p.unit_id
where p.org_id = any(:orgs) and (cast(:code as varchar) is null or p.code = :code)
order by p.org_id, p.status = 'closed', p.code
"""


async def read_programmes(session: AsyncSession, org_id: int, *, code: str | None = None) -> list[ProgrammeRecord]:
    """The organisation's programmes (or the one with ``code``), open ones first, each in full."""
    return (await programmes_of_orgs(session, [org_id], code=code)).get(org_id, [])


async def programmes_of_orgs(session: AsyncSession, org_ids: list[int], *, code: str | None = None) -> dict[int, list[ProgrammeRecord]]:
    """Several organisations' programmes in the same one statement (GraphQL's loader)."""
    rows = (await session.exec(text(_READ), params={"orgs": org_ids, "code": code})).mappings().all()
    found: dict[int, list[ProgrammeRecord]] = {org_id: [] for org_id in org_ids}
    for row in rows:
        found[row["org_id"]].append(_record(row))
    return found


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _record(row) -> ProgrammeRecord:  # type: ignore[no-untyped-def]
    escalation = _json(row["escalation"])
    return ProgrammeRecord(
        id=row["id"], org_id=row["org_id"], code=row["code"], name=row["name"], status=row["status"], sro_user_id=row["sro_user_id"],
        sro_name=row["sro_name"], starts_on=row["starts_on"], ends_on=row["ends_on"], unit_id=row["unit_id"], unit_code=row["unit_code"], version=row["version"],
        milestones=tuple(Milestone(m["id"], m["title"], _date(m["due_on"]), _date(m["achieved_on"]), m["status"], m["version"])  # type: ignore[arg-type]
                         for m in _json(row["milestones"])),  # type: ignore[union-attr]
        benefits=tuple(BenefitMonth(_date(b["month"]), Decimal(b["planned"]), Decimal(b["realised"]) if b["realised"] is not None else None)  # type: ignore[arg-type]
                       for b in _json(row["benefits"])),  # type: ignore[union-attr]
        risks=tuple(Risk(r["id"], r["description"], r["likelihood"], r["impact"], r["owner"], r["mitigation"], r["status"],
                         _date(r["raised_on"]), _date(r["closed_on"]), r["version"]) for r in _json(row["risks"])),  # type: ignore[arg-type, union-attr]
        escalation=ProgrammeEscalation(**escalation) if isinstance(escalation, dict) else None,
    )


async def has_programmes(session: AsyncSession, organisation_code: str) -> bool:
    """Whether the organisation keeps programme records (its page links to them)."""
    return bool((await session.exec(text(
        "select exists (select 1 from programme p join organisation o on o.id = p.org_id where o.code = :code)"
    ), params={"code": organisation_code})).scalar_one())
