"""Recording a judgement from the escalation page or a meeting page (the form partial posts here).

One route for both: the form says which page it came from (``returns_to``), the judgement service
decides (server/judgements/record.py), and the person goes back to that page, with the outcome, or
with the page re-rendered around the form's errors and what they typed. Works without JavaScript.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.judgements.record import JudgementInput, JudgementRefused, record_judgement
from server.web.render import access_of, redirect_with_notice, login_required, not_found, principal_of, readable_organisation, render, services_of


@login_required
async def record(request: Request) -> Response:
    form = await request.form()
    page, _, page_id = str(form.get("returns_to", "")).partition(":")
    if page not in ("escalation", "meeting") or not page_id.isdigit() or len(page_id) > 11:
        return not_found(request)
    expires_on, expiry_problem = _date(form)
    given = JudgementInput(
        kind=str(form.get("kind", "")), subject_key=str(form.get("subject", "")), value=str(form.get("value", "")),
        reason=str(form.get("reason", "")), expires_on=expires_on, withdraw=form.get("withdraw") == "yes",
        escalation_id=int(page_id) if page == "escalation" else None, meeting_id=int(page_id) if page == "meeting" else None,
        meeting_version=_int(form.get("meeting_version")) if page == "meeting" else None,
    )
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        outcome = (JudgementRefused("invalid", expiry_problem, "expires") if expiry_problem else
                   await record_judgement(session, services.authorizer, principal_of(request), org_id=organisation.id, given=given,
                                          now=dt.datetime.now(dt.UTC)))
    back = f"/organisations/{organisation.code}/{'escalations' if page == 'escalation' else 'meetings'}/{page_id}"
    if not isinstance(outcome, JudgementRefused):
        if page == "escalation":
            return redirect_with_notice(request, f"{back}#judgements", outcome.message)
        return RedirectResponse(f"{back}?saved=judgement#judgements", status_code=303)
    return await _page_with_errors(request, page, int(page_id), outcome, given, form)


async def _page_with_errors(request: Request, page: str, page_id: int, refusal: JudgementRefused, given: JudgementInput,
                            form: Mapping[str, Any]) -> Response:
    """The page the form was on, re-rendered with the error beside the field and what was typed kept."""
    from server.web.pages import escalations, meetings

    anchor = f"judgement-{given.kind}-{refusal.field or 'value'}"
    errors = [{"text": refusal.message, "href": f"#{anchor}"}]
    values = {name: str(form.get(name, "")) for name in ("subject", "value", "reason", "expires-day", "expires-month", "expires-year")}
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if page == "escalation":
            context = await escalations._detail_context(request, session, organisation, page_id)
            template = "pages/escalations/detail.html"
        else:
            found = await meetings.meeting_in(session, organisation.id, page_id) if organisation else None
            context = await meetings._meeting_context(session, request, organisation, found) if found else None
            template = "pages/meetings/meeting.html"
    if context is None:
        return not_found(request)
    judgement = context.get("judgement_form")
    if judgement is not None:
        judgement.errors, judgement.values, judgement.failed_kind = errors, values, given.kind
    return render(request, template, context, status_code=refusal.status_code)


def _date(form: Mapping[str, Any]) -> tuple[dt.date | None, str | None]:
    parts = [str(form.get(f"expires-{part}", "")).strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None, None
    try:
        return dt.date(int(parts[2]), int(parts[1]), int(parts[0])), None
    except ValueError:
        return None, "Enter the date it expires as a real date, for example 31 3 2027, or leave it empty"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1  # never current: refused as stale
