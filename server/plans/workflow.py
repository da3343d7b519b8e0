"""The improvement-plan lifecycle and the SPIP sign-off (STW SAPF, "Performance Improvement").

    draft --critique--> critiqued --(every partner agrees)--> agreed --sign_off--> signed_off
      --present--> presented --start_delivery--> in_delivery --close--> closed
                                                            \\--escalate--> escalated

A SPIP needs the ICB Commissioning Working Group's formal sign-off; a plan owned by one
organisation goes from agreed straight to delivery. Every transition is checked against the
accountability matrix here (the page only hides buttons), takes the plan row lock, refuses a
stale form, and writes the plan's history and the audit trail in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.auth.authz import Authorizer, Principal, acting_domain, org_domain
from server.db.models import ImprovementPlan, Organisation, PlanAgreement, PlanEvent
from server.escalation_store.triggers import rerun_after_plan_change
from server.notifications.plans import notify_awaited_signers


@dataclass(frozen=True)
class Step:
    action: str  # what the person does
    label: str  # the button's words
    from_statuses: tuple[str, ...]
    to_status: str
    permission: str  # the improvement_plan action Casbin must allow in the plan's domain
    spip_only: bool = False


STEPS = {
    step.action: step for step in (
        Step("critique", "Record delivery group critique", ("draft",), "critiqued", "critique"),
        Step("sign_off", "Formally sign off (ICB Commissioning Working Group)", ("agreed",), "signed_off", "sign_off_formal", spip_only=True),
        Step("present", "Record presentation to the delivery group", ("signed_off",), "presented", "present", spip_only=True),
        Step("start_delivery", "Hand over to the delivery group for delivery", ("presented", "agreed"), "in_delivery", "oversee"),
        Step("close", "Close as recovered", ("in_delivery",), "closed", "oversee"),
        Step("escalate", "Escalate: not recovering", ("in_delivery",), "escalated", "oversee"),
    )
}
AGREEMENT_STATUSES = ("critiqued",)
# Fields whose change invalidates partners' agreement; monthly delivery updates do not.
SUBSTANTIVE_FIELDS = (
    "title", "programme", "accountability", "indicator_id", "sro", "leads", "pmo_support", "national_target", "local_target",
    "narrative", "started_on",
)


@dataclass(frozen=True)
class PlanChanged:
    plan: ImprovementPlan
    message: str


@dataclass(frozen=True)
class NotAllowed:
    message: str


@dataclass(frozen=True)
class StaleForm:
    message: str


@dataclass(frozen=True)
class InvalidStep:
    message: str


Outcome = PlanChanged | NotAllowed | StaleForm | InvalidStep


async def plan_domain(session: AsyncSession, plan: ImprovementPlan) -> str:
    """A SPIP belongs to the system (its roles act in system:<code>); any other plan to its organisation."""
    return await acting_domain(session, plan.org_id)


async def partners_of(session: AsyncSession, plan: ImprovementPlan) -> list[Organisation]:
    """Every responsible partner (directory rows: visible whoever asks)."""
    rows = await session.exec(select(Organisation).where(Organisation.id.in_(plan.partner_org_ids)).order_by(Organisation.name))
    return list(rows.scalars())


async def live_agreements(session: AsyncSession, plan_id: int) -> list[PlanAgreement]:
    rows = await session.exec(select(PlanAgreement).where(PlanAgreement.plan_id == plan_id, PlanAgreement.withdrawn_at.is_(None)))
    return list(rows.scalars())


async def _locked_plan(session: AsyncSession, plan_id: int) -> ImprovementPlan | None:
    return (await session.exec(select(ImprovementPlan).where(ImprovementPlan.id == plan_id).with_for_update())).scalars().first()


def _stale(plan: ImprovementPlan, seen_version: int) -> StaleForm | None:
    if plan.version != seen_version:
        return StaleForm(
            f"This plan was changed by someone else after you opened it (you saw version {seen_version}, it is now "
            f"version {plan.version}). Nothing was saved: review the current plan and try again."
        )
    return None


async def record_history(session: AsyncSession, plan: ImprovementPlan, principal: Principal, event: str, *, from_status: str | None,
                   reason: str | None = None, acting_for: int | None = None, role: str | None = None, details: dict | None = None) -> None:
    session.add(PlanEvent(
        plan_id=plan.id, owner_org_id=plan.org_id, event=event, from_status=from_status, to_status=plan.status, actor_user_id=principal.user_id,
        actor_name=principal.name, actor_role=role, acting_for_org_id=acting_for, reason=reason, details=details or {},
        plan_version=plan.version,
    ))
    await record_event(
        session, action=f"plan.{event}", object_type="improvement_plan", object_id=str(plan.id), org_id=acting_for or plan.org_id,
        actor_user_id=principal.user_id, actor_role=role, before={"status": from_status}, after={"status": plan.status, "version": plan.version},
    )


def acting_role(authorizer: Authorizer, principal: Principal, domain: str, permission: str) -> str | None:
    """The role through which the principal holds this permission here (recorded with the act)."""
    granting = set(authorizer.roles_granting("improvement_plan", permission))
    return next((role for role in principal.roles_in(domain) if role in granting), None)


async def advance(session: AsyncSession, authorizer: Authorizer, principal: Principal, *, plan_id: int, action: str,
                  seen_version: int, reason: str | None = None) -> Outcome:
    """A lifecycle step other than a partner's agreement (see :func:`agree`)."""
    step = STEPS.get(action)
    if step is None:
        return InvalidStep(f"'{action}' is not a step of the plan lifecycle")
    plan = await _locked_plan(session, plan_id)
    if plan is None:
        return NotAllowed("Plan not found")
    domain = await plan_domain(session, plan)
    role = acting_role(authorizer, principal, domain, step.permission)
    if role is None or not authorizer.allows(principal, domain, "improvement_plan", step.permission):
        return NotAllowed(f"You may not {step.label.lower()} for this plan")
    if stale := _stale(plan, seen_version):
        return stale
    if step.spip_only and plan.kind != "spip":
        return InvalidStep(f"'{step.label}' applies to system performance improvement plans only")
    # A SPIP reaches delivery only through formal sign-off and presentation; other plans from agreement.
    allowed_from = ("presented",) if plan.kind == "spip" and action == "start_delivery" else step.from_statuses
    if plan.status not in allowed_from:
        return InvalidStep(f"A plan that is {plan.status.replace('_', ' ')} cannot move to {step.to_status.replace('_', ' ')}")
    if action in ("close", "escalate") and not (reason or "").strip():
        return InvalidStep("Give a reason: closing or escalating a plan is a decision the delivery group records")
    previous = plan.status
    plan.status = step.to_status
    plan.version += 1
    plan.updated_at = dt.datetime.now(dt.UTC)
    await record_history(session, plan, principal, action, from_status=previous, reason=reason, role=role)
    await rerun_after_plan_change(session, plan)  # issue 11: a plan in place (or closed) moves its indicator's ladder
    await notify_awaited_signers(session, authorizer, plan)  # issue 15: whoever the plan now waits for is told
    return PlanChanged(plan, f"Plan is now {plan.status.replace('_', ' ')}")


