"""Earned autonomy for tools (ULHT PMF 5.2 and 6): ``earnedAutonomy`` (each division's level earned and
in force, the powers of the scheme of delegation it holds, its last accountability review and, on
request, the history) and ``recordAccountabilityReview``, through the same service as the earned
autonomy page. Refusals are a typed result naming the argument at fault."""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from server.autonomy.framework import AutonomyFramework, autonomy_framework
from server.autonomy.review import ReviewInput, ReviewRefused, record_review
from server.autonomy.store import HISTORY_LIMIT, DivisionAutonomy as DivisionRow, LevelChange, ReviewEntry, division_autonomy, level_history, review_history
from server.organisations import queries
from server.tenants.load import framework_of

# The service's field names, as the mutation's arguments are called.
_ARGUMENT = {"organisation": "organisationCode", "unit": "unitCode", "held_on": "heldOn", "autonomy_level": "autonomyLevel",
             "escalation_level": "escalationLevel", "notes": "notes"}


@strawberry.enum(description="Why an accountability review was not recorded.")
class AccountabilityReviewRefusal(Enum):
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    INVALID = "invalid"
    NOT_EARNED = "not_earned"


@strawberry.enum(description="What set an autonomy level: a rating of the division's data, or an accountability review.")
class AutonomyChangeCause(Enum):
    RATING = "rating"
    REVIEW = "review"


@strawberry.type(description="A power the scheme of delegation devolves (ULHT 5.2).")
class DelegatedPower:
    code: str
    name: str


@strawberry.type(description="A level of the scheme of delegation, with the powers it grants.")
class AutonomyLevel:
    level: int
    code: str
    name: str
    powers: list[DelegatedPower] = strawberry.field(metadata={"max_items": 50})

    @classmethod
    def of(cls, autonomy: AutonomyFramework, number: int | None) -> "AutonomyLevel | None":
        level = autonomy.level(number)
        if level is None:
            return None
        return cls(level=level.level, code=level.code, name=level.name,
                   powers=[DelegatedPower(code=p.code, name=p.name) for p in autonomy.powers_of(level.level)])


@strawberry.type(description="An accountability review of one division: who recorded it, when it was held, what it agreed.")
class AccountabilityReview:
    id: int
    unit_code: str
    unit_name: str
    held_on: dt.date
    autonomy_level: int
    escalation_level: int | None = strawberry.field(description="The escalation level agreed; null: left as it was")
    outcome: str
    notes: str
    recorded_by: str
    recorded_role: str

    @classmethod
    def from_entry(cls, entry: ReviewEntry) -> "AccountabilityReview":
        return cls(id=entry.id, unit_code=entry.unit_code, unit_name=entry.unit_name, held_on=entry.held_on,
                   autonomy_level=entry.autonomy_level, escalation_level=entry.escalation_level, outcome=entry.outcome, notes=entry.notes,
                   recorded_by=entry.recorded_by, recorded_role=entry.recorded_role)


@strawberry.type(description="A change of a division's autonomy levels, as kept in history.")
class AutonomyLevelChange:
    unit_code: str
    recorded_at: dt.datetime
    cause: AutonomyChangeCause
    earned_level: int
    level: int
    period: dt.date | None = strawberry.field(description="The data period the rating read; null for a review")


