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
from server.web.templating import TIME_UNITS
from server.web.render import access_of, redirect_with_notice, login_required, not_found, principal_of, readable_organisation, render, services_of

# RowProblem.field -> the form field that shows it
FIELD_IDS = {"indicator": "indicator", "unit": "unit", "period": "period", "value": "value", "numerator": "numerator",
             "denominator": "denominator", "status": "status", "reason": "reason"}


async def _context(request: Request, session, organisation, chosen: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """The page for ``chosen`` (an indicator code; the first indicator when none or an unknown one is)."""
    leaves = (await session.exec(text(
        "select u.code, u.name from org_unit u where u.org_id = :o and not exists (select 1 from org_unit c where c.parent_id = u.id) order by u.path"),
        params={"o": organisation.id})).all()
    today = dt.date.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    indicators = await indicators_of(session, org_id=organisation.id)
    indicator = next((i for i in indicators if i.code == chosen), indicators[0] if indicators else None)
    return {"organisation": organisation, "indicators": indicators, "indicator": indicator, "units": leaves,
            "default_period": last_month.isoformat(), "default_month": str(last_month.month), "default_year": str(last_month.year),
            "values": {}, "errors": {}, "row_errors": [], "unit_suffixes": {unit: words[1] for unit, words in TIME_UNITS.items()}}


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
        context = await _context(request, session, organisation, request.query_params.get("indicator"))
    return render(request, "pages/measurements/entry.html", context)


@login_required
async def submit_one(request: Request) -> Response:
    form = await request.form()
    values = {key: str(form.get(key, "")).strip() for key in (*FIELD_IDS, "period[month]", "period[year]")}
    period, period_problem = period_from(values)
    if period_problem:
        return await _refused(request, [RowProblem(1, "period", period_problem)], values=values, pasted=False)
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        indicators = {i.code: i for i in await indicators_of(session, org_id=organisation.id)} if organisation else {}
    indicator = indicators.get(values["indicator"])
    value, value_problem = typed_value(values["value"], indicator.unit if indicator else "", indicator.name if indicator else "")
    if value_problem:
        return await _refused(request, [RowProblem(1, "value", value_problem)], values=values, pasted=False)
    item = MeasurementItem(values["indicator"], values["unit"], period, value, values["numerator"] or None,
                           values["denominator"] or None, values["status"] or "provisional")
    return await _submit(request, [item], values=values, reason=values["reason"] or None)


def period_from(values: dict[str, str]) -> tuple[str, str | None]:
    """The month from the NHS.UK date input (month and year), or a whole date posted as ``period``."""
    if values.get("period"):
        return values["period"], None
    month, year = values.get("period[month]", ""), values.get("period[year]", "")
    if not month and not year:
        return "", "Enter the month and year of the measurement"
    if not (month.isdigit() and 1 <= int(month) <= 12):
        return "", "Enter the month as a number from 1 to 12"
    if not (year.isdigit() and len(year) == 4):
        return "", "Enter the year in full, for example 2026"
    return f"{year}-{int(month):02d}-01", None


def typed_value(text: str, unit: str, name: str = "") -> tuple[str | None, str | None]:
    """A percentage is typed as people say it (95, 95% or 95.5) and stored as a fraction (0.955)."""
    if not text:
        return None, None
    if unit != "percent":
        return text, None
    number = text.removesuffix("%").strip()
    try:
        percentage = float(number)
    except ValueError:
        return None, f"Enter {name or 'the percentage'} as a number, for example 95 or 95.5"
    if not 0 <= percentage <= 100:
        return None, f"Enter {name or 'the percentage'} as a percentage from 0 to 100"
    return repr(percentage / 100), None


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
        return await _refused(request, outcome.problems, values=values, pasted=pasted, items=items)
    unchanged = len(outcome.recorded) - len(outcome.changed)
    message = f"{len(outcome.changed)} measurement(s) saved; ratings and escalations updated" + (
        f"; {unchanged} already held the same value" if unchanged else "")
    return redirect_with_notice(request, f"/organisations/{request.path_params['code']}/measurements/new", message)


async def _refused(request: Request, problems: list[RowProblem], *, values: dict, pasted: bool,
                   items: list[MeasurementItem] | None = None) -> Response:
    async with services_of(request).database.session(access_of(request)) as session:
        organisation, refusal = await _organisation_for_submitter(request, session)
        if refusal:
            return refusal
        context = await _context(request, session, organisation, values.get("indicator"))
    if pasted:
        # Problems with the submission as a whole (row 0, e.g. its reason) sit by their own field.
        context.update(row_errors=[p for p in problems if p.row], errors={FIELD_IDS.get(p.field, "rows"): p.message for p in problems if not p.row},
                       values=values, row_names=_row_names(items or [], context))
    else:
        indicator = context["indicator"]
        shown = ("numerator", "denominator") if indicator is not None and indicator.rollup == "rate" else ("value",)

        def field_of(problem: RowProblem) -> str:
            # A problem with a number the form does not show for this indicator sits by the first number it does show.
            field = FIELD_IDS.get(problem.field, "indicator")
            return shown[0] if field in ("value", "numerator", "denominator") and field not in shown else field

        context.update(errors={field_of(p): _sentence(p.message) for p in problems}, values=values)
    return render(request, "pages/measurements/entry.html", context, status_code=400)


def _sentence(message: str) -> str:
    """'must be greater than zero for ...' reads as 'Must be greater than zero for ...' beside a field."""
    return message[:1].upper() + message[1:]


def _row_names(items: list[MeasurementItem], context: dict) -> dict[int, str]:
    """Per row (counted from 1), the indicator and unit it is about in people's words, for the error summary."""
    indicators = {i.code: i.name for i in context["indicators"]}
    units = dict(context["units"])
    names = {}
    for row, item in enumerate(items, start=1):
        indicator = indicators.get(str(item.indicator_code).strip())
        unit = units.get(str(item.unit_code).strip())
        if indicator:
            names[row] = f"{indicator}, {unit}" if unit else indicator
    return names