async def agree(session: AsyncSession, authorizer: Authorizer, principal: Principal, *, plan_id: int, partner_code: str,
                seen_version: int) -> Outcome:
    """One partner's agreement, by someone entitled to sign for that partner (DOMAIN 4.6).

    The plan row lock serialises signers: two partners agreeing at the same moment both count,
    and whichever commits second sees every agreement and moves the plan to 'agreed'.
    """
    plan = await _locked_plan(session, plan_id)
    if plan is None:
        return NotAllowed("Plan not found")
    partner = (await session.exec(select(Organisation).where(Organisation.code == partner_code))).scalars().first()
    partners = {p.id: p for p in await partners_of(session, plan)}
    if partner is None or partner.id not in partners:
        return NotAllowed(f"{partner_code} is not a responsible partner of this plan")
    domain = org_domain(partner.code)
    role = acting_role(authorizer, principal, domain, "sign_partner")
    if role is None or not authorizer.allows(principal, domain, "improvement_plan", "sign_partner"):
        return NotAllowed(f"You may not sign for {partner.name}")
    if stale := _stale(plan, seen_version):
        return stale
    if plan.status not in AGREEMENT_STATUSES:
        return InvalidStep("Partners agree a plan after the delivery group's critique and before formal sign-off")
    agreed = {a.org_id for a in await live_agreements(session, plan.id)}
    if partner.id in agreed:
        return InvalidStep(f"{partner.name} has already agreed this version")
    session.add(PlanAgreement(plan_id=plan.id, org_id=partner.id, owner_org_id=plan.org_id, user_id=principal.user_id, role=role, plan_version=plan.version))
    await record_history(session, plan, principal, "partner_agreed", from_status=plan.status, acting_for=partner.id, role=role,
                   details={"partner": partner.code})
    agreed.add(partner.id)
    if agreed >= set(partners):
        previous = plan.status
        plan.status = "agreed"
        plan.updated_at = dt.datetime.now(dt.UTC)
        await record_history(session, plan, principal, "all_partners_agreed", from_status=previous, role=role)
        await rerun_after_plan_change(session, plan)
        await notify_awaited_signers(session, authorizer, plan)
        return PlanChanged(plan, f"{partner.name} agreed. Every responsible partner has now agreed the plan.")
    waiting = ", ".join(p.name for pid, p in partners.items() if pid not in agreed)
    return PlanChanged(plan, f"{partner.name} agreed. Waiting for: {waiting}.")


