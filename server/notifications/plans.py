"""A plan sign-off waiting for a person: tell them (issue 15, DOMAIN 4.6).

After a step, the plan waits for someone: while it is critiqued, each responsible partner that has
not agreed (the people who may sign for that partner); otherwise the forum whose step is next
(the ICB Commissioning Working Group's formal sign-off, the delivery group's presentation or
hand-over, the delivery group's critique of a draft). Who may act comes from the policy
(``improvement_plan <permission>``) and the roles people hold where the plan is decided.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer
from server.db.models import ImprovementPlan, Organisation, PlanAgreement
from server.db.session import NO_ACCESS
from server.notifications.recipients import people_holding
from server.notifications.store import Notice, notify
from server.plans import workflow  # the module, not its names: workflow imports this module too

# The steps that are someone's sign-off or hand-over; closing or escalating is ongoing oversight.
AWAITED_STEPS = ("critique", "sign_off", "present", "start_delivery")


def _next_steps(plan: ImprovementPlan) -> list[str]:
    steps = []
    for action in AWAITED_STEPS:
        step = workflow.STEPS[action]
        if step.spip_only and plan.kind != "spip":
            continue
        applies = plan.status == ("presented" if plan.kind == "spip" else "agreed") if action == "start_delivery" else plan.status in step.from_statuses
        if applies:
            steps.append(action)
    return steps


async def notify_awaited_signers(session: AsyncSession, authorizer: Authorizer, plan: ImprovementPlan) -> int:
    """Tell whoever the plan now waits for; returns notifications added."""
    writable = session.info.get("access", NO_ACCESS).write_org_ids
    partner_ids = list(plan.partner_org_ids or [])
    # The notification belongs to the plan's organisation, or to the partner whose signer took the step.
    org_id = plan.org_id if plan.org_id in writable else next((o for o in sorted(partner_ids) if o in writable), None)
    if org_id is None:
        return 0
    link = f"/plans/{plan.id}"
    added = 0
    if plan.status in workflow.AGREEMENT_STATUSES:
        agreed = set((await session.exec(select(PlanAgreement.org_id).where(
            PlanAgreement.plan_id == plan.id, PlanAgreement.withdrawn_at.is_(None)))).scalars())
        signing_roles = authorizer.roles_granting("improvement_plan", "sign_partner")
        partners = (await session.exec(select(Organisation).where(Organisation.id.in_(partner_ids)))).scalars().all()
        for partner in sorted(partners, key=lambda o: o.code):
            if partner.id in agreed:
                continue
            added += await notify(session, Notice(
                org_id=org_id, kind="sign_off", subject=f"Your agreement is awaited: {plan.title}",
                body=f"The plan '{plan.title}' waits for {partner.name} to agree it (version {plan.version}). You may sign for {partner.name}.",
                link=link, dedupe_key=f"plan:{plan.id}:v{plan.version}:agree:{partner.code}",
            ), await people_holding(session, partner.id, signing_roles))
        return added
    for action in _next_steps(plan):
        step = workflow.STEPS[action]
        added += await notify(session, Notice(
            org_id=org_id, kind="sign_off", subject=f"Waiting for you: {step.label.lower()} – {plan.title}",
            body=f"The plan '{plan.title}' is {plan.status.replace('_', ' ')} and waits for: {step.label}.",
            link=link, dedupe_key=f"plan:{plan.id}:v{plan.version}:{plan.status}:{action}",
        ), await people_holding(session, plan.org_id, authorizer.roles_granting("improvement_plan", step.permission)))
    return added
