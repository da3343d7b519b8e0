"""The escalation register: what is escalated, to which forum, why, and what people did about it."""
from __future__ import annotations


from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from server.db.models import Escalation, EscalationEvent, ImprovementPlan
from server.auth.authz import acting_domain
from server.escalation_store.manual import EscalationRefused, act, allowed_kinds
from server.judgements.forms import judgement_form
from server.tenants.load import framework_of
from server.reporting.words import ASSURANCE_WORDS, RAG_WORDS, VARIATION_WORDS
from server.web.listing import Choice, choose
from server.web.render import access_of, redirect_with_notice, form_int, login_required, not_found, principal_of, readable_organisation, render, services_of


@login_required
async def register_page(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        rows = (await session.exec(
            select(Escalation).where(Escalation.org_id == organisation.id)
            .order_by((Escalation.status == "closed"), Escalation.level.desc(), Escalation.updated_at.desc()).limit(300)
        )).scalars().all()
    choices = register_choices(request, rows)
    status, level, forum, sort = (choice.value for choice in choices)
    shown = [row for row in rows if (status == "all" or (row.status != "closed" if status == "live" else row.status == status))
             and row.level >= int(level) and (forum == "all" or row.forum_code == forum)]
    shown.sort(key=REGISTER_SORTS[sort])
    live = [row for row in shown if row.status != "closed"]
    closed = [row for row in shown if row.status == "closed"][:50]
    return render(request, "pages/escalations/register.html", {
        "organisation": organisation, "live": live, "closed": closed, "choices": choices, "open_count": sum(r.status != "closed" for r in rows),
    })


def fact_words(value: object) -> str:
    """A fact as people read it: 'Yes' not True, 'Hit and miss: ...' not hit_and_miss, 'Not known' not None."""
    if value is None:
        return "Not known"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, str):
        for words in (VARIATION_WORDS, ASSURANCE_WORDS, RAG_WORDS):
            if value in words:
                return words[value]
        return value.replace("_", " ")
    return str(value)


def chart_href(organisation_code: str, subject_key: str) -> str | None:
    """The subject's chart, when the subject is an indicator."""
    kind, _, code = subject_key.partition(":")
    return f"/organisations/{organisation_code}/indicators/{code}" if kind == "indicator" and code else None


REGISTER_SORTS = {
    "level": lambda row: (-row.level, -row.updated_at.timestamp()),
    "newest": lambda row: -row.opened_at.timestamp(),
    "oldest": lambda row: row.opened_at.timestamp(),
    "subject": lambda row: row.subject_name.lower(),
}


def register_choices(request: Request, rows) -> list[Choice]:  # type: ignore[no-untyped-def]
    forums = sorted({row.forum_code for row in rows if row.forum_code})
    return [
        choose(request, "status", "Status", (("live", "Open (not closed)"), ("open", "Open, not yet acknowledged"), ("acknowledged", "Acknowledged"),
                                             ("plan_linked", "Plan linked"), ("closed", "Closed"), ("all", "All"))),
        choose(request, "level", "Level", (("1", "Any level"), ("2", "Level 2 and above"), ("3", "Level 3 and above"), ("4", "Level 4 and above"))),
        choose(request, "forum", "Forum", (("all", "Any forum"), *((forum, forum) for forum in forums))),
        choose(request, "sort", "Sort by", (("level", "Highest level first"), ("newest", "Newest first"), ("oldest", "Oldest first"), ("subject", "Subject"))),
    ]


async def _detail_context(request: Request, session, organisation, escalation_id: int):  # type: ignore[no-untyped-def]
    row = await session.get(Escalation, escalation_id)
    if row is None or row.org_id != organisation.id:
        return None
    events = (await session.exec(select(EscalationEvent).where(EscalationEvent.escalation_id == row.id).order_by(EscalationEvent.at, EscalationEvent.id))).scalars().all()
    framework = await framework_of(session, organisation.id)
    ladder = next((l for l in framework.escalation.ladders if l.code == row.ladder_code), None) if framework else None
    services = services_of(request)
    domain = await acting_domain(session, organisation.id)
    plans = (await session.exec(select(ImprovementPlan).where(ImprovementPlan.status.notin_(("closed",))).order_by(ImprovementPlan.title))).scalars().all()
    return {
        "organisation": organisation, "escalation": row, "events": events, "ladder": ladder, "plans": plans,
        "allowed": {kind.value for kind in allowed_kinds(services.authorizer, principal_of(request), domain)},
        "fact_words": fact_words, "chart_href": chart_href(organisation.code, row.subject_key),
        "judgement_form": await judgement_form(  # issue 11: record what the ladder waits on, here
            session, services.authorizer, principal_of(request), organisation_code=organisation.code, org_id=organisation.id,
            framework=framework, subjects=[(row.subject_key, row.subject_name)], returns_to=f"escalation:{row.id}"),
    }


@login_required
async def escalation_page(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        context = await _detail_context(request, session, organisation, int(request.path_params["escalation_id"]))
    if context is None:
        return not_found(request)
    return render(request, "pages/escalations/detail.html", context)


@login_required
async def escalation_action(request: Request) -> Response:
    services, access = services_of(request), access_of(request)
    code, escalation_id = request.path_params["code"], int(request.path_params["escalation_id"])
    form = await request.form()
    async with services.database.session(access) as session:
        organisation = await readable_organisation(request, session, code)
        if organisation is None:
            return not_found(request)
        outcome = await act(
            session, services.authorizer, principal_of(request), escalation_id=escalation_id, kind=str(form.get("kind", "")),
            seen_version=form_int(form.get("version")), reason=str(form.get("reason", "")) or None,
            to_level=form_int(form.get("to_level")) if form.get("to_level") else None, plan_id=form_int(form.get("plan_id")) if form.get("plan_id") else None,
        )
    if isinstance(outcome, EscalationRefused):
        async with services.database.session(access) as session:
            context = await _detail_context(request, session, organisation, escalation_id)
        if context is None:
            return not_found(request)
        return render(request, "pages/escalations/detail.html", {**context, "error": outcome.message}, status_code=outcome.status_code)
    return redirect_with_notice(request, f"/organisations/{code}/escalations/{escalation_id}", outcome.message)

