"""Create a plan from a form or an API call, with per-field errors in words a person can act on."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, org_domain, system_domain
from server.db.models import HealthSystem, ImprovementPlan, Indicator, Organisation, PlanPartner, PlanTrajectory, SystemMembership
from server.plans.workflow import acting_role, record_history

LEAD_ROLES = ("delivery", "performance", "informatics", "clinical", "finance", "pmo")
PMO_SUPPORT_LEVELS = ("none", "light", "moderate", "full")


@dataclass
class PlanDraft:
    """What a person typed: strings, checked by :func:`check_draft`."""

    owner_code: str
    title: str = ""
    kind: str = "recovery"
    programme: str = ""
    indicator_code: str = ""
    indicator_org_code: str = ""
    sro: str = ""
    leads: dict[str, str] = field(default_factory=dict)
    pmo_support: str = ""
    national_target: str = ""
    local_target: str = ""
    longest_wait: str = ""
    narrative: str = ""
    started_on: str = ""
    partner_codes: list[str] = field(default_factory=list)
    trajectory: dict[str, str] = field(default_factory=dict)  # "2026-04-01" -> "0.78"


@dataclass(frozen=True)
class PlanCreated:
    plan: ImprovementPlan


@dataclass(frozen=True)
class PlanInvalid:
    errors: dict[str, str]  # field id -> message, in form order


async def create_plan(session: AsyncSession, authorizer: Authorizer, principal: Principal, draft: PlanDraft) -> PlanCreated | PlanInvalid:
    owner = (await session.exec(select(Organisation).where(Organisation.code == draft.owner_code))).scalars().first()
    if owner is None:
        return PlanInvalid({"owner": "Choose the organisation that owns the plan"})
    system = (await session.exec(select(HealthSystem).where(HealthSystem.organisation_id == owner.id))).scalars().first()
    domain = system_domain(system.code) if system else org_domain(owner.code)
    role = acting_role(authorizer, principal, domain, "draft")
    if role is None:
        # Same words as for an unknown code, and no name: never confirm what exists elsewhere.
        return PlanInvalid({"owner": "Choose the organisation that owns the plan"})
    errors: dict[str, str] = {}
    if not draft.title.strip():
        errors["title"] = "Enter a title for the plan"
    if not draft.sro.strip():
        errors["sro"] = "Enter the senior responsible owner"
    if draft.kind not in ("recovery", "exception", "spip"):
        errors["kind"] = "Choose the kind of plan"
    if draft.kind == "spip" and system is None:
        errors["kind"] = "Only a system can own a system performance improvement plan"
    if draft.pmo_support and draft.pmo_support not in PMO_SUPPORT_LEVELS:
        errors["pmo_support"] = "Choose a level of PMO support"
    started_on = _date(draft.started_on, "started_on", errors, required=False)
    partners = await _partners(session, owner, system, draft, errors)
    indicator_id = await _indicator(session, draft, partners, errors)
    trajectory = _trajectory(draft.trajectory, errors)
    if errors:
        return PlanInvalid(errors)
    accountability = "sole" if len(partners) == 1 and draft.kind != "spip" else ("system" if draft.kind == "spip" and len(partners) > 2 else "joint")
    plan = ImprovementPlan(
        org_id=owner.id, kind=draft.kind, title=draft.title.strip(), programme=draft.programme.strip() or None, accountability=accountability,
        indicator_id=indicator_id, sro=draft.sro.strip(), leads={k: v.strip() for k, v in draft.leads.items() if v.strip()},
        pmo_support=draft.pmo_support or None, national_target=draft.national_target.strip() or None,
        local_target=draft.local_target.strip() or None, longest_wait=draft.longest_wait.strip() or None,
        narrative=draft.narrative.strip() or None, started_on=started_on, created_by=principal.user_id,
        partner_org_ids=sorted(p.id for p in partners),
    )
    session.add(plan)
    await session.flush()
    for partner in partners:
        session.add(PlanPartner(plan_id=plan.id, org_id=partner.id, owner_org_id=owner.id))
    for period, value in trajectory.items():
        session.add(PlanTrajectory(plan_id=plan.id, owner_org_id=owner.id, period=period, planned=value))
    await session.flush()
    await record_history(session, plan, principal, "drafted", from_status=None, role=role,
                   details={"partners": [p.code for p in partners], "kind": plan.kind})
    return PlanCreated(plan)


async def _partners(session: AsyncSession, owner: Organisation, system: HealthSystem | None, draft: PlanDraft, errors: dict[str, str]) -> list[Organisation]:
    if system is None:
        return [owner]  # a plan owned by one organisation: it is the only responsible partner
    codes = sorted(set(draft.partner_codes))
    if not codes:
        errors["partners"] = "Choose every organisation responsible for delivering the plan"
        return []
    members = (await session.exec(
        select(Organisation).join(SystemMembership, SystemMembership.organisation_id == Organisation.id)
        .where(SystemMembership.system_id == system.id, Organisation.code.in_(codes))
    )).scalars().all()
    if len(members) != len(codes):
        errors["partners"] = "Partners must be members of the system"
    return list(members)


async def _indicator(session: AsyncSession, draft: PlanDraft, partners: list[Organisation], errors: dict[str, str]) -> int | None:
    if not draft.indicator_code:
        return None
    org_code = draft.indicator_org_code or (partners[0].code if len(partners) == 1 else "")
    row = (await session.exec(
        select(Indicator.id).join(Organisation, Organisation.id == Indicator.org_id)
        .where(Indicator.code == draft.indicator_code, Organisation.code == org_code)
    )).first()
    if row is None:
        errors["indicator"] = "Choose an indicator of one of the partner organisations"
        return None
    return row[0]


def _date(raw: str, field_id: str, errors: dict[str, str], *, required: bool) -> dt.date | None:
    if not raw.strip():
        if required:
            errors[field_id] = "Enter a date"
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors[field_id] = "Enter a real date, for example 2026-04-01"
        return None


def _trajectory(raw: dict[str, str], errors: dict[str, str]) -> dict[dt.date, Decimal]:
    points: dict[dt.date, Decimal] = {}
    for period, value in raw.items():
        if not value.strip():
            continue
        try:
            points[dt.date.fromisoformat(period)] = Decimal(value.strip())
        except (ValueError, InvalidOperation):
            errors[f"trajectory-{period}"] = f"Enter the planned value for {period[:7]} as a number"
    return points
