"""Everything the plan-on-a-page shows, read in a handful of queries (STW SAPF appendix i)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, org_domain, system_domain
from server.db.models import Action, AppUser, HealthSystem, ImprovementPlan, Indicator, Organisation, PlanAgreement, PlanEvent, PlanTrajectory
from server.plans.workflow import AGREEMENT_STATUSES, STEPS, Step


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
    found = await plan_views(session, authorizer, principal, [plan_id])
    return found[0] if found else None  # not there, or row-level security hides it: the same answer either way


async def plan_views(session: AsyncSession, authorizer: Authorizer, principal: Principal, plan_ids: Sequence[int]) -> list[PlanView]:
    """Plans on a page, in the order asked, for any number of plans in a fixed number of statements
    (the plan page asks for one; GraphQL's plan list for a page of them)."""
    plans = {p.id: p for p in (await session.exec(select(ImprovementPlan).where(ImprovementPlan.id.in_(list(plan_ids))))).scalars()}
    if not plans:
        return []
    ids = list(plans)
    agreements_by_plan: dict[int, dict[int, PlanAgreement]] = {i: {} for i in ids}
    withdrawn: dict[int, int] = dict.fromkeys(ids, 0)
    for agreement in (await session.exec(select(PlanAgreement).where(PlanAgreement.plan_id.in_(ids)))).scalars():
        if agreement.withdrawn_at is None:
            agreements_by_plan[agreement.plan_id][agreement.org_id] = agreement
        else:
            withdrawn[agreement.plan_id] += 1
    indicators = {i.id: i for i in (await session.exec(
        select(Indicator).where(Indicator.id.in_([p.indicator_id for p in plans.values() if p.indicator_id])))).scalars()}
    org_ids = {p.org_id for p in plans.values()} | {o for p in plans.values() for o in p.partner_org_ids} | {i.org_id for i in indicators.values()}
    organisations = {o.id: o for o in (await session.exec(select(Organisation).where(Organisation.id.in_(list(org_ids))))).scalars()}
    system_of = dict((await session.exec(select(HealthSystem.organisation_id, HealthSystem.code)
                                         .where(HealthSystem.organisation_id.in_([p.org_id for p in plans.values()])))).all())
    signers = await _names(session, [a.user_id for found in agreements_by_plan.values() for a in found.values()])
    trajectories = await _trajectories(session, list(plans.values()))
    events = await _events(session, ids)
    actions = await _actions(session, ids)
    views = []
    for plan_id in plan_ids:
        plan = plans.get(plan_id)
        if plan is None:
            continue
        # A SPIP belongs to the system (its roles act in system:<code>); any other plan to its organisation.
        domain = system_domain(system_of[plan.org_id]) if plan.org_id in system_of else org_domain(organisations[plan.org_id].code)
        agreements = agreements_by_plan[plan.id]
        partners = [
            PartnerSignOff(
                organisation=org, agreement=agreements.get(org.id), signer_name=signers.get(agreements[org.id].user_id) if org.id in agreements else None,
                can_sign=plan.status in AGREEMENT_STATUSES and org.id not in agreements
                and authorizer.allows(principal, org_domain(org.code), "improvement_plan", "sign_partner"),
            )
            for org in sorted((organisations[o] for o in plan.partner_org_ids if o in organisations), key=lambda o: o.name)
        ]
        indicator = indicators.get(plan.indicator_id) if plan.indicator_id else None
        steps = [
            step for step in STEPS.values()
            if authorizer.allows(principal, domain, "improvement_plan", step.permission) and _step_applies(plan, step)
        ]
        views.append(PlanView(
            plan=plan, owner=organisations[plan.org_id], indicator=indicator,
            indicator_org=organisations.get(indicator.org_id) if indicator else None, partners=partners,
            trajectory=trajectories.get(plan.id, []), events=events.get(plan.id, []), actions=actions.get(plan.id, []),
            steps_allowed=steps,
            can_edit=authorizer.allows(principal, domain, "improvement_plan", "edit") and plan.status not in ("closed", "escalated"),
            withdrawn_count=withdrawn[plan.id],
        ))
    return views


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


async def _trajectories(session: AsyncSession, plans: list[ImprovementPlan]) -> dict[int, list[TrajectoryPoint]]:
    """Plan vs actual per month: actuals are the indicator's organisation-level stored values."""
    planned: dict[int, dict[dt.date, float]] = {}
    for row in (await session.exec(select(PlanTrajectory).where(PlanTrajectory.plan_id.in_([p.id for p in plans])))).scalars():
        planned.setdefault(row.plan_id, {})[row.period] = float(row.planned)
    indicator_ids = [p.indicator_id for p in plans if p.indicator_id and planned.get(p.id)]
    actual: dict[int, dict[dt.date, float]] = {}
    if indicator_ids:
        rows = await session.exec(
            text("select indicator_id, period, value from assessment where indicator_id = any(:ids) and unit_id is null and value is not null"),
            params={"ids": indicator_ids},
        )
        for indicator_id, period, value in rows.all():
            actual.setdefault(indicator_id, {})[period] = float(value)
    found: dict[int, list[TrajectoryPoint]] = {}
    for plan in plans:
        months = planned.get(plan.id, {})
        if not months:
            continue
        values = {p: v for p, v in actual.get(plan.indicator_id or -1, {}).items() if min(months) <= p <= max(months)}
        found[plan.id] = [TrajectoryPoint(period, months.get(period), values.get(period)) for period in sorted(set(months) | set(values))]
    return found


async def _events(session: AsyncSession, plan_ids: list[int]) -> dict[int, list[tuple[PlanEvent, str | None]]]:
    rows = await session.exec(
        select(PlanEvent, Organisation.name).join(Organisation, Organisation.id == PlanEvent.acting_for_org_id, isouter=True)
        .where(PlanEvent.plan_id.in_(plan_ids)).order_by(PlanEvent.at, PlanEvent.id)
    )
    found: dict[int, list[tuple[PlanEvent, str | None]]] = {}
    for event, name in rows.all():
        found.setdefault(event.plan_id, []).append((event, name))
    return found


async def _actions(session: AsyncSession, plan_ids: list[int]) -> dict[int, list[Action]]:
    found: dict[int, list[Action]] = {}
    for action in (await session.exec(select(Action).where(Action.plan_id.in_(plan_ids)).order_by(Action.due_date, Action.id))).scalars():
        found.setdefault(action.plan_id, []).append(action)  # type: ignore[arg-type]
    return found
