"""An organisation's earned autonomy (ULHT PMF 5.2 and 6): each division's level earned and in force with
the powers of the scheme of delegation it holds, its last accountability review and when the next is
due; the form to record a review (for the roles the tenant file names); the history of levels and
reviews. The service is server/autonomy/review.py, shared with GraphQL's recordAccountabilityReview.
Works without JavaScript; errors sit beside the field."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.auth.authz import acting_domain
from server.autonomy.framework import autonomy_framework
from server.autonomy.review import ReviewInput, ReviewRefused, record_review, reviewing_roles_here
from server.autonomy.store import division_autonomy, level_history, review_history
from server.tenants.load import framework_of
from server.web.render import (
    access_of, form_day_month_year, login_required, not_found, principal_of, readable_organisation, redirect_with_notice, render, services_of,
)

# The service's field names, as the form's controls are identified on the page.
FIELD_IDS = {"unit": "review-unit", "held_on": "held", "autonomy_level": "review-autonomy", "escalation_level": "review-escalation",
             "notes": "review-notes"}
FORM_FIELDS = ("unit", "autonomy_level", "escalation_level", "notes", "held-day", "held-month", "held-year")


@login_required
async def autonomy_page(request: Request) -> Response:
    return await _render(request)


@login_required
async def record(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FORM_FIELDS}
    given = ReviewInput(unit=values["unit"] or None, held_on=form_day_month_year(form, "held"), autonomy_level=_number(values["autonomy_level"]),
                        escalation_level=_number(values["escalation_level"]), notes=values["notes"])
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        outcome = await record_review(session, services.authorizer, principal_of(request), org_id=organisation.id, given=given)
        if isinstance(outcome, ReviewRefused):
            await session.rollback()
    if isinstance(outcome, ReviewRefused):
        anchor = FIELD_IDS.get(outcome.field or "", "review-unit")
        errors = [{"text": outcome.message, "href": f"#{anchor}" + ("-day" if anchor == "held" else "")}]
        return await _render(request, errors=errors, field=anchor, values=values, status_code=outcome.status_code)
    return redirect_with_notice(request, f"/organisations/{quote(organisation.code)}/autonomy", outcome.message)


async def _render(request: Request, *, errors: list[dict[str, str]] | None = None, field: str | None = None,
                  values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        autonomy = autonomy_framework(await framework_of(session, organisation.id))
        divisions = await division_autonomy(session, organisation.id, autonomy) if autonomy else []
        history = await level_history(session, organisation.id) if autonomy else []
        reviews = await review_history(session, organisation.id) if autonomy else []
        domain = await acting_domain(session, organisation.id)
    may_record = bool(autonomy and reviewing_roles_here(services.authorizer, principal_of(request), domain, autonomy))
    values = values or {}
    context: dict[str, Any] = {
        "organisation": organisation, "autonomy": autonomy, "divisions": divisions, "history": history, "reviews": reviews,
        "may_record": may_record, "errors": errors or [], "error_field": field, "values": values,
    }
    if autonomy is not None:
        context.update(
            unit_items=[{"value": "", "text": "Choose a division"}] + [
                {"value": d.unit_code, "text": d.unit_name, "selected": values.get("unit") == d.unit_code} for d in divisions],
            autonomy_items=[{"value": str(level.level), "text": level.name,
                             "hint": {"text": ", ".join(p.name for p in autonomy.powers_of(level.level)) or "No delegated powers beyond the standard"}}
                            for level in autonomy.ladder.levels],
            escalation_items=[{"value": "", "text": "Leave it as it is"}] + [
                {"value": str(level.level), "text": f"{level.level}: {level.name}", "selected": values.get("escalation_level") == str(level.level)}
                for level in (autonomy.resets[0].levels if autonomy.resets else [])],
        )
    return render(request, "pages/autonomy.html", context, status_code=status_code)


def _number(value: str) -> int | None:
    return int(value) if value.strip().isdigit() and len(value.strip()) < 3 else None
