"""Programme records for tools (Sheffield 3.1): ``Organisation.programmes`` (milestones, QIPP planned and
realised per month with the year-to-date gap, risks, the escalation and the facts the ladder reads)
and the mutations that record progress, through the same services as the programme page. Refusals
are a typed result naming the argument at fault."""
from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
from strawberry.dataloader import DataLoader

from schema.context import AccordContext, Info
from server.organisations import queries
from server.programmes import record
from server.programmes.facts import assess_programme, qipp_months
from server.programmes.records import ProgrammeRecord, programmes_of_orgs, read_programmes

UK = ZoneInfo("Europe/London")
# The service's field names, as the mutations' arguments are called.
_ARGUMENT = {
    "programme": "programmeCode", "milestone": "milestoneId", "achieved_on": "achievedOn", "title": "title", "due_on": "dueOn",
    "month": "month", "realised": "realised", "planned": "planned", "description": "description", "likelihood": "likelihood",
    "impact": "impact", "owner": "owner", "mitigation": "mitigation", "status": "status", "risk": "riskId",
    "code": "programmeCode", "name": "name", "sro": "sroUserId", "starts_on": "startsOn", "ends_on": "endsOn", "qipp_target": "qippTarget",
}


@strawberry.type
class ProgrammeMilestone:
    id: int
    title: str
    due_on: dt.date
    achieved_on: dt.date | None
    status: str = strawberry.field(description="planned, achieved or dropped")
    overdue: bool = strawberry.field(description="Past its due date today and not achieved")


@strawberry.type(description="A month of the current financial year's QIPP plan, with the saving realised and the gap so far (pounds).")
class QippMonth:
    month: dt.date
    planned: float
    realised: float | None = strawberry.field(description="Null until the month's saving is reported")
    planned_to_date: float
    realised_to_date: float | None
    gap_to_date: float | None = strawberry.field(description="Planned less realised, April to this month; negative: ahead of plan")


@strawberry.type
class ProgrammeRisk:
    id: int
    description: str
    likelihood: int
    impact: int
    score: int = strawberry.field(description="likelihood x impact (NHS 5 x 5 matrix)")
    rating: str = strawberry.field(description="high (15+), moderate (8-12) or low")
    owner: str
    mitigation: str
    status: str
    raised_on: dt.date
    closed_on: dt.date | None
    version: int


@strawberry.type(description="The open escalation the programme ladder holds about the programme.")
class ProgrammeEscalationState:
    id: int
    level: int
    level_name: str
    forum: str | None
    why: str


@strawberry.type(description="A programme record (Sheffield 3.1) and the facts its ladder reads today.")
class Programme:
    code: str
    name: str
    status: str
    sro: str | None
    sro_user_id: int | None = strawberry.field(description="The Senior Responsible Owner chosen from Organisation.programmeSponsors; "
                                               "null while only the tenant file's post names one")
    starts_on: dt.date | None
    ends_on: dt.date | None
    milestones_overdue: int | None = strawberry.field(description="Null when nothing is recorded to judge the programme by")
    qipp_planned_ytd: float | None
    qipp_realised_ytd: float | None
    qipp_shortfall_ytd: float | None
    qipp_shortfall_percent_ytd: float | None = strawberry.field(description="As a fraction (0.1: 10% short)")
    qipp_year_to_date_through: dt.date | None = strawberry.field(description="The latest month counted in the year to date")
    high_risks: int | None
    months_exception_unresolved: int | None
    milestones: list[ProgrammeMilestone] = strawberry.field(metadata={"max_items": 100})
    qipp: list[QippMonth] = strawberry.field(metadata={"max_items": 12})
    risks: list[ProgrammeRisk] = strawberry.field(metadata={"max_items": 100})
    escalation: ProgrammeEscalationState | None

    @classmethod
    def from_record(cls, found: ProgrammeRecord, today: dt.date) -> "Programme":
        assessment = assess_programme(found, today)
        facts: dict[str, Any] = assessment.facts if assessment else {}
        ytd = assessment.year_to_date if assessment else None
        return cls(
            code=found.code, name=found.name, status=found.status, sro=found.sro_name, sro_user_id=found.sro_user_id,
            starts_on=found.starts_on, ends_on=found.ends_on,
            milestones_overdue=facts.get("milestones_overdue"), qipp_planned_ytd=float(ytd.planned) if ytd else None,
            qipp_realised_ytd=float(ytd.realised) if ytd else None, qipp_shortfall_ytd=facts.get("qipp_shortfall_ytd"),
            qipp_shortfall_percent_ytd=facts.get("qipp_shortfall_percent_ytd"), qipp_year_to_date_through=ytd.through if ytd else None,
            high_risks=facts.get("high_risks"), months_exception_unresolved=facts.get("months_exception_unresolved"),
            milestones=[ProgrammeMilestone(id=m.id, title=m.title, due_on=m.due_on, achieved_on=m.achieved_on, status=m.status,
                                           overdue=m.overdue_on(today)) for m in found.milestones],
            qipp=[QippMonth(month=m.month, planned=float(m.planned), realised=_float(m.realised), planned_to_date=float(m.planned_to_date),
                            realised_to_date=_float(m.realised_to_date), gap_to_date=_float(m.gap_to_date)) for m in qipp_months(found, today)],
            risks=[ProgrammeRisk(id=r.id, description=r.description, likelihood=r.likelihood, impact=r.impact, score=r.score, rating=r.rating,
                                 owner=r.owner, mitigation=r.mitigation, status=r.status, raised_on=r.raised_on, closed_on=r.closed_on,
                                 version=r.version) for r in found.risks],
            escalation=ProgrammeEscalationState(id=found.escalation.id, level=found.escalation.level, level_name=found.escalation.level_name,
                                                forum=found.escalation.forum_code, why=found.escalation.why) if found.escalation else None,
        )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _today() -> dt.date:
    return dt.datetime.now(UK).date()


