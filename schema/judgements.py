"""recordJudgement: what a person judged about a subject (a risk rating, System QPC's assurance, an
Executive Team decision), through the same service as the escalation and meeting pages. Refusals are
a typed result naming the argument at fault; the ladders re-run in the same transaction."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.context import Info
from server.judgements.kinds import value_code
from server.judgements.record import JudgementInput, JudgementRefused, record_judgement
from server.organisations import queries

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
            row, ladders = outcome.judgement, outcome.ladders
            return JudgementRecorded(
                message=outcome.message, escalations_changed=ladders.opened + ladders.moved + ladders.closed,
                judgement=RecordedJudgement(
                    id=row.id, kind=row.kind, subject=row.subject_key, subject_name=row.subject_name,
                    value=None if row.withdrawn else value_code(row.value), withdrawn=row.withdrawn, reason=row.reason,
                    recorded_by=row.recorded_by_name, recorded_role=row.recorded_role, recorded_at=row.recorded_at,
                    expires_at=row.expires_at, supersedes_id=row.supersedes_id,
                ),
            )
