"""Root queries. Row-level security narrows the request's one transaction; resolvers also check explicitly."""
from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy import select
from strawberry.utils.str_converters import to_camel_case

from schema.assessments import Escalation, Plan, plan_from_view
from schema.context import Info
from schema.judgements import JudgementQuery
from schema.notifications import NotificationQuery
from schema.benchmarking import BenchmarkQuery
from schema.maturity import MaturityQuery
from schema.autonomy import AutonomyQuery
from schema.contracts import ContractQuery
from schema.enums import EscalationStatus
from schema.ratings import Rating
from schema.pagination import Connection, connection, page_bounds
from schema.prerender import Attribute, RowPlan, list_plan
from schema.systems import System, readable_system
from schema.types import Organisation
from server.db import models
from server.escalation_store.queries import escalations_of_orgs
from server.organisations import queries
from server.plans.view import plan_view, plan_views
from server.reporting.comparison import Comparison, compare_indicators
from server.reporting.comparison import ComparisonEntry as ComparisonEntryRow
from server.reporting.system import visible_systems


@strawberry.type(description="One organisation's rating of the compared indicator.")
class ComparisonEntry(Rating):
    organisation_code: str
    organisation_name: str
    indicator_name: str
    period: dt.date | None
    rank: int | None = strawberry.field(description="1 = best by the indicator's polarity, among those with a value.")
    quartile: int | None = strawberry.field(description="1 = the best quarter.")


@strawberry.type(description="One indicator code across every organisation you may read (benchmarking).")
class IndicatorComparison:
    code: str
    name: str
    unit: str
    polarity: str
    period: dt.date | None = strawberry.field(description="The period asked for; null: each organisation's latest.")
    organisations_reporting: int
    lower_quartile: float | None
    median: float | None
    upper_quartile: float | None
    notes: list[str] = strawberry.field(metadata={"max_items": 5})
    entries: list[ComparisonEntry] = strawberry.field(metadata={"max_items": 250})


@strawberry.type
class Query(JudgementQuery, MaturityQuery, AutonomyQuery, BenchmarkQuery, NotificationQuery, ContractQuery):
    @strawberry.field(description="Organisations you may read, in full or contractually, by name.")
    async def organisations(self, info: Info, first: int = 250, after: str | None = None) -> Connection[Organisation]:
        context = info.context
        context.require_principal()
        page_bounds(first, after)
        rows = await context.read(lambda session: queries.visible_organisations(session, sorted(context.readable_org_ids)))
        return connection([Organisation.from_row(row) for row in rows], first=first, after=after)

    @strawberry.field(description="One organisation by code; null if it does not exist or you may not read it.")
    async def organisation(self, info: Info, code: str) -> Organisation | None:
        return await Organisation.resolve_reference(info, code)

    @strawberry.field(description="Systems every member of which you may read, by name.")
    async def systems(self, info: Info, first: int = 50, after: str | None = None) -> Connection[System]:
        context = info.context
        context.require_principal()
        page_bounds(first, after)
        records = await context.read(lambda session: visible_systems(session, context.access.read_org_ids))
        return connection([System.from_record(record) for record in records], first=first, after=after)

    @strawberry.field(description="One system by code; null if it does not exist or you may not read all of it.")
    async def system(self, info: Info, code: str) -> System | None:
        return await readable_system(info.context, code)

    @strawberry.field(description="One indicator code across every organisation you may read, at a period or each one's latest.")
    async def indicator_comparison(self, info: Info, code: str, period: dt.date | None = None) -> IndicatorComparison | None:
        found = await _compare(info, [code], period)
        return found[0] if found else None

    @strawberry.field(description="Several indicator codes compared at once (one statement for all).")
    async def indicator_comparisons(self, info: Info, codes: list[str], period: dt.date | None = None) -> list[IndicatorComparison]:
        return await _compare(info, codes, period)

    @strawberry.field(description="Escalations across the organisations you may read in full, highest level first.")
    async def escalations(
        self, info: Info, organisation_codes: list[str] | None = None, status: list[EscalationStatus] | None = None,  # type: ignore[valid-type]
        min_level: int | None = None, first: int = 100, after: str | None = None,
    ) -> Connection[Escalation]:
        context = info.context
        context.require_principal()
        page_bounds(first, after)
        org_ids = sorted(context.access.read_org_ids)
        if organisation_codes is not None:
            rows = await context.read(lambda session: queries.visible_organisations(session, org_ids))
            org_ids = [row.id for row in rows if row.code in set(organisation_codes)]
        statuses = [s.value for s in status] if status else None
        found = await context.read(lambda session: escalations_of_orgs(session, org_ids, statuses=statuses, min_level=min_level))
        rows_sorted = sorted((row for rows in found.values() for row in rows), key=lambda r: (-r.level, -r.updated_at.timestamp(), r.id))
        return connection([Escalation.from_row(row) for row in rows_sorted], first=first, after=after)

    @strawberry.field(description="Improvement plans you can see (your organisations' own, and plans you are a partner in), newest change first.")
    async def plans(self, info: Info, first: int = 50, after: str | None = None) -> Connection[Plan]:
        context = info.context
        principal = context.require_principal()
        offset, limit = page_bounds(first, after)

        async def work(session):  # type: ignore[no-untyped-def]
            ids = (await session.exec(
                select(models.ImprovementPlan.id).order_by(models.ImprovementPlan.updated_at.desc(), models.ImprovementPlan.id)
                .offset(offset).limit(limit + 1)
            )).scalars().all()
            return [plan_from_view(view) for view in await plan_views(session, context.authorizer, principal, ids)]

        return connection(await context.read(work), first=first, after=after, offset=offset)

    @strawberry.field(description="One plan on a page, or null if it does not exist or you may not see it.")
    async def plan(self, info: Info, id: int) -> Plan | None:
        context = info.context
        principal = context.require_principal()
        view = await context.read(lambda session: plan_view(session, context.authorizer, principal, id))
        return plan_from_view(view) if view else None


# Entries written straight to JSON from the service's named tuples when the selection allows (schema/prerender.py).
_ENTRY_SHAPE = {to_camel_case(name): Attribute(name) for name in ComparisonEntryRow._fields}


async def _compare(info: Info, codes: list[str], period: dt.date | None) -> list[IndicatorComparison]:
    context = info.context
    context.require_principal()
    found = await context.read(
        lambda session: compare_indicators(session, codes, org_ids=sorted(context.readable_org_ids), period=period)
    )
    plan = list_plan(info, "entries", _ENTRY_SHAPE) if context.sql_json else None
    return [_comparison(c, plan) for c in found]


def _comparison(found: Comparison, plan: RowPlan | None = None) -> IndicatorComparison:
    return IndicatorComparison(
        code=found.code, name=found.name, unit=found.unit, polarity=found.polarity, period=found.period,
        organisations_reporting=found.organisations_reporting, lower_quartile=found.lower_quartile, median=found.median,
        upper_quartile=found.upper_quartile, notes=found.notes,
        entries=found.entries if plan is None else plan.page(found.entries),  # type: ignore[arg-type]
    )
