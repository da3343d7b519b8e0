"""Contract monitoring for tools (issue 15): ``contract`` (a commissioner's contract with one provider:
the provider's figures as the commissioner sees them, the finance outturn, the notices) and the notice
mutations ``raiseContractNotice`` and ``advanceContractNotice``, through the same services as the
contract pages. Refusals are a typed result naming the argument at fault."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema.context import Info
from server.contracts.notices import (
    NoticeInput, NoticeRefused, NoticeView, StepInput, indicator_choices, notice_by_id, raise_notice, take_step,
)
from schema.systems import SystemPositionMatrix, position_matrix
from server.contracts.overview import ContractOverview, contract_overview
from server.contracts.position import provider_position
from server.organisations import queries

_ARGUMENT = {"provider": "providerCode", "title": "title", "reason": "reason", "indicators": "indicatorCodes", "kind": "kind",
             "notice": "noticeId", "step": "step", "note": "note", "remedial_plan": "remedialPlan", "remedial_plan_due": "remedialPlanDue"}


@strawberry.type(description="One step in a notice's life, as recorded (append-only).")
class ContractNoticeEvent:
    step: str = strawberry.field(description="raised, issue, agree_plan, close or withdraw")
    status: str = strawberry.field(description="The status the step left the notice in")
    note: str | None
    by: str
    role: str | None
    at: dt.datetime


@strawberry.type(description="A contract performance (or contract) notice a commissioner raised with a provider.")
class ContractNotice:
    id: int
    provider_code: str
    kind: str = strawberry.field(description="performance or contract")
    title: str
    reason: str
    indicator_codes: list[str] = strawberry.field(metadata={"max_items": 50})
    status: str = strawberry.field(description="raised, issued, plan_agreed, closed or withdrawn")
    remedial_plan: str | None
    remedial_plan_due: dt.date | None
    raised_at: dt.datetime
    issued_at: dt.datetime | None
    plan_agreed_at: dt.datetime | None
    ended_at: dt.datetime | None
    version: int = strawberry.field(description="Pass it back as expectedVersion: a stale step is refused")
    history: list[ContractNoticeEvent] = strawberry.field(metadata={"max_items": 20})

    @classmethod
    def from_view(cls, notice: NoticeView) -> "ContractNotice":
        return cls(id=notice.id, provider_code=notice.provider_code, kind=notice.kind, title=notice.title, reason=notice.reason,
                   indicator_codes=list(notice.indicator_codes), status=notice.status, remedial_plan=notice.remedial_plan,
                   remedial_plan_due=notice.remedial_plan_due, raised_at=notice.raised_at, issued_at=notice.issued_at,
                   plan_agreed_at=notice.plan_agreed_at, ended_at=notice.ended_at, version=notice.version,
                   history=[ContractNoticeEvent(step=e.event, status=e.to_status, note=e.note, by=e.actor_name, role=e.actor_role, at=e.at)
                            for e in notice.events])


@strawberry.type(description="One of the provider's indicators as the commissioner sees it: recorded at the contract unit, or the provider's own.")
class ContractIndicator:
    code: str
    name: str
    unit: str | None
    period: dt.date | None
    value: float | None
    target: float | None
    rag: str | None
    periods_under_target: int | None
    failure_forecast: bool | None


@strawberry.type(description="The value of activity so far this financial year and the run-rate forecast against the contract value.")
class ContractOutturn:
    financial_year_start: dt.date
    latest_period: dt.date
    months: int
    year_to_date: float
    forecast: float
    contract_value: float
    variance: float = strawberry.field(description="Forecast less the contract value: above zero, over-performance")


@strawberry.type(description="A contract the organisation commissions, with the provider's figures, outturn and notices.")
class Contract:
    provider_code: str
    provider_name: str
    provider_is_tenant: bool
    annual_value: float
    strategically_important: bool
    recorded_at_unit: str | None = strawberry.field(description="The commissioner's unit where it records the provider's figures")
    board_forum: str | None = strawberry.field(description="The contract's own board, whose data packs show these figures")
    escalation_level: int | None = strawberry.field(description="The provider route's open level, if escalated")
    indicators: list[ContractIndicator] = strawberry.field(metadata={"max_items": 60})
    outturn: ContractOutturn | None
    notices: list[ContractNotice] = strawberry.field(metadata={"max_items": 50})

    @classmethod
    def from_overview(cls, overview: ContractOverview) -> "Contract":
        c, outturn = overview.contract, overview.outturn
        return cls(
            provider_code=c.provider_code, provider_name=c.provider_name, provider_is_tenant=c.provider_is_tenant, annual_value=c.annual_value,
            strategically_important=c.strategically_important, recorded_at_unit=c.monitoring_unit, board_forum=c.forum,
            escalation_level=max((e.level for e in overview.escalations), default=None),
            indicators=[ContractIndicator(code=i["code"], name=i["name"], unit=i["unit"], period=dt.date.fromisoformat(i["period"]) if i["period"] else None,
                                          value=i["value"], target=i["target"], rag=i["rag"], periods_under_target=i["periods_under_target"],
                                          failure_forecast=i["failure_forecast"]) for i in overview.indicators],
            outturn=ContractOutturn(financial_year_start=outturn.financial_year_start, latest_period=outturn.latest_period, months=outturn.months,
                                    year_to_date=outturn.year_to_date, forecast=outturn.forecast, contract_value=outturn.contract_value,
                                    variance=outturn.variance) if outturn else None,
            notices=[ContractNotice.from_view(n) for n in overview.notices],
        )


@strawberry.type
class ContractNoticeSaved:
    message: str
    notice: ContractNotice


@strawberry.type
class ContractNoticeRefused:
    reason: str = strawberry.field(description="not_found, not_allowed, invalid, wrong_status or changed")
    message: str
    argument: str | None = strawberry.field(description="The argument at fault, when one is")


ContractNoticeResult = Annotated[ContractNoticeSaved | ContractNoticeRefused, strawberry.union("ContractNoticeResult")]


def _no_organisation(code: str) -> ContractNoticeRefused:
    return ContractNoticeRefused(reason="not_found", message=f"No organisation you may read has the code '{code}'", argument="organisationCode")


def _refused(outcome: NoticeRefused) -> ContractNoticeRefused:
    return ContractNoticeRefused(reason=outcome.reason, message=outcome.message, argument=_ARGUMENT.get(outcome.field or ""))


@strawberry.type
class ContractQuery:
    @strawberry.field(description="A contract the organisation commissions with one provider: its figures, outturn and notices.")
    async def contract(self, info: Info, organisation_code: str, provider_code: str) -> Contract | None:
        async def read(session, organisation):  # type: ignore[no-untyped-def]
            overview = await contract_overview(session, organisation.id, provider_code)
            return Contract.from_overview(overview) if overview else None

        return await _read_as_commissioner(info, organisation_code, read)  # type: ignore[no-any-return]

    @strawberry.field(description="A commissioner's providers side by side, as its contracts page shows them: the contractual indicators it "
                                  "records for each provider at the contract, latest period (memberCodes are the providers' codes); filter by "
                                  "a domain's code or a patient cohort's code (WHSSC appendix 1). Null: no organisation you may read.")
    async def provider_position(self, info: Info, organisation_code: str, domain: str | None = None,
                                cohort: str | None = None) -> SystemPositionMatrix | None:
        async def read(session, organisation):  # type: ignore[no-untyped-def]
            return position_matrix(await provider_position(session, organisation.id, organisation.code, organisation.name,
                                                           domain_code=domain, cohort=cohort))

        return await _read_as_commissioner(info, organisation_code, read)  # type: ignore[no-any-return]


async def _read_as_commissioner(info: Info, organisation_code: str, read):  # type: ignore[no-untyped-def]
    """``read(session, organisation)`` for an organisation the caller may read; None for any other (unknown and hidden look alike)."""
    context = info.context
    context.require_principal()

    async def readable(session):  # type: ignore[no-untyped-def]
        organisation = await queries.organisation_by_code(session, organisation_code)
        if organisation is None or organisation.id not in context.access.read_org_ids:
            return None
        return await read(session, organisation)

    return await context.read(readable)


@strawberry.type
class ContractMutation:
    @strawberry.mutation(description="Raise a contract performance (or contract) notice with a provider the organisation contracts with.")
    async def raise_contract_notice(
        self, info: Info, organisation_code: str, provider_code: str, title: str, reason: str,
        indicator_codes: list[str] | None = None, kind: str = "performance",
    ) -> ContractNoticeResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return _no_organisation(organisation_code)
            overview = await contract_overview(session, organisation.id, provider_code)
            choices = indicator_choices(overview.contract, tuple(i["code"] for i in overview.indicators)) if overview else ()
            outcome = await raise_notice(session, context.authorizer, principal, org_id=organisation.id, provider_code=provider_code,
                                         given=NoticeInput(title, reason, tuple((indicator_codes or [])[:50]), kind), indicator_choices=choices)
            if isinstance(outcome, NoticeRefused):
                await session.rollback()
                return _refused(outcome)
            return ContractNoticeSaved(message=outcome.message, notice=ContractNotice.from_view(outcome.notice))

    @strawberry.mutation(description="Move a notice one step on: issue, agree_plan (with the plan and its date), close or withdraw (with a note).")
    async def advance_contract_notice(
        self, info: Info, organisation_code: str, notice_id: int, step: str, expected_version: int, note: str = "",
        remedial_plan: str = "", remedial_plan_due: dt.date | None = None,
    ) -> ContractNoticeResult:
        context = info.context
        principal = context.require_principal()
        async with context.session() as session:
            organisation = await queries.organisation_by_code(session, organisation_code)
            if organisation is None or organisation.id not in context.access.read_org_ids:
                return _no_organisation(organisation_code)
            if await notice_by_id(session, organisation.id, notice_id, with_events=False) is None:
                return ContractNoticeRefused(reason="not_found", message="No such notice here", argument="noticeId")
            outcome = await take_step(session, context.authorizer, principal, org_id=organisation.id, notice_id=notice_id,
                                      given=StepInput(step, expected_version, note, remedial_plan, remedial_plan_due))
            if isinstance(outcome, NoticeRefused):
                await session.rollback()
                return _refused(outcome)
            return ContractNoticeSaved(message=outcome.message, notice=ContractNotice.from_view(outcome.notice))
