"""Measurement entry for an organisation's own submitters: one row, or rows pasted from a spreadsheet."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from server.auth.authz import org_domain
from server.measurements.paste import parse_rows
from server.measurements.record import MeasurementItem, RowProblem
from server.measurements.submit import may_validate, submit_measurements
from server.organisations.queries import indicators_of
from server.web.render import access_of, redirect_with_notice, login_required, not_found, principal_of, readable_organisation, render, services_of

# RowProblem.field -> the form field that shows it
FIELD_IDS = {"indicator": "indicator", "unit": "unit", "period": "period", "value": "value", "numerator": "numerator",
             "denominator": "denominator", "status": "status", "reason": "reason"}


async def _context(request: Request, session, organisation) -> dict:  # type: ignore[no-untyped-def]
    leaves = (await session.exec(text(
        "select u.code, u.name from org_unit u where u.org_id = :o and not exists (select 1 from org_unit c where c.parent_id = u.id) order by u.path"),
        params={"o": organisation.id})).all()
    today = dt.date.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return {"organisation": organisation, "indicators": await indicators_of(session, org_id=organisation.id), "units": leaves,
            "default_period": last_month.isoformat(), "values": {}, "errors": {}, "row_errors": []}


async def _organisation_for_submitter(request: Request, session):  # type: ignore[no-untyped-def]
    organisation = await readable_organisation(request, session, request.path_params["code"])
    if organisation is None:
        return None, not_found(request)
    if not services_of(request).authorizer.allows(principal_of(request), org_domain(organisation.code), "measurement", "submit"):
        return None, render(request, "pages/not_found.html", {"message": "You cannot enter data for this organisation"}, status_code=403)
    return organisation, None


@login_required
async def entry_form(request: Request) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
        context = await _context(request, session, organisation)
    return render(request, "pages/measurements/entry.html", context)


@login_required
async def submit_one(request: Request) -> Response:
    form = await request.form()
    values = {key: str(form.get(key, "")).strip() for key in ("indicator", "unit", "period", "value", "numerator", "denominator", "status", "reason")}
    item = MeasurementItem(values["indicator"], values["unit"], values["period"], values["value"] or None, values["numerator"] or None,
                           values["denominator"] or None, values["status"] or "provisional")
    return await _submit(request, [item], values=values, reason=values["reason"] or None)


@login_required
async def submit_pasted(request: Request) -> Response:
    form = await request.form()
    rows_text = str(form.get("rows", ""))
    items, problems = parse_rows(rows_text)
    if problems:
        return await _refused(request, problems, values={"rows": rows_text}, pasted=True)
    return await _submit(request, items, values={"rows": rows_text}, reason=str(form.get("reason", "")) or None, pasted=True)


async def _submit(request: Request, items: list[MeasurementItem], *, values: dict, reason: str | None, pasted: bool = False) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
        principal = principal_of(request)
        outcome = await submit_measurements(
            session, org_id=organisation.id, user_id=principal.user_id, items=items, reason=reason,
            may_validate=may_validate(services.authorizer, principal, organisation.code),
        )
    if not outcome.ok:
        return await _refused(request, outcome.problems, values=values, pasted=pasted)
    unchanged = len(outcome.recorded) - len(outcome.changed)
    message = f"{len(outcome.changed)} measurement(s) saved; ratings and escalations updated" + (
        f"; {unchanged} already held the same value" if unchanged else "")
    return redirect_with_notice(request, f"/organisations/{request.path_params['code']}/measurements/new", message)


async def _refused(request: Request, problems: list[RowProblem], *, values: dict, pasted: bool) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
        context = await _context(request, session, organisation)
    if pasted:
        # Problems with the submission as a whole (row 0, e.g. its reason) sit by their own field.
        context.update(row_errors=[p for p in problems if p.row], errors={FIELD_IDS.get(p.field, "rows"): p.message for p in problems if not p.row},
                       values=values)
    else:
        context.update(errors={FIELD_IDS.get(p.field, "indicator"): p.message for p in problems}, values=values)
    return render(request, "pages/measurements/entry.html", context, status_code=400)
