"""Maturity self-assessment for tools: ``maturityAssessments`` (in force, or the history) and
``recordMaturityAssessment``, through the same service as the maturity page. Refusals are a typed
result naming the argument at fault."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.context import Info
from server.maturity.framework import MaturityFramework, maturity_framework
from server.maturity.history import HISTORY_LIMIT, RecordedAssessment, assessment_history, current_assessments
from server.maturity.record import MaturityInput, MaturityRefused, record_maturity
from server.organisations import queries

# The service's field names, as the mutation's arguments are called.
_ARGUMENT = {"organisation": "organisationCode", "level": "level", "evidence": "evidence", "programme": "programme"}


@strawberry.type(description="A maturity self-assessment as recorded: a later one of the same scope supersedes it.")
class MaturityAssessment:
    id: int
    programme: str | None = strawberry.field(description="The programme area assessed; null: the whole organisation")
    programme_name: str | None
    level: int = strawberry.field(description="1-5 on the framework's levels (STW: 'achieving a performance improvement culture')")
    level_name: str
    assessed_on: dt.date
    assessed_by: str | None
    evidence: str
    superseded: bool

    @classmethod
    def from_entry(cls, entry: RecordedAssessment, framework: MaturityFramework) -> "MaturityAssessment":
        level = framework.level(entry.level)
        return cls(id=entry.id, programme=entry.programme, programme_name=framework.programme_name(entry.programme), level=entry.level,
                   level_name=level.name if level else "", assessed_on=entry.assessed_on, assessed_by=entry.assessed_by,
                   evidence=entry.evidence, superseded=entry.superseded)


@strawberry.type
class MaturityAssessmentRecorded:
    message: str
    assessment: MaturityAssessment
    supersedes_id: int | None


@strawberry.type
class MaturityAssessmentRefused:
    reason: str = strawberry.field(description="not_found, not_allowed or invalid")
    message: str
    argument: str | None = strawberry.field(description="The argument at fault, when one is")


RecordMaturityResult = Annotated[MaturityAssessmentRecorded | MaturityAssessmentRefused, strawberry.union("RecordMaturityAssessmentResult")]


@strawberry.type
class MaturityMutation:
    @strawberry.mutation(description="Record an organisation's (or one programme area's) maturity self-assessment, with its evidence.")
    async def record_maturity_assessment(
        self, info: Info, organisation_code: str, level: int, evidence: str, programme: str | None = None,
    ) -> RecordMaturityResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return MaturityAssessmentRefused(reason="not_found", message=f"No organisation you may read has the code '{organisation_code}'",
                                                 argument="organisationCode")
            outcome = await record_maturity(session, context.authorizer, principal, org_id=organisation.id,
                                            given=MaturityInput(level=level, evidence=evidence, programme=programme))
            if isinstance(outcome, MaturityRefused):
                await session.rollback()
                return MaturityAssessmentRefused(reason=outcome.reason, message=outcome.message, argument=_ARGUMENT.get(outcome.field or ""))
            framework = await maturity_framework(session, organisation.id)
            entry = RecordedAssessment(outcome.assessment.id, outcome.assessment.programme, outcome.assessment.level,  # type: ignore[arg-type]
                                       outcome.assessment.assessed_on, principal.name, outcome.assessment.notes or "", False)
            return MaturityAssessmentRecorded(message=outcome.message, supersedes_id=outcome.supersedes_id,
                                              assessment=MaturityAssessment.from_entry(entry, framework))  # type: ignore[arg-type]


@strawberry.type
class MaturityQuery:
    @strawberry.field(
        description="An organisation's maturity self-assessments: those in force (one per scope), or with history every one, newest first.",
        metadata={"max_items": HISTORY_LIMIT},
    )
    async def maturity_assessments(self, info: Info, organisation_code: str, history: bool = False) -> list[MaturityAssessment]:
        context = info.context
        context.require_principal()

        async def read(session):  # type: ignore[no-untyped-def]
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return []
            framework = await maturity_framework(session, organisation.id)
            if framework is None:
                return []
            entries = await assessment_history(session, organisation.id)
            return [MaturityAssessment.from_entry(entry, framework) for entry in (entries if history else current_assessments(entries))]

        return await context.read(read)