async def edit(session: AsyncSession, authorizer: Authorizer, principal: Principal, *, plan_id: int, seen_version: int,
               changes: dict[str, object]) -> Outcome:
    """Change a plan's content. A substantive change after partners agreed withdraws their
    agreements (they must agree the new version) and says so; delivery updates do not."""
    plan = await _locked_plan(session, plan_id)
    if plan is None:
        return NotAllowed("Plan not found")
    domain = await plan_domain(session, plan)
    role = acting_role(authorizer, principal, domain, "edit")
    if role is None:
        return NotAllowed("You may not edit this plan")
    if stale := _stale(plan, seen_version):
        return stale
    if plan.status in ("closed", "escalated"):
        return InvalidStep("A closed or escalated plan cannot be edited")
    changed = {field: value for field, value in changes.items() if getattr(plan, field) != value}
    if not changed:
        return PlanChanged(plan, "No changes to save")
    before = {field: _plain(getattr(plan, field)) for field in changed}
    for field, value in changed.items():
        setattr(plan, field, value)
    plan.version += 1
    plan.updated_at = dt.datetime.now(dt.UTC)
    message = "Plan saved"
    substantive = sorted(set(changed) & set(SUBSTANTIVE_FIELDS))
    previous = plan.status
    if substantive and plan.status in ("agreed", "signed_off", "presented", "critiqued"):
        withdrawn = await _withdraw_agreements(session, plan, reason=f"plan changed: {', '.join(substantive)}")
        if plan.status != "critiqued":
            plan.status = "critiqued"
        if withdrawn:
            message = (f"Plan saved. Because {', '.join(f.replace('_', ' ') for f in substantive)} changed, the agreement of "
                       f"{withdrawn} partner(s) was withdrawn: every partner must agree this version again.")
    await record_history(session, plan, principal, "edited", from_status=previous, role=role,
                   details={"changed": sorted(changed), "before": before, "after": {f: _plain(v) for f, v in changed.items()}})
    if substantive and plan.status in AGREEMENT_STATUSES:
        await notify_awaited_signers(session, authorizer, plan)  # issue 15: every partner must agree the new version
    return PlanChanged(plan, message)


async def _withdraw_agreements(session: AsyncSession, plan: ImprovementPlan, *, reason: str) -> int:
    result = await session.exec(
        update(PlanAgreement).where(PlanAgreement.plan_id == plan.id, PlanAgreement.withdrawn_at.is_(None))
        .values(withdrawn_at=func.now(), withdrawn_reason=reason)
    )
    return result.rowcount or 0


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value
