"""Everything the plan-on-a-page shows, read in a handful of queries (STW SAPF appendix i)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, org_domain
from server.db.models import Action, AppUser, ImprovementPlan, Indicator, Organisation, PlanAgreement, PlanEvent, PlanTrajectory
from server.plans.workflow import AGREEMENT_STATUSES, STEPS, Step, live_agreements, partners_of, plan_domain


@dataclass(frozen=True)
class PartnerSignOff:
    organisation: Organisation
    agreement: PlanAgreement | None
    signer_name: str | None
    can_sign: bool


@dataclass(frozen=True)
class TrajectoryPoint:
    period: dt.date
    planned: float | None
    actual: float | None


@dataclass(frozen=True)
class PlanView:
    plan: ImprovementPlan
    owner: Organisation
    indicator: Indicator | None
    indicator_org: Organisation | None
    partners: list[PartnerSignOff]
    trajectory: list[TrajectoryPoint]
    events: list[tuple[PlanEvent, str | None]]  # event, organisation acted for
    actions: list[Action]
    steps_allowed: list[Step]
    can_edit: bool
    withdrawn_count: int

    @property
    def agreed_count(self) -> int:
        return sum(1 for p in self.partners if p.agreement is not None)


async def visible_plans(session: AsyncSession) -> list[tuple[ImprovementPlan, Organisation]]:
    rows = await session.exec(
        select(ImprovementPlan, Organisation).join(Organisation, Organisation.id == ImprovementPlan.org_id)
        .order_by(ImprovementPlan.updated_at.desc())
    )
    return list(rows.all())


async def plan_view(session: AsyncSession, authorizer: Authorizer, principal: Principal, plan_id: int) -> PlanView | None:
    plan = await session.get(ImprovementPlan, plan_id)
    if plan is None:
        return None  # not there, or row-level security hides it: the same answer either way
    owner = await session.get(Organisation, plan.org_id)
    domain = await plan_domain(session, plan)
    agreements = {a.org_id: a for a in await live_agreements(session, plan.id)}
    signers = await _names(session, [a.user_id for a in agreements.values()])
    partners = [
        PartnerSignOff(
            organisation=org, agreement=agreements.get(org.id), signer_name=signers.get(agreements[org.id].user_id) if org.id in agreements else None,
            can_sign=plan.status in AGREEMENT_STATUSES and org.id not in agreements
            and authorizer.allows(principal, org_domain(org.code), "improvement_plan", "sign_partner"),
        )
        for org in await partners_of(session, plan)
    ]
    indicator = await session.get(Indicator, plan.indicator_id) if plan.indicator_id else None
    indicator_org = await session.get(Organisation, indicator.org_id) if indicator else None
    steps = [
        step for step in STEPS.values()
        if authorizer.allows(principal, domain, "improvement_plan", step.permission) and _step_applies(plan, step)
    ]
    withdrawn = (await session.exec(text("select count(*) from plan_agreement where plan_id = :p and withdrawn_at is not null"), params={"p": plan.id})).scalar_one()
    return PlanView(
        plan=plan, owner=owner, indicator=indicator, indicator_org=indicator_org, partners=partners,
        trajectory=await _trajectory(session, plan), events=await _events(session, plan.id), actions=await _actions(session, plan.id),
        steps_allowed=steps, can_edit=authorizer.allows(principal, domain, "improvement_plan", "edit") and plan.status not in ("closed", "escalated"),
        withdrawn_count=withdrawn,
    )


def _step_applies(plan: ImprovementPlan, step: Step) -> bool:
    if step.spip_only and plan.kind != "spip":
        return False
    if step.action == "start_delivery":
        return plan.status == ("presented" if plan.kind == "spip" else "agreed")
    return plan.status in step.from_statuses


async def _names(session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict((await session.exec(select(AppUser.id, AppUser.name).where(AppUser.id.in_(user_ids)))).all())


async def _trajectory(session: AsyncSession, plan: ImprovementPlan) -> list[TrajectoryPoint]:
    """Plan vs actual per month: actuals are the indicator's organisation-level stored values."""
    planned = {row.period: float(row.planned) for row in (await session.exec(select(PlanTrajectory).where(PlanTrajectory.plan_id == plan.id))).scalars()}
    actual: dict[dt.date, float] = {}
    if plan.indicator_id and planned:
        rows = await session.exec(
            text("select period, value from assessment where indicator_id = :i and unit_id is null and period between :a and :b"),
            params={"i": plan.indicator_id, "a": min(planned), "b": max(planned)},
        )
        actual = {period: float(value) for period, value in rows.all() if value is not None}
    return [TrajectoryPoint(period, planned.get(period), actual.get(period)) for period in sorted(set(planned) | set(actual))]


async def _events(session: AsyncSession, plan_id: int) -> list[tuple[PlanEvent, str | None]]:
    rows = await session.exec(
        select(PlanEvent, Organisation.name).join(Organisation, Organisation.id == PlanEvent.acting_for_org_id, isouter=True)
        .where(PlanEvent.plan_id == plan_id).order_by(PlanEvent.at, PlanEvent.id)
    )
    return list(rows.all())


async def _actions(session: AsyncSession, plan_id: int) -> list[Action]:
    rows = await session.exec(select(Action).where(Action.plan_id == plan_id).order_by(Action.due_date, Action.id))
    return list(rows.scalars())
