"""People acting on an escalation: acknowledge, link a plan, or override the ladder with a reason.

Who may do which is the accountability matrix's call (Casbin): acknowledging needs
``escalation acknowledge``, linking a plan ``escalation manage``, and any change of level or a
manual close ``escalation override`` — which the lifecycle also insists carries a reason.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.auth.authz import Authorizer, Principal, acting_domain
from server.db.models import Escalation as EscalationRow
from server.db.models import EscalationEvent, ImprovementPlan
from server.escalation.lifecycle import Actor, Transition, TransitionEvent, TransitionKind, TransitionRefused, apply_transition
from server.escalation_store.run import as_lifecycle
from server.notifications.escalations import notify_escalation_moves
from server.tenants.load import framework_of

PERMISSION_FOR = {
    TransitionKind.ACKNOWLEDGED: "acknowledge",
    TransitionKind.PLAN_LINKED: "manage",
    TransitionKind.ESCALATED: "override",
    TransitionKind.DE_ESCALATED: "override",
    TransitionKind.CLOSED: "override",
}


@dataclass(frozen=True)
class EscalationChanged:
    escalation: EscalationRow
    message: str


@dataclass(frozen=True)
class EscalationRefused:
    message: str
    status_code: int = 400


def allowed_kinds(authorizer: Authorizer, principal: Principal, domain: str) -> list[TransitionKind]:
    return [kind for kind, permission in PERMISSION_FOR.items() if authorizer.allows(principal, domain, "escalation", permission)]


async def act(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, escalation_id: int, kind: str, seen_version: int,
    reason: str | None = None, to_level: int | None = None, plan_id: int | None = None,
) -> EscalationChanged | EscalationRefused:
    try:
        transition_kind = TransitionKind(kind)
    except ValueError:
        return EscalationRefused(f"'{kind}' is not something you can do to an escalation")
    row = (await session.exec(select(EscalationRow).where(EscalationRow.id == escalation_id).with_for_update())).scalars().first()
    if row is None or transition_kind not in PERMISSION_FOR:
        return EscalationRefused("Escalation not found", 404)
    domain = await acting_domain(session, row.org_id)
    permission = PERMISSION_FOR[transition_kind]
    roles = [r for r in principal.roles_in(domain) if r in authorizer.roles_granting("escalation", permission)]
    if not roles or not authorizer.allows(principal, domain, "escalation", permission):
        return EscalationRefused(f"Your role does not allow you to {transition_kind.value.replace('_', ' ')} this escalation", 403)
    if row.version != seen_version:
        return EscalationRefused("This escalation changed after you opened it. Nothing was saved: review it and try again.", 409)
    if transition_kind is TransitionKind.PLAN_LINKED:
        plan = await session.get(ImprovementPlan, plan_id) if plan_id else None
        if plan is None:
            return EscalationRefused("Choose a plan you can see to link")
    result = await change_by_hand(session, row, transition_kind, principal=principal, role=roles[0], reason=reason, to_level=to_level,
                                  plan_id=plan_id)
    if isinstance(result, TransitionRefused):
        return EscalationRefused(f"Not done: {result.reason}")
    event = result
    return EscalationChanged(row, f"Escalation {event.kind.value.replace('_', ' ')}")


async def change_by_hand(
    session: AsyncSession, row: EscalationRow, kind: TransitionKind, *, principal: Principal, role: str, reason: str | None,
    to_level: int | None = None, plan_id: int | None = None,
) -> TransitionEvent | TransitionRefused:
    """A person's transition of one escalation (its Casbin check done by the caller): the event, the row and the audit.

    The escalation page's actions and the accountability review (ULHT 6) both change levels this way.
    """
    current = await as_lifecycle(session, row)
    actor = Actor(principal.name, role, dt.datetime.now(dt.UTC), manual=True)
    result = apply_transition(
        current, Transition(kind, to_level=to_level, reason=(reason or "").strip() or None,
                            plan_reference=str(plan_id) if plan_id else None), by=actor,
    )
    if isinstance(result, TransitionRefused):
        return result
    before = {"level": row.level, "status": row.status}
    await _apply(session, row, result, kind, plan_id)
    event = result.history[-1]
    session.add(EscalationEvent(
        org_id=row.org_id, escalation_id=row.id, event=event.kind.value, from_level=event.from_level, to_level=event.to_level,
        actor_user_id=principal.user_id, actor_role=actor.role, reason=event.reason,
        facts={"actor": principal.name, **({"plan_reference": event.plan_reference} if event.plan_reference else {})}, at=event.at,
    ))
    await record_event(
        session, action=f"escalation.{event.kind.value}", object_type="escalation", object_id=str(row.id), org_id=row.org_id,
        actor_user_id=principal.user_id, actor_role=actor.role, before=before, after={"level": row.level, "status": row.status, "reason": event.reason},
    )
    if kind is TransitionKind.ESCALATED:  # issue 15: the forum it now reaches is told, as when the ladder moves it
        await session.flush()
        await notify_escalation_moves(session, row.org_id, await framework_of(session, row.org_id))
    return event


async def _apply(session: AsyncSession, row: EscalationRow, result, kind: TransitionKind, plan_id: int | None) -> None:  # type: ignore[no-untyped-def]
    row.status = result.status.value
    row.updated_at = dt.datetime.now(dt.UTC)
    row.version += 1
    if kind is TransitionKind.PLAN_LINKED:
        row.plan_id = plan_id
    if kind in (TransitionKind.ESCALATED, TransitionKind.DE_ESCALATED):
        row.manual_override = True  # a level set by hand holds until a person changes it (lifecycle.reconcile)
        framework = await framework_of(session, row.org_id)
        ladder = next((l for l in framework.escalation.ladders if l.code == row.ladder_code), None) if framework else None
        level = next((lvl for lvl in ladder.levels if lvl.level == result.level), None) if ladder else None
        row.level = result.level
        if level is not None:
            row.level_code, row.level_name, row.forum_code, row.requires = level.code, level.name, level.forum, list(level.requires)
    if kind is TransitionKind.CLOSED:
        row.closed_at = dt.datetime.now(dt.UTC)
