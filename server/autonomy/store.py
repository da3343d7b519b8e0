"""Each division's autonomy level, kept as history (migration 0018): recomputed with the ladders (after
new data, a judgement, a review, and by the daily tick) and read for the pages and GraphQL.

A row is added only when something changed: the level the division's performance earns (the
autonomy ladder's rules over the same unit facts the escalation ladder reads) or the level in force.
With ``granted: at_review`` a higher level earned waits for the accountability review, and a level no
longer earned is withdrawn at once; with ``when_earned`` the level in force is the level earned.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.autonomy.framework import AutonomyFramework
from server.escalation.engine import step
from server.escalation.facts import FactDefinition
from server.escalation_store.facts import Subject
from server.escalation_store.moves import explanation_of

HISTORY_LIMIT = 200

_CURRENT = text(
    "select distinct on (unit_id) unit_id, earned_level, level from autonomy_level where org_id = :org order by unit_id, id desc"
)
_INSERT = text(
    """
    insert into autonomy_level (org_id, unit_id, earned_level, earned_code, level, level_code, cause, review_id, period, explanation)
    values (:org, :unit, :earned, :earned_code, :level, :level_code, :cause, :review, :period, cast(:explanation as jsonb))
    """
)


async def current_levels(session: AsyncSession, org_id: int) -> dict[int, tuple[int, int]]:
    """unit id -> (level earned, level in force), from each unit's latest row."""
    rows = (await session.exec(_CURRENT, params={"org": org_id})).all()
    return {unit_id: (earned, level) for unit_id, earned, level in rows}


async def refresh_autonomy(
    session: AsyncSession, org_id: int, autonomy: AutonomyFramework, subjects: Sequence[Subject], *,
    judged: Mapping[str, Mapping[str, object]], known: Mapping[str, FactDefinition], at: dt.datetime,
) -> int:
    """Rate every rated unit on the autonomy ladder and add a row for each whose levels changed; returns how many."""
    current = await current_levels(session, org_id)
    changed = 0
    for subject in subjects:
        if subject.unit_id is None:
            continue
        facts = {**subject.facts, **judged.get(subject.key, {})}
        outcome = step(autonomy.ladder, None, facts, subject=subject.key, at=at, period=subject.period, known=known).outcome
        earned = outcome.level
        previous = current.get(subject.unit_id)
        in_force = earned if autonomy.spec.granted == "when_earned" else min(previous[1] if previous else autonomy.resting_level, earned)
        if previous == (earned, in_force):
            continue
        await add_level(session, org_id, autonomy, unit_id=subject.unit_id, earned=earned, level=in_force, cause="rating",
                        period=subject.period.latest if subject.period else None, explanation=explanation_of(outcome, subject))
        changed += 1
    return changed


async def add_level(
    session: AsyncSession, org_id: int, autonomy: AutonomyFramework, *, unit_id: int, earned: int, level: int, cause: str,
    period: dt.date | None = None, review_id: int | None = None, explanation: Mapping[str, object] | None = None,
) -> None:
    await session.exec(_INSERT, params={
        "org": org_id, "unit": unit_id, "earned": earned, "earned_code": autonomy.level(earned).code,  # type: ignore[union-attr]
        "level": level, "level_code": autonomy.level(level).code, "cause": cause, "review": review_id,  # type: ignore[union-attr]
        "period": period, "explanation": json.dumps(explanation or {}, default=str),
    })


@dataclass(frozen=True)
class ReviewEntry:
    id: int
    unit_code: str
    unit_name: str
    held_on: dt.date
    autonomy_level: int
    escalation_level: int | None
    outcome: str
    notes: str
    recorded_by: str
    recorded_role: str


@dataclass(frozen=True)
class DivisionAutonomy:
    unit_id: int
    unit_code: str
    unit_name: str
    earned_level: int | None  # None: not rated yet (no data)
    level: int | None
    level_since: dt.datetime | None  # when the level in force was last set
    rated_period: dt.date | None
    explanation: Mapping[str, object]
    last_review: ReviewEntry | None
    escalation_level: int | None  # the open escalation on the review's ladders, if any
    escalation_level_name: str | None

    @property
    def awaiting_review(self) -> bool:
        """Earned more than is in force: the next accountability review may grant it."""
        return self.earned_level is not None and self.level is not None and self.earned_level > self.level


