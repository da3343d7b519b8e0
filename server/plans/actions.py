"""A plan's action log: owner, due date, status (STW plan on a page)."""
from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal
from server.db.models import Action, ImprovementPlan
from server.db.models.plans import ACTION_STATUSES
from server.plans.workflow import NotAllowed, acting_role, plan_domain, record_history


async def add_action(session: AsyncSession, authorizer: Authorizer, principal: Principal, *, plan_id: int,
                     description: str, owner: str, due_date: str) -> Action | NotAllowed | dict[str, str]:
    plan = await session.get(ImprovementPlan, plan_id)
    if plan is None:
        return NotAllowed("Plan not found")
    role = acting_role(authorizer, principal, await plan_domain(session, plan), "edit")
    if role is None:
        return NotAllowed("You may not change this plan's action log")
    errors: dict[str, str] = {}
    if not description.strip():
        errors["action-description"] = "Describe the action"
    if not owner.strip():
        errors["action-owner"] = "Enter who owns the action"
    try:
        due = dt.date.fromisoformat(due_date.strip())
    except ValueError:
        errors["action-due"] = "Enter the due date, for example 2026-12-31"
    if errors:
        return errors
    action = Action(org_id=plan.org_id, plan_id=plan.id, description=description.strip(), owner=owner.strip(), due_date=due)
    session.add(action)
    await session.flush()
    await record_history(session, plan, principal, "action_added", from_status=plan.status, role=role,
                   details={"action": action.id, "description": action.description, "owner": action.owner, "due": due.isoformat()})
    return action


async def set_action_status(session: AsyncSession, authorizer: Authorizer, principal: Principal, *, plan_id: int,
                            action_id: int, status: str) -> Action | NotAllowed:
    plan = await session.get(ImprovementPlan, plan_id)
    action = await session.get(Action, action_id)
    if plan is None or action is None or action.plan_id != plan.id or status not in ACTION_STATUSES:
        return NotAllowed("Action not found")
    role = acting_role(authorizer, principal, await plan_domain(session, plan), "edit")
    if role is None:
        return NotAllowed("You may not change this plan's action log")
    before = action.status
    action.status = status
    action.closed_at = dt.datetime.now(dt.UTC) if status in ("done", "closed") else None
    await record_history(session, plan, principal, "action_updated", from_status=plan.status, role=role,
                   details={"action": action.id, "from": before, "to": status})
    return action
