"""Queries. Row-level security already narrows every session; resolvers also check explicitly."""
from __future__ import annotations

import strawberry

from sqlalchemy import select

from schema.assessments import Plan, plan_from_row
from schema.context import Info
from schema.types import Organisation
from server.db import models
from server.organisations import queries


@strawberry.type
class Query:
    @strawberry.field(description="Organisations you may read, in full or contractually.")
    async def organisations(self, info: Info) -> list[Organisation]:
        context = info.context
        context.require_principal()
        ids = sorted(context.access.read_org_ids | context.access.contract_org_ids)
        async with context.session() as session:
            rows = await queries.visible_organisations(session, ids)
        return [Organisation.from_row(row) for row in rows]

    @strawberry.field(description="One organisation by code; null if it does not exist or you may not read it.")
    async def organisation(self, info: Info, code: str) -> Organisation | None:
        context = info.context
        context.require_principal()
        async with context.session() as session:
            row = await queries.organisation_by_code(session, code)
        if row is None or not context.can_read(row.id):
            return None
        return Organisation.from_row(row)

    @strawberry.field(description="Improvement plans you can see: your organisations' own, and plans you are a partner in.")
    async def plans(self, info: Info) -> list[Plan]:
        info.context.require_principal()
        async with info.context.session() as session:
            rows = (await session.exec(select(models.ImprovementPlan).order_by(models.ImprovementPlan.id).limit(500))).scalars().all()
            return [await plan_from_row(session, row) for row in rows]

    @strawberry.field
    async def plan(self, info: Info, id: int) -> Plan | None:
        info.context.require_principal()
        async with info.context.session() as session:
            row = await session.get(models.ImprovementPlan, id)
            return await plan_from_row(session, row) if row else None
