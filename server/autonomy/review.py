"""Record a division's accountability review (ULHT PMF 6: "an accountability review for all services,
which will occur every six months, at which is agreed the level of escalation and autonomy"): the one
service behind the earned autonomy page and GraphQL's ``recordAccountabilityReview``.

Who may: the roles the tenant file's ``earned_autonomy.review.roles`` names, if the Casbin policy also
lets them ``record`` an ``accountability_review``. The review agrees the autonomy level in force (never
more than the division's performance earns) and, optionally, the level of its open escalation on the
ladders the review resets (a change by hand with the review as its reason, which holds until a person
changes it; the ladder still raises it when the data say so at its next run). The review, the new
autonomy level and each escalation change are audited, in one transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.auth.authz import Authorizer, FieldRefusal, Principal, acting_domain
from server.autonomy.framework import AutonomyFramework, autonomy_framework
from server.autonomy.store import add_level, current_levels
from server.db.models import Escalation as EscalationRow
from server.escalation.lifecycle import TransitionKind, TransitionRefused
from server.escalation_store.manual import change_by_hand
from server.tenants.load import framework_of

NOTES_LIMIT = 4000
UK = ZoneInfo("Europe/London")
RefusalReason = Literal["not_found", "not_allowed", "invalid", "not_earned"]


@dataclass(frozen=True)
class ReviewInput:
    unit: str | None  # the division's unit code
    held_on: dt.date | None
    autonomy_level: int | None
    escalation_level: int | None  # None: the escalation level stands as it is
    notes: str


@dataclass(frozen=True)
class ReviewRecorded:
    review_id: int
    unit_code: str
    outcome: str
    role: str
    message: str


@dataclass(frozen=True)
class ReviewRefused(FieldRefusal):
    reason: RefusalReason


def reviewing_roles_here(authorizer: Authorizer, principal: Principal | None, domain: str, autonomy: AutonomyFramework) -> list[str]:
    """The principal's roles here that both the tenant file and the policy let record a review."""
    return authorizer.roles_entitled(principal, domain, "accountability_review", "record", autonomy.spec.review.roles)


_DIVISION = text("select id, name from org_unit where org_id = :org and depth = 1 and code = :code")
_INSERT_REVIEW = text(
    """
    insert into accountability_review (org_id, unit_id, held_on, autonomy_level, autonomy_code, escalation_level, outcome, notes,
                                       recorded_by, recorded_by_name, recorded_role)
    values (:org, :unit, :held_on, :autonomy, :autonomy_code, :escalation, :outcome, :notes, :user, :name, :role)
    returning id
    """
)