@dataclass(frozen=True)
class LevelChange:
    unit_code: str
    unit_name: str
    recorded_at: dt.datetime
    cause: str
    earned_level: int
    level: int
    period: dt.date | None
    review_id: int | None


# Every division (units one tier below the organisation) with its latest autonomy row, the row that
# set its level in force, its last review and its open escalation on the review's ladders: one statement.
_DIVISIONS = text(
    """
    select u.id, u.code, u.name, cur.earned_level, cur.level, since.recorded_at, cur.period, coalesce(cur.explanation, '{}'),
           r.id, r.held_on, r.autonomy_level, r.escalation_level, r.outcome, r.notes, r.recorded_by_name, r.recorded_role,
           e.level, e.level_name
      from org_unit u
      left join lateral (select * from autonomy_level a where a.org_id = u.org_id and a.unit_id = u.id order by a.id desc limit 1) cur on true
      left join lateral (
        select min(a.recorded_at) as recorded_at from autonomy_level a
         where a.org_id = u.org_id and a.unit_id = u.id and a.id > coalesce(
           (select max(b.id) from autonomy_level b where b.org_id = u.org_id and b.unit_id = u.id and b.level <> cur.level), 0)
      ) since on true
      left join lateral (select * from accountability_review r where r.org_id = u.org_id and r.unit_id = u.id
                          order by r.held_on desc, r.id desc limit 1) r on true
      left join lateral (select e.level, e.level_name from escalation e where e.org_id = u.org_id and e.unit_id = u.id
                          and e.ladder_code = any(:ladders) and e.status <> 'closed' order by e.level desc limit 1) e on true
     where u.org_id = :org and u.depth = 1 and (cast(:unit as varchar) is null or u.code = :unit)
     order by u.path
    """
)
_HISTORY = text(
    """
    select u.code, u.name, a.recorded_at, a.cause, a.earned_level, a.level, a.period, a.review_id
      from autonomy_level a join org_unit u on u.id = a.unit_id
     where a.org_id = :org and (cast(:unit as varchar) is null or u.code = :unit)
     order by a.id desc limit :limit
    """
)
_REVIEWS = text(
    """
    select r.id, u.code, u.name, r.held_on, r.autonomy_level, r.escalation_level, r.outcome, r.notes, r.recorded_by_name, r.recorded_role
      from accountability_review r join org_unit u on u.id = r.unit_id
     where r.org_id = :org and (cast(:unit as varchar) is null or u.code = :unit)
     order by r.held_on desc, r.id desc limit :limit
    """
)


async def division_autonomy(
    session: AsyncSession, org_id: int, autonomy: AutonomyFramework, *, unit_code: str | None = None,
) -> list[DivisionAutonomy]:
    rows = (await session.exec(_DIVISIONS, params={"org": org_id, "unit": unit_code, "ladders": [l.code for l in autonomy.resets]})).all()
    divisions = []
    for (unit_id, code, name, earned, level, since, period, explanation, review_id, held_on, review_autonomy, review_escalation, outcome,
         notes, recorded_by, role, escalation_level, escalation_name) in rows:
        review = ReviewEntry(review_id, code, name, held_on, review_autonomy, review_escalation, outcome, notes, recorded_by, role) \
            if review_id is not None else None
        divisions.append(DivisionAutonomy(unit_id, code, name, earned, level, since, period, explanation, review,
                                          escalation_level, escalation_name))
    return divisions


async def level_history(session: AsyncSession, org_id: int, *, unit_code: str | None = None, limit: int = HISTORY_LIMIT) -> list[LevelChange]:
    rows = (await session.exec(_HISTORY, params={"org": org_id, "unit": unit_code, "limit": limit})).all()
    return [LevelChange(*row) for row in rows]


async def review_history(session: AsyncSession, org_id: int, *, unit_code: str | None = None, limit: int = HISTORY_LIMIT) -> list[ReviewEntry]:
    rows = (await session.exec(_REVIEWS, params={"org": org_id, "unit": unit_code, "limit": limit})).all()
    return [ReviewEntry(*row) for row in rows]
