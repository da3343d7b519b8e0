"""Improvement plans: list, create, plan on a page, edit, sign-off steps and the action log.

Every form is a real <form method="post">; htmx enhances the sign-off panel by swapping just
that partial. The server checks every step regardless of which buttons were shown.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from server.db.models import HealthSystem, Indicator, Organisation, SystemMembership
from server.plans.actions import add_action, set_action_status
from server.plans.create import LEAD_ROLES, PMO_SUPPORT_LEVELS, PlanCreated, PlanDraft, create_plan
from server.plans.view import plan_view, visible_plans
from server.plans.workflow import NotAllowed, PlanChanged, StaleForm, advance, agree, edit
from server.web.listing import Choice, choose
from server.web.render import access_of, redirect_with_notice, form_int, login_required, not_found, principal_of, render, services_of

REQUIRED_FIELDS = {"title": "Enter a title for the plan", "sro": "Enter the senior responsible owner"}
EDITABLE_TEXT_FIELDS = (
    "title", "programme", "sro", "pmo_support", "national_target", "local_target", "longest_wait", "narrative",
    "queries_escalations", "delivered_this_month", "planned_next_month",
)


@login_required
async def plan_list(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        plans = await visible_plans(session)
        owners = await _owners_for(request, session)
    choices = plan_choices(request)
    shown = filter_plans(plans, *(choice.value for choice in choices))
    return render(request, "pages/plans/list.html", {"plans": shown, "total": len(plans), "owners": owners, "choices": choices})


PLAN_STATES = (("open", "Not closed"), ("awaiting", "Awaiting sign-off"), ("delivery", "In delivery"), ("closed", "Closed or escalated"), ("all", "All"))
PLAN_KINDS = (("all", "All kinds"), ("spip", "System (SPIP)"), ("recovery", "Recovery"), ("exception", "Exception action plan"))
PLAN_SORTS = (("updated", "Recently changed"), ("title", "Title"), ("owner", "Owner"), ("status", "Status"))
STATE_STATUSES = {
    "awaiting": ("draft", "critiqued", "agreed", "signed_off", "presented"),
    "delivery": ("in_delivery",),
    "closed": ("closed", "escalated"),
}
# The route's order, for sorting by status.
STATUS_ORDER = ("draft", "critiqued", "agreed", "signed_off", "presented", "in_delivery", "escalated", "closed")


def plan_choices(request: Request) -> list[Choice]:
    return [choose(request, "state", "Show", PLAN_STATES), choose(request, "kind", "Kind", PLAN_KINDS),
            choose(request, "sort", "Sort by", PLAN_SORTS)]


def filter_plans(plans, state: str, kind: str, sort: str):  # type: ignore[no-untyped-def]
    if state == "open":
        plans = [(p, o) for p, o in plans if p.status not in STATE_STATUSES["closed"]]
    elif state in STATE_STATUSES:
        plans = [(p, o) for p, o in plans if p.status in STATE_STATUSES[state]]
    if kind != "all":
        plans = [(p, o) for p, o in plans if p.kind == kind]
    keys = {
        "updated": lambda item: (-item[0].updated_at.timestamp(), item[0].title.lower()),
        "title": lambda item: item[0].title.lower(),
        "owner": lambda item: (item[1].name, item[0].title.lower()),
        "status": lambda item: (STATUS_ORDER.index(item[0].status) if item[0].status in STATUS_ORDER else 99, item[0].title.lower()),
    }
    return sorted(plans, key=keys[sort])


async def _owners_for(request: Request, session) -> list[Organisation]:  # type: ignore[no-untyped-def]
    """Organisations (or systems) this person may draft plans for."""
    services, principal = services_of(request), principal_of(request)
    candidates = (await session.exec(select(Organisation).where(Organisation.is_tenant).order_by(Organisation.name))).scalars().all()
    systems = dict((await session.exec(select(HealthSystem.organisation_id, HealthSystem.code))).all())
    allowed = []
    for org in candidates:
        domain = f"system:{systems[org.id]}" if org.id in systems else f"org:{org.code}"
        if services.authorizer.allows(principal, domain, "improvement_plan", "draft"):
            allowed.append(org)
    return allowed


@login_required
async def new_plan_form(request: Request) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        context = await _form_context(request, session, owner_code=request.query_params.get("owner", ""))
    if not context["owners"]:
        return not_found(request, "You cannot draft improvement plans")
    return render(request, "pages/plans/form.html", context)


async def _form_context(request: Request, session, *, owner_code: str, draft: PlanDraft | None = None, errors=None, plan=None):  # type: ignore[no-untyped-def]
    owners = await _owners_for(request, session)
    owner = next((o for o in owners if o.code == owner_code), owners[0] if owners else None)
    members: list[Organisation] = []
    indicators: list[tuple[Indicator, Organisation]] = []
    if owner is not None:
        system = (await session.exec(select(HealthSystem).where(HealthSystem.organisation_id == owner.id))).scalars().first()
        if system:
            members = list((await session.exec(
                select(Organisation).join(SystemMembership, SystemMembership.organisation_id == Organisation.id)
                .where(SystemMembership.system_id == system.id, Organisation.id != owner.id).order_by(Organisation.name)
            )).scalars())
        org_ids = [m.id for m in members] or [owner.id]
        indicators = list((await session.exec(
            select(Indicator, Organisation).join(Organisation, Organisation.id == Indicator.org_id)
            .where(Indicator.org_id.in_(org_ids)).order_by(Organisation.name, Indicator.position)
        )).all())
    return {
        "owners": owners, "owner": owner, "members": members, "indicators": indicators, "draft": draft or PlanDraft(owner_code=owner.code if owner else ""),
        "errors": errors or {}, "lead_roles": LEAD_ROLES, "pmo_levels": PMO_SUPPORT_LEVELS, "plan": plan,
        "months": _plan_year_months(),
    }


def _plan_year_months() -> list[str]:
    """The plan-on-a-page trajectory runs April to March of the current financial year."""
    today = dt.date.today()
    start_year = today.year if today.month >= 4 else today.year - 1
    return [dt.date(start_year + (m < 4), m, 1).isoformat() for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


@login_required
async def create_plan_page(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    draft = PlanDraft(
        owner_code=str(form.get("owner", "")), title=str(form.get("title", "")), kind=str(form.get("kind", "recovery")),
        programme=str(form.get("programme", "")), sro=str(form.get("sro", "")), pmo_support=str(form.get("pmo_support", "")),
        national_target=str(form.get("national_target", "")), local_target=str(form.get("local_target", "")),
        longest_wait=str(form.get("longest_wait", "")), narrative=str(form.get("narrative", "")), started_on=str(form.get("started_on", "")),
        partner_codes=[str(code) for code in form.getlist("partners")],
        leads={role: str(form.get(f"lead_{role}", "")) for role in LEAD_ROLES},
        trajectory={key.removeprefix("trajectory-"): str(value) for key, value in form.items() if key.startswith("trajectory-")},
    )
    indicator = str(form.get("indicator", ""))
    if ":" in indicator:
        draft.indicator_org_code, draft.indicator_code = indicator.split(":", 1)
    async with services.database.session(access_of(request)) as session:
        result = await create_plan(session, services.authorizer, principal_of(request), draft)
        if not isinstance(result, PlanCreated):
            context = await _form_context(request, session, owner_code=draft.owner_code, draft=draft, errors=result.errors)
    if isinstance(result, PlanCreated):
        return redirect_with_notice(request, f"/plans/{result.plan.id}", "Plan drafted")
    return render(request, "pages/plans/form.html", context, status_code=400)


async def _view_response(request: Request, plan_id: int, *, notice: str | None = None, error: str | None = None, status_code: int = 200) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        view = await plan_view(session, services.authorizer, principal_of(request), plan_id)
    if view is None:
        return not_found(request)
    return render(
        request, "pages/plans/view.html",
        {"view": view, "awaited": awaited(view, dt.datetime.now(dt.UTC)), **({"notice": notice} if notice else {}), "error": error,
         "lead_roles": LEAD_ROLES},
        status_code=status_code, block="signoffs" if request.headers.get("hx-target") == "signoffs" else None,
    )


# Who acts next at each status of the SPIP route (DOMAIN: critique, every partner, formal sign-off,
# presentation, delivery), in the words the panel uses.
NEXT_BY_STATUS = {
    "draft": "The programme delivery group, to critique the plan",
    "agreed": "The ICB Commissioning Working Group, to sign the plan off formally",
    "signed_off": "The programme delivery group, to record its presentation",
    "presented": "The programme delivery group, to take the plan into delivery",
    "in_delivery": "The programme delivery group, to close the plan as recovered or escalate it",
}


@dataclass(frozen=True)
class Awaited:
    who: list[str]
    since: dt.datetime
    days: int

    @property
    def waiting_words(self) -> str:
        if self.days == 0:
            return "since today"
        return f"for {self.days} {'day' if self.days == 1 else 'days'} (since {self.since:%-d %B %Y})"


def awaited(view, now: dt.datetime) -> Awaited | None:  # type: ignore[no-untyped-def]
    """Who must act next on the plan, and since when: the moment it last entered its present status."""
    plan = view.plan
    if plan.status == "critiqued":
        who = [f"{partner.organisation.name}, to agree the plan" for partner in view.partners if partner.agreement is None]
    elif plan.status in NEXT_BY_STATUS and not (plan.status == "agreed" and plan.kind != "spip"):
        who = [NEXT_BY_STATUS[plan.status]]
    else:
        who = []
    if not who:
        return None
    entered = [event.at for event, _ in view.events if event.to_status == plan.status]
    since = max(entered) if entered else plan.created_at  # a change that withdrew agreements re-enters "critiqued"
    return Awaited(who, since, max(0, (now - since).days))


@login_required
async def plan_page(request: Request) -> Response:
    return await _view_response(request, int(request.path_params["plan_id"]))


async def _after(request: Request, plan_id: int, outcome) -> Response:  # type: ignore[no-untyped-def]
    """After a step: post/redirect/get on success (htmx: the refreshed panel); the refusal shown on the plan otherwise."""
    if isinstance(outcome, PlanChanged):
        if request.headers.get("hx-request"):
            return await _view_response(request, plan_id, notice=outcome.message)
        return redirect_with_notice(request, f"/plans/{plan_id}", outcome.message)
    status = 403 if isinstance(outcome, NotAllowed) else 409 if isinstance(outcome, StaleForm) else 400
    return await _view_response(request, plan_id, error=outcome.message, status_code=status)


@login_required
async def plan_step(request: Request) -> Response:
    services = services_of(request)
    plan_id = int(request.path_params["plan_id"])
    form = await request.form()
    async with services.database.session(access_of(request)) as session:
        outcome = await advance(
            session, services.authorizer, principal_of(request), plan_id=plan_id, action=str(form.get("action", "")),
            seen_version=form_int(form.get("version")), reason=str(form.get("reason", "")) or None,
        )
    return await _after(request, plan_id, outcome)


@login_required
async def plan_agree(request: Request) -> Response:
    services = services_of(request)
    plan_id = int(request.path_params["plan_id"])
    form = await request.form()
    async with services.database.session(access_of(request)) as session:
        outcome = await agree(
            session, services.authorizer, principal_of(request), plan_id=plan_id, partner_code=str(form.get("partner", "")),
            seen_version=form_int(form.get("version")),
        )
    return await _after(request, plan_id, outcome)


@login_required
async def edit_plan_form(request: Request) -> Response:
    services = services_of(request)
    plan_id = int(request.path_params["plan_id"])
    async with services.database.session(access_of(request)) as session:
        view = await plan_view(session, services.authorizer, principal_of(request), plan_id)
    if view is None:
        return not_found(request)
    if not view.can_edit:
        return await _view_response(request, plan_id, error="You may not edit this plan", status_code=403)
    return render(request, "pages/plans/edit.html", {"view": view, "errors": {}, "values": {}})


@login_required
async def edit_plan(request: Request) -> Response:
    services = services_of(request)
    plan_id = int(request.path_params["plan_id"])
    form = await request.form()
    changes: dict[str, object] = {field: (str(form.get(field, "")).strip() or None) for field in EDITABLE_TEXT_FIELDS if field in form}
    # The same required fields as when the plan was drafted: a cleared one is an error, not ignored.
    errors = {field: message for field, message in REQUIRED_FIELDS.items() if field in changes and not changes[field]}
    if errors:
        async with services.database.session(access_of(request)) as session:
            view = await plan_view(session, services.authorizer, principal_of(request), plan_id)
        if view is None:
            return not_found(request)
        return render(request, "pages/plans/edit.html", {"view": view, "errors": errors, "values": changes}, status_code=400)
    async with services.database.session(access_of(request)) as session:
        outcome = await edit(session, services.authorizer, principal_of(request), plan_id=plan_id, seen_version=form_int(form.get("version")), changes=changes)
    return await _after(request, plan_id, outcome)


@login_required
async def plan_add_action(request: Request) -> Response:
    services = services_of(request)
    plan_id = int(request.path_params["plan_id"])
    form = await request.form()
    async with services.database.session(access_of(request)) as session:
        result = await add_action(
            session, services.authorizer, principal_of(request), plan_id=plan_id, description=str(form.get("description", "")),
            owner=str(form.get("owner", "")), due_date=str(form.get("due_date", "")),
        )
    if isinstance(result, NotAllowed):
        return await _view_response(request, plan_id, error=result.message, status_code=403)
    if isinstance(result, dict):
        return await _view_response(request, plan_id, error="; ".join(result.values()), status_code=400)
    return redirect_with_notice(request, f"/plans/{plan_id}#actions", "Action added")


@login_required
async def plan_update_action(request: Request) -> Response:
    services = services_of(request)
    plan_id, action_id = int(request.path_params["plan_id"]), int(request.path_params["action_id"])
    form = await request.form()
    async with services.database.session(access_of(request)) as session:
        result = await set_action_status(session, services.authorizer, principal_of(request), plan_id=plan_id, action_id=action_id, status=str(form.get("status", "")))
    if isinstance(result, NotAllowed):
        return await _view_response(request, plan_id, error=result.message, status_code=403)
    return redirect_with_notice(request, f"/plans/{plan_id}#actions", "Action updated")