def _programmes_loader(context: AccordContext) -> DataLoader:
    async def load(org_ids: list[int]) -> list[list[ProgrammeRecord]]:
        found = await context.read(lambda session: programmes_of_orgs(session, list(org_ids)))
        return [found.get(org_id, []) for org_id in org_ids]

    return context.loader("programmes", lambda: DataLoader(load_fn=load))


async def organisation_programmes(info: Info, org_id: int, code: str | None, include_closed: bool) -> list[Programme]:
    """Organisation.programmes: one statement for every organisation asked about in the request."""
    records = await _programmes_loader(info.context).load(org_id)
    today = _today()
    return [Programme.from_record(r, today) for r in records
            if (code is None or r.code == code) and (include_closed or r.status != "closed")]


@strawberry.type(description="A person who may be a programme's Senior Responsible Owner (createProgramme's sroUserId).")
class ProgrammeSponsor:
    user_id: int
    name: str


def _sponsors_loader(context: AccordContext) -> DataLoader:
    async def load(org_ids: list[int]) -> list[list[record.Sponsor]]:
        found = await context.read(lambda session: record.sro_candidates_of_orgs(session, context.authorizer, list(org_ids)))
        return [found.get(org_id, []) for org_id in org_ids]

    return context.loader("programme_sponsors", lambda: DataLoader(load_fn=load))


async def organisation_programme_sponsors(info: Info, org_id: int) -> list[ProgrammeSponsor]:
    """Organisation.programmeSponsors: one statement for every organisation asked about in the request. People are
    identity rows (no row-level security): only an organisation the caller reads lists its own (not one it contracts with)."""
    if org_id not in info.context.access.read_org_ids:
        return []
    return [ProgrammeSponsor(user_id=person.user_id, name=person.name) for person in await _sponsors_loader(info.context).load(org_id)]


@strawberry.type
class ProgrammeRecorded:
    message: str
    programme: Programme


@strawberry.type
class ProgrammeRefused:
    reason: str = strawberry.field(description="not_found, not_allowed, stale or invalid")
    message: str
    argument: str | None = strawberry.field(description="The argument at fault, when one is")


ProgrammeResult = Annotated[ProgrammeRecorded | ProgrammeRefused, strawberry.union("ProgrammeResult")]
Work = Callable[[Any, Any, Any, int], Awaitable[record.ProgrammeOutcome]]


async def _record(info: Info, organisation_code: str, programme_code: str, work: Work) -> ProgrammeRecorded | ProgrammeRefused:
    context = info.context
    principal = context.require_principal()
    async with context.session() as session:
        organisation = await queries.organisation_by_code(session, organisation_code)
        if organisation is None or organisation.id not in context.access.read_org_ids:
            return ProgrammeRefused(reason="not_found", message=f"No organisation you may read has the code '{organisation_code}'",
                                    argument="organisationCode")
        outcome = await work(session, context.authorizer, principal, organisation.id)
        if isinstance(outcome, record.ProgrammeRefused):
            await session.rollback()
            return ProgrammeRefused(reason=outcome.reason, message=outcome.message, argument=_ARGUMENT.get(outcome.field or ""))
        found = await read_programmes(session, organisation.id, code=outcome.programme_code)
    return ProgrammeRecorded(message=outcome.message, programme=Programme.from_record(found[0], _today()))