@strawberry.type(description="One division's earned autonomy under the scheme of delegation.")
class DivisionAutonomy:
    unit_code: str
    unit_name: str
    earned: AutonomyLevel | None = strawberry.field(description="What sustained performance earns now; null: not rated yet")
    in_force: AutonomyLevel | None = strawberry.field(description="The level the division holds")
    awaiting_review: bool = strawberry.field(description="It earns more than it holds: the next accountability review may grant it")
    level_since: dt.datetime | None
    rated_period: dt.date | None
    explanation: str | None = strawberry.field(description="The rule that gave the level earned, with its facts")
    escalation_level: int | None = strawberry.field(description="Its open escalation's level on the ladders the review agrees")
    escalation_level_name: str | None
    last_review: AccountabilityReview | None
    next_review_due: dt.date | None = strawberry.field(description="Six months (as declared) after the last review; null: none held yet")
    history: list[AutonomyLevelChange] = strawberry.field(metadata={"max_items": HISTORY_LIMIT},
                                                          description="Newest first; empty unless asked for with history: true")
    reviews: list[AccountabilityReview] = strawberry.field(metadata={"max_items": HISTORY_LIMIT},
                                                           description="Newest first; empty unless asked for with history: true")

    @classmethod
    def of(cls, row: DivisionRow, autonomy: AutonomyFramework, history: list[LevelChange], reviews: list[ReviewEntry]) -> "DivisionAutonomy":
        return cls(
            unit_code=row.unit_code, unit_name=row.unit_name, earned=AutonomyLevel.of(autonomy, row.earned_level),
            in_force=AutonomyLevel.of(autonomy, row.level), awaiting_review=row.awaiting_review, level_since=row.level_since,
            rated_period=row.rated_period, explanation=str(row.explanation.get("text")) if row.explanation.get("text") else None,
            escalation_level=row.escalation_level, escalation_level_name=row.escalation_level_name,
            last_review=AccountabilityReview.from_entry(row.last_review) if row.last_review else None,
            next_review_due=autonomy.next_review_due(row.last_review.held_on if row.last_review else None),
            history=[AutonomyLevelChange(unit_code=c.unit_code, recorded_at=c.recorded_at, cause=AutonomyChangeCause(c.cause),
                                         earned_level=c.earned_level, level=c.level, period=c.period)
                     for c in history if c.unit_code == row.unit_code],
            reviews=[AccountabilityReview.from_entry(r) for r in reviews if r.unit_code == row.unit_code],
        )


@strawberry.type
class AccountabilityReviewRecorded:
    message: str
    outcome: str
    division: DivisionAutonomy


@strawberry.type
class AccountabilityReviewRefused:
    reason: AccountabilityReviewRefusal
    message: str
    argument: str | None = strawberry.field(description="The argument at fault, when one is")


RecordReviewResult = Annotated[AccountabilityReviewRecorded | AccountabilityReviewRefused, strawberry.union("RecordAccountabilityReviewResult")]


async def _divisions(session, org_id: int, unit_code: str | None, history: bool) -> list[DivisionAutonomy]:  # type: ignore[no-untyped-def]
    autonomy = autonomy_framework(await framework_of(session, org_id))
    if autonomy is None:
        return []
    rows = await division_autonomy(session, org_id, autonomy, unit_code=unit_code)
    changes = await level_history(session, org_id, unit_code=unit_code) if history else []
    reviews = await review_history(session, org_id, unit_code=unit_code) if history else []
    return [DivisionAutonomy.of(row, autonomy, changes, reviews) for row in rows]


@strawberry.type
class AutonomyMutation:
    @strawberry.mutation(description="Record a division's accountability review: the autonomy level and (optionally) escalation level it agreed.")
    async def record_accountability_review(
        self, info: Info, organisation_code: str, unit_code: str, held_on: dt.date, autonomy_level: int, notes: str,
        escalation_level: int | None = None,
    ) -> RecordReviewResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return AccountabilityReviewRefused(reason=AccountabilityReviewRefusal.NOT_FOUND, argument="organisationCode",
                                                   message=f"No organisation you may read has the code '{organisation_code}'")
            outcome = await record_review(session, context.authorizer, principal, org_id=organisation.id, given=ReviewInput(
                unit=unit_code, held_on=held_on, autonomy_level=autonomy_level, escalation_level=escalation_level, notes=notes))
            if isinstance(outcome, ReviewRefused):
                await session.rollback()
                return AccountabilityReviewRefused(reason=AccountabilityReviewRefusal(outcome.reason), message=outcome.message,
                                                   argument=_ARGUMENT.get(outcome.field or ""))
            division = (await _divisions(session, organisation.id, unit_code, history=False))[0]
            return AccountabilityReviewRecorded(message=outcome.message, outcome=outcome.outcome, division=division)


@strawberry.type
class AutonomyQuery:
    @strawberry.field(
        description="Each division's earned autonomy (ULHT scheme of delegation): one division with unitCode; history adds every change and review.",
        metadata={"max_items": 100},
    )
    async def earned_autonomy(self, info: Info, organisation_code: str, unit_code: str | None = None,
                              history: bool = False) -> list[DivisionAutonomy]:
        context = info.context
        context.require_principal()

        async def read(session):  # type: ignore[no-untyped-def]
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return []
            return await _divisions(session, organisation.id, unit_code, history)

        return await context.read(read)
