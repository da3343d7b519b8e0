"""An organisation's maturity self-assessment (STW "Achieving a performance improvement culture"):
the levels it assesses against, the assessment in force per scope, the form to record a new one (for
the roles the framework names), and the history. The service is server/maturity/record.py, shared
with GraphQL's recordMaturityAssessment. Works without JavaScript; errors sit beside the field."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.auth.authz import acting_domain
from server.maturity.framework import maturity_framework
from server.maturity.history import assessment_history, current_assessments
from server.maturity.record import MaturityInput, MaturityRefused, record_maturity, recording_roles_here
from server.web.render import access_of, login_required, not_found, principal_of, readable_organisation, redirect_with_notice, render, services_of

# The service's field names, as the form's controls are identified on the page.
FIELD_IDS = {"level": "maturity-level", "evidence": "maturity-evidence", "programme": "maturity-programme"}


@login_required
async def maturity_page(request: Request) -> Response:
    return await _render(request)


@login_required
async def record(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in ("level", "evidence", "programme")}
    given = MaturityInput(level=_level(values["level"]), evidence=values["evidence"], programme=values["programme"] or None)
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        outcome = await record_maturity(session, services.authorizer, principal_of(request), org_id=organisation.id, given=given)
        if isinstance(outcome, MaturityRefused):
            await session.rollback()
    if isinstance(outcome, MaturityRefused):
        anchor = FIELD_IDS.get(outcome.field or "", "maturity-level")
        errors = [{"text": outcome.message, "href": f"#{anchor}"}]
        return await _render(request, errors=errors, field=anchor, values=values, status_code=outcome.status_code)
    return redirect_with_notice(request, f"/organisations/{quote(organisation.code)}/maturity", outcome.message)


async def _render(request: Request, *, errors: list[dict[str, str]] | None = None, field: str | None = None,
                  values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        framework = await maturity_framework(session, organisation.id)
        history = await assessment_history(session, organisation.id) if framework else []
        domain = await acting_domain(session, organisation.id)
    may_record = bool(framework and recording_roles_here(services.authorizer, principal_of(request), domain, framework))
    values = values or {}
    context: dict[str, Any] = {
        "organisation": organisation, "framework": framework, "history": history, "current": current_assessments(history),
        "may_record": may_record, "errors": errors or [], "error_field": field, "values": values,
        "level_names": {level.level: level.name for level in framework.spec.levels} if framework else {},
        "level_items": [{"value": str(level.level), "text": f"{level.level}: {level.name}", "hint": {"text": level.impact}}
                        for level in framework.spec.levels] if framework else [],
        "programme_items": [{"value": "", "text": "The whole organisation", "selected": not values.get("programme")}] + [
            {"value": code, "text": name, "selected": values.get("programme") == code} for code, name in (framework.programmes if framework else ())],
    }
    return render(request, "pages/maturity.html", context, status_code=status_code)


def _level(value: str) -> int | None:
    return int(value) if value.strip().isdigit() and len(value.strip()) < 3 else None