def _money(value: float | None) -> Decimal | None:
    return None if value is None else record.parse_money(repr(value))


@strawberry.type
class ProgrammeMutation:
    @strawberry.mutation(description="Open a programme record (the PMO): its Senior Responsible Owner one of Organisation.programmeSponsors, "
                                     "its start (and end), and the QIPP saving (pounds) to deliver in the financial year it starts in, "
                                     "planned evenly by month. Refusals name the argument.")
    async def create_programme(
        self, info: Info, organisation_code: str, programme_code: str, name: str, sro_user_id: int, starts_on: dt.date, qipp_target: float,
        ends_on: dt.date | None = None,
    ) -> ProgrammeResult:
        given = record.NewProgrammeInput(code=programme_code, name=name, sro_user_id=sro_user_id, starts_on=starts_on, ends_on=ends_on,
                                         qipp_target=_money(qipp_target))
        return await _record(info, organisation_code, programme_code, lambda session, authorizer, principal, org_id: record.create_programme(
            session, authorizer, principal, org_id=org_id, given=given))

    @strawberry.mutation(description="Keep a programme's record (the PMO), as the programme page's edit form does: its name, status "
                                     "(active, paused or closed), start and end (null: none), and its Senior Responsible Owner "
                                     "(sroUserId, one of Organisation.programmeSponsors; null keeps the one recorded). With the version "
                                     "read, a change made meanwhile is refused as stale.")
    async def edit_programme(
        self, info: Info, organisation_code: str, programme_code: str, name: str, status: str, sro_user_id: int | None = None,
        starts_on: dt.date | None = None, ends_on: dt.date | None = None, version: int | None = None,
    ) -> ProgrammeResult:
        given = record.ProgrammeInput(name=name, sro_user_id=sro_user_id, status=status, starts_on=starts_on, ends_on=ends_on, version=version)
        return await _record(info, organisation_code, programme_code, lambda session, authorizer, principal, org_id: record.edit_programme(
            session, authorizer, principal, org_id=org_id, programme_code=programme_code, given=given))

    @strawberry.mutation(description="Record a programme milestone achieved on a day (today or earlier); the programme ladder re-runs.")
    async def record_programme_milestone_achieved(
        self, info: Info, organisation_code: str, programme_code: str, milestone_id: int, achieved_on: dt.date,
    ) -> ProgrammeResult:
        return await _record(info, organisation_code, programme_code, lambda session, authorizer, principal, org_id: record.record_milestone_achieved(
            session, authorizer, principal, org_id=org_id, programme_code=programme_code, milestone_id=milestone_id, achieved_on=achieved_on))

    @strawberry.mutation(description="Add a milestone to a programme (the PMO).")
    async def add_programme_milestone(
        self, info: Info, organisation_code: str, programme_code: str, title: str, due_on: dt.date,
    ) -> ProgrammeResult:
        return await _record(info, organisation_code, programme_code, lambda session, authorizer, principal, org_id: record.add_milestone(
            session, authorizer, principal, org_id=org_id, programme_code=programme_code, title=title, due_on=due_on))

    @strawberry.mutation(description="A month's QIPP saving realised (pounds), once the month has ended; or its plan (the PMO).")
    async def record_programme_qipp(
        self, info: Info, organisation_code: str, programme_code: str, month: dt.date, realised: float | None = None, planned: float | None = None,
    ) -> ProgrammeResult:
        return await _record(info, organisation_code, programme_code, lambda session, authorizer, principal, org_id: record.record_qipp(
            session, authorizer, principal, org_id=org_id, programme_code=programme_code, month=month, realised=_money(realised),
            planned=_money(planned)))

    @strawberry.mutation(description="Add a risk to a programme, or (with riskId and the version read) update or close one.")
    async def save_programme_risk(
        self, info: Info, organisation_code: str, programme_code: str, description: str, likelihood: int, impact: int, owner: str,
        mitigation: str = "", status: str = "open", risk_id: int | None = None, version: int | None = None,
    ) -> ProgrammeResult:
        given = record.RiskInput(description=description, likelihood=likelihood, impact=impact, owner=owner, mitigation=mitigation,
                                 status=status, risk_id=risk_id, version=version)
        return await _record(info, organisation_code, programme_code, lambda session, authorizer, principal, org_id: record.save_risk(
            session, authorizer, principal, org_id=org_id, programme_code=programme_code, given=given))