async def record_review(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, given: ReviewInput, now: dt.datetime | None = None,
) -> ReviewRecorded | ReviewRefused:
    now = now or dt.datetime.now(dt.UTC)
    autonomy = autonomy_framework(await framework_of(session, org_id))
    if autonomy is None:  # row-level security: an organisation this request cannot read has no framework to it
        return ReviewRefused("not_found", "This organisation's framework declares no earned autonomy, or you may not see it", "organisation")
    domain = await acting_domain(session, org_id)
    roles = reviewing_roles_here(authorizer, principal, domain, autonomy)
    if not roles or not authorizer.allows(principal, domain, "accountability_review", "record"):
        return ReviewRefused("not_allowed", "Your role does not allow you to record this organisation's accountability review "
                             f"(the framework gives it to: {', '.join(r.replace('_', ' ') for r in autonomy.spec.review.roles)})")
    division = (await session.exec(_DIVISION, params={"org": org_id, "code": given.unit or ""})).first()
    if division is None:
        return ReviewRefused("invalid", "Choose the division reviewed", "unit")
    unit_id, unit_name = division
    today = now.astimezone(UK).date()
    if given.held_on is None or given.held_on > today:
        return ReviewRefused("invalid", "Enter the date the review was held, today or earlier, for example 2026-11-30", "held_on")
    notes = (given.notes or "").strip()
    if not notes:
        return ReviewRefused("invalid", "Give the review's notes: what it found and why it agreed these levels", "notes")
    if len(notes) > NOTES_LIMIT:
        return ReviewRefused("invalid", f"Keep the notes to {NOTES_LIMIT:,} characters or fewer", "notes")
    agreed = autonomy.level(given.autonomy_level)
    if agreed is None:
        return ReviewRefused("invalid", "Choose the autonomy level the review agreed", "autonomy_level")
    if given.escalation_level is not None and any(
            not any(level.level == given.escalation_level for level in ladder.levels) for ladder in autonomy.resets):
        return ReviewRefused("invalid", "Choose an escalation level of the divisional ladder, or leave it as it is", "escalation_level")
    # One writer of the organisation's ladders at a time. The levels earned are as the last run of the
    # ladders left them (every data change, judgement and daily tick runs them).
    await lock_for_transaction(session, LADDERS, [org_id])
    earned, in_force = (await current_levels(session, org_id)).get(unit_id, (None, None))
    if earned is None:
        return ReviewRefused("invalid", f"{unit_name} has no rating yet: there is no data to review", "unit")
    if agreed.level > earned:
        return ReviewRefused("not_earned", f"{unit_name}'s performance earns '{autonomy.level_name(earned)}': the review cannot agree more "
                             f"than it earns ({ _sustained_hint(autonomy) })", "autonomy_level")
    escalations = await _open_escalations(session, org_id, unit_id, autonomy)
    if given.escalation_level is not None:
        resting = [ladder.code for ladder in autonomy.resets
                   if given.escalation_level != ladder.levels[0].level and ladder.code not in {row.ladder_code for row in escalations}]
        if resting:
            return ReviewRefused("invalid", f"{unit_name} has no open escalation to set at a level: the ladder opens one from the data",
                                 "escalation_level")
    outcome = _outcome(autonomy, in_force, agreed.level, escalations, given.escalation_level)
    review_id = (await session.exec(_INSERT_REVIEW, params={
        "org": org_id, "unit": unit_id, "held_on": given.held_on, "autonomy": agreed.level, "autonomy_code": agreed.code,
        "escalation": given.escalation_level, "outcome": outcome, "notes": notes, "user": principal.user_id, "name": principal.name,
        "role": roles[0],
    })).scalar_one()
    if agreed.level != in_force:
        await add_level(session, org_id, autonomy, unit_id=unit_id, earned=earned, level=agreed.level, cause="review", review_id=review_id,
                        explanation={"text": f"{autonomy.spec.review.name} held {given.held_on.isoformat()}: {notes}"})
    reason = f"{autonomy.spec.review.name} held {given.held_on.isoformat()}: {notes}"
    for row in escalations:
        if given.escalation_level is None or given.escalation_level == row.level:
            continue
        kind = (TransitionKind.CLOSED if given.escalation_level == _resting(autonomy, row.ladder_code)
                else TransitionKind.DE_ESCALATED if given.escalation_level < row.level else TransitionKind.ESCALATED)
        moved = await change_by_hand(session, row, kind, principal=principal, role=roles[0], reason=reason, to_level=given.escalation_level)
        if isinstance(moved, TransitionRefused):
            raise RuntimeError(f"review transition refused: {moved.reason}")  # the checks above only ask for allowed moves
    await record_event(
        session, action="accountability_review.recorded", object_type="accountability_review", object_id=str(review_id), org_id=org_id,
        actor_user_id=principal.user_id, actor_role=roles[0], before={"autonomy_level": in_force, "earned_level": earned},
        after={"unit": given.unit, "held_on": given.held_on.isoformat(), "autonomy_level": agreed.level,
               "escalation_level": given.escalation_level, "outcome": outcome, "notes": notes},
    )
    return ReviewRecorded(review_id, given.unit or "", outcome, roles[0], f"Accountability review recorded for {unit_name}. {outcome}")


async def _open_escalations(session: AsyncSession, org_id: int, unit_id: int, autonomy: AutonomyFramework) -> list[EscalationRow]:
    codes = [ladder.code for ladder in autonomy.resets]
    if not codes:
        return []
    rows = await session.exec(
        select(EscalationRow).where(EscalationRow.org_id == org_id, EscalationRow.unit_id == unit_id, EscalationRow.status != "closed",
                                    EscalationRow.ladder_code.in_(codes)).with_for_update()  # type: ignore[attr-defined]
    )
    return list(rows.scalars())


def _resting(autonomy: AutonomyFramework, ladder_code: str) -> int:
    return next(ladder.levels[0].level for ladder in autonomy.resets if ladder.code == ladder_code)


def _outcome(autonomy: AutonomyFramework, in_force: int | None, agreed: int, escalations: list[EscalationRow], escalation_level: int | None) -> str:
    """The review's outcome in words: the autonomy level agreed and the escalation level, each against what it was."""
    was = autonomy.level_name(in_force)
    name = autonomy.level_name(agreed)
    parts = [f"Autonomy: {name} (confirmed)." if in_force == agreed else
             f"Autonomy: {name} ({'granted' if in_force is None or agreed > in_force else 'withdrawn'}; was {was})."]
    if escalation_level is None:
        parts.append("Escalation: left as it was.")
    for ladder in autonomy.resets:
        if escalation_level is None:
            break
        level = next(lvl for lvl in ladder.levels if lvl.level == escalation_level)
        row = next((row for row in escalations if row.ladder_code == ladder.code), None)
        before = row.level_name if row is not None else ladder.levels[0].name
        parts.append(f"Escalation: {level.name} (confirmed)." if (row.level if row is not None else ladder.levels[0].level) == escalation_level
                     else f"Escalation: {level.name} (reset; was {before}).")
    return " ".join(parts)


def _sustained_hint(autonomy: AutonomyFramework) -> str:
    return f"the rules of '{autonomy.ladder.name}' say which level sustained performance earns"
