"""recordJudgement: what a person judged about a subject (a risk rating, System QPC's assurance, an
Executive Team decision), through the same service as the escalation and meeting pages. Refusals are
a typed result naming the argument at fault; the ladders re-run in the same transaction."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from sqlalchemy import select

from schema.context import Info
from server.db.models import Judgement
from server.judgements.kinds import value_code
from server.judgements.record import JudgementInput, JudgementRefused, record_judgement
from server.judgements.store import current_judgements, declared
from server.organisations import queries
from server.tenants.load import framework_of

HISTORY_LIMIT = 200

# The service's form-field names, as the mutation's arguments are called.
_ARGUMENT = {"organisation": "organisationCode", "kind": "kind", "subject": "subject", "value": "value", "reason": "reason", "expires": "expiresOn", "meeting": "meetingId"}


@strawberry.type(description="A judgement as recorded: it supersedes the previous one of its kind about the subject.")
class RecordedJudgement:
    id: int
    kind: str
    subject: str = strawberry.field(description="The subject's key, e.g. indicator:AE4H, unit:RWD-MED, contract:RXW")
    subject_name: str
    value: str | None = strawberry.field(description="yes / no, or one of the kind's words; null for a withdrawal")
    withdrawn: bool
    reason: str
    recorded_by: str
    recorded_role: str
    recorded_at: dt.datetime
    expires_at: dt.datetime | None
    supersedes_id: int | None

    @classmethod
    def from_row(cls, row: Judgement) -> "RecordedJudgement":
        return cls(
            id=row.id, kind=row.kind, subject=row.subject_key, subject_name=row.subject_name,
            value=None if row.withdrawn else value_code(row.value), withdrawn=row.withdrawn, reason=row.reason,
            recorded_by=row.recorded_by_name, recorded_role=row.recorded_role, recorded_at=row.recorded_at,
            expires_at=row.expires_at, supersedes_id=row.supersedes_id,
        )


@strawberry.type
class JudgementRecorded:
    message: str
    judgement: RecordedJudgement
    escalations_changed: int = strawberry.field(description="Escalations the ladders opened, moved or closed as a result")


@strawberry.type
class JudgementRefusedResult:
    reason: str = strawberry.field(description="not_found, not_allowed, stale or invalid")
    message: str
    argument: str | None = strawberry.field(description="The argument at fault, when one is")


RecordJudgementResult = Annotated[JudgementRecorded | JudgementRefusedResult, strawberry.union("RecordJudgementResult")]


@strawberry.type
class JudgementMutation:
    @strawberry.mutation(description="Record (or withdraw) a judgement the organisation's framework declares; its ladders re-run at once.")
    async def record_judgement(
        self, info: Info, organisation_code: str, kind: str, subject: str, reason: str, value: str | None = None,
        expires_on: dt.date | None = None, withdraw: bool = False, meeting_id: int | None = None, meeting_version: int | None = None,
    ) -> RecordJudgementResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None:
                return JudgementRefusedResult(reason="not_found", message=f"No organisation has the code '{organisation_code}'",
                                              argument="organisationCode")
            outcome = await record_judgement(session, context.authorizer, principal, org_id=organisation.id, given=JudgementInput(
                kind=kind, subject_key=subject, value=value, reason=reason, withdraw=withdraw, expires_on=expires_on,
                meeting_id=meeting_id, meeting_version=meeting_version,
            ))
            if isinstance(outcome, JudgementRefused):
                return JudgementRefusedResult(reason=outcome.reason, message=outcome.message, argument=_ARGUMENT.get(outcome.field or ""))
            ladders = outcome.ladders
            return JudgementRecorded(message=outcome.message, escalations_changed=ladders.opened + ladders.moved + ladders.closed,
                                     judgement=RecordedJudgement.from_row(outcome.judgement))


@strawberry.type
class JudgementQuery:
    @strawberry.field(
        description="An organisation's judgements: those in force (the ladders' facts), or with history every one recorded, newest first.",
        metadata={"max_items": HISTORY_LIMIT},
    )
    async def judgements(
        self, info: Info, organisation_code: str, subject: str | None = None, history: bool = False,
    ) -> list[RecordedJudgement]:
        context = info.context
        context.require_principal()

        async def read(session):  # type: ignore[no-untyped-def]
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return []
            keys = [subject] if subject else None
            if history:
                statement = select(Judgement).where(Judgement.org_id == organisation.id)
                if subject:
                    statement = statement.where(Judgement.subject_key == subject)
                rows = await session.exec(statement.order_by(Judgement.recorded_at.desc(), Judgement.id.desc()).limit(HISTORY_LIMIT))
                return [RecordedJudgement.from_row(row) for row in rows.scalars()]
            framework = await framework_of(session, organisation.id)
            current = declared(await current_judgements(session, organisation.id, at=dt.datetime.now(dt.UTC), subject_keys=keys), framework)
            rows = await session.exec(select(Judgement).where(Judgement.id.in_([j.id for j in current])).order_by(Judgement.subject_key, Judgement.kind))
            return [RecordedJudgement.from_row(row) for row in rows.scalars()]

        return await context.read(read)
