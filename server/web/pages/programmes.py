"""Programmes (Sheffield 3.1): the list, and each programme's page with its milestones, QIPP planned
against realised month by month with the year-to-date gap, its risks, and the escalation level its
record puts it at and why. The forms call server/programmes/record.py, the services GraphQL's
programme mutations call too. Works without JavaScript; errors sit beside the field."""
from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.auth.authz import acting_domain
from server.programmes import record
from server.programmes.facts import add_months, assess_programme, exception_reasons, financial_year_start, month_start, qipp_months
from server.programmes.records import read_programmes
from server.web.render import (
    access_of, form_date, form_int, login_required, not_found, principal_of, readable_organisation, redirect_with_notice, render, services_of,
)

UK = ZoneInfo("Europe/London")
# The service's field names, as the form controls are identified on the page.
FIELD_IDS = {
    "achieved_on": "milestone-achieved", "milestone": "milestone-achieved", "title": "milestone-title", "due_on": "milestone-due",
    "month": "qipp-month", "realised": "qipp-realised", "planned": "qipp-planned",
    "description": "risk-description", "likelihood": "risk-likelihood", "impact": "risk-impact", "owner": "risk-owner",
    "mitigation": "risk-mitigation", "risk": "risk-description", "status": "risk-status",
    "name": "programme-name", "sro": "programme-sro", "starts_on": "programme-starts", "ends_on": "programme-ends", "programme": "programme-name",
}


def _today() -> dt.date:
    return dt.datetime.now(UK).date()


@login_required
async def programmes_page(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        programmes = await read_programmes(session, organisation.id)
        domain = await acting_domain(session, organisation.id)
    today = _today()
    rows = [(programme, assess_programme(programme, today)) for programme in programmes]
    may_create = record.may(services.authorizer, principal_of(request), domain, "create")
    return render(request, "pages/programmes/list.html", {"organisation": organisation, "rows": rows, "may_create": may_create})


@login_required
async def programme_page(request: Request) -> Response:
    return await _render(request)


# The create form's controls, by the service's field names.
NEW_FIELD_IDS = {"name": "programme-name", "code": "programme-code", "sro": "programme-sro", "starts_on": "programme-starts",
                 "ends_on": "programme-ends", "qipp_target": "programme-qipp", "programme": "programme-name"}


@login_required
async def new_programme_page(request: Request) -> Response:
    return await _render_new(request)


async def _render_new(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    """The create-programme form: the SRO chosen from the organisation's people who may be one."""
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        domain = await acting_domain(session, organisation.id)
        sponsors = await record.sro_candidates(session, services.authorizer, organisation.id)
    may_create = record.may(services.authorizer, principal_of(request), domain, "create")
    values = values or {}
    context = {
        "organisation": organisation, "may_create": may_create, "errors": errors or {}, "values": values, "field_ids": NEW_FIELD_IDS,
        "sro_items": [{"value": "", "text": "Choose a person", "selected": not values.get("sro")}] + [
            {"value": str(person.user_id), "text": person.name, "selected": values.get("sro") == str(person.user_id)} for person in sponsors],
        "sponsor_roles": [role.replace("_", " ") for role in services.authorizer.roles_granting("programme", record.SPONSOR)],
        "error_for": lambda field: {"text": errors[field]} if errors and errors.get(field) else None,
    }
    return render(request, "pages/programmes/new.html", context, status_code=status_code if may_create or status_code != 200 else 403)


def _person(value: object) -> int | None:
    """A person chosen in a select (their id); None when none was chosen, 0 (nobody) for anything else."""
    text_value = str(value or "").strip()
    return None if not text_value else int(text_value) if text_value.isdigit() and len(text_value) < 10 else 0


@login_required
async def programme_created(request: Request) -> Response:
    form = await request.form()
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        target_text = str(form.get("qipp_target", "")).strip()
        outcome = await record.create_programme(session, services.authorizer, principal_of(request), org_id=organisation.id, given=record.NewProgrammeInput(
            code=str(form.get("code", "")), name=str(form.get("name", "")), sro_user_id=_person(form.get("sro")),
            starts_on=form_date(form.get("starts_on")) if form.get("starts_on") else None,
            ends_on=form_date(form.get("ends_on")) if form.get("ends_on") else None,
            qipp_target=record.parse_money(target_text) if target_text else None))
        if isinstance(outcome, record.ProgrammeRefused):
            await session.rollback()
    if isinstance(outcome, record.ProgrammeRefused):
        values = {name: str(value) for name, value in form.items() if name != "csrf_token"}
        return await _render_new(request, errors={outcome.field or "programme": outcome.message}, values=values, status_code=outcome.status_code)
    return redirect_with_notice(request, f"/organisations/{quote(organisation.code)}/programmes/{quote(outcome.programme_code)}", outcome.message)


async def _render(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  form: str | None = None, status_code: int = 200) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        found = await read_programmes(session, organisation.id, code=request.path_params["programme"])
        domain = await acting_domain(session, organisation.id)
        principal = principal_of(request)
        may_manage = record.may(services.authorizer, principal, domain, "manage")
        sponsors = await record.sro_candidates(session, services.authorizer, organisation.id) if found and may_manage else []
    if not found:
        return not_found(request)
    programme, today = found[0], _today()
    months = qipp_months(programme, today)
    this_month = month_start(today)
    assessment = assess_programme(programme, today)
    context: dict[str, Any] = {
        "organisation": organisation, "programme": programme, "assessment": assessment, "today": today,
        "reasons": exception_reasons(assessment) if assessment else [],
        "qipp": months, "may_record": record.may(services.authorizer, principal, domain, "record"),
        "may_manage": may_manage, "sro_items": _sro_items(programme, sponsors, (values or {}).get("sro")),
        "reportable_months": [(m.month.isoformat(), f"{m.month:%B %Y}") for m in months if m.month < this_month],
        "plannable_months": [(month.isoformat(), f"{month:%B %Y}") for month in (add_months(financial_year_start(this_month), i) for i in range(12))],
        "errors": errors or {}, "values": values or {}, "form": form,
        "field_ids": {**FIELD_IDS, **({"status": "programme-status"} if form == "programme" else {})}, "options": options,
        "error_for": lambda name, field: {"text": errors[field]} if errors and form == name and errors.get(field) else None,
    }
    return render(request, "pages/programmes/programme.html", context, status_code=status_code)


def _sro_items(programme: Any, sponsors: list[record.Sponsor], chosen: str | None) -> list[dict[str, object]]:
    """The edit form's SRO choices: those who may be one; the current SRO kept (value '') when not among them
    (a post the tenant file named, or a person no longer holding the role)."""
    current = "" if programme.sro_user_id not in {person.user_id for person in sponsors} else str(programme.sro_user_id)
    chosen = current if chosen is None else chosen
    kept = ([{"value": "", "text": f"{programme.sro_name} (as recorded: choose the person)" if programme.sro_name else "Not named yet",
              "selected": chosen == ""}] if current == "" else [])
    return kept + [{"value": str(person.user_id), "text": person.name, "selected": chosen == str(person.user_id)} for person in sponsors]


def options(values: list[str], texts: list[str], selected: str | None) -> list[dict[str, object]]:
    """Items for the NHS.UK select macro."""
    return [{"value": value, "text": text, "selected": value == selected} for value, text in zip(values, texts)]


Service = Callable[[Any, Any, Any, int, str, FormData], Awaitable[record.ProgrammeOutcome]]


async def _post(request: Request, form_name: str, service: Service) -> Response:
    form = await request.form()
    services = services_of(request)
    code = request.path_params["programme"]
    async with services.database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        outcome = await service(session, services.authorizer, principal_of(request), organisation.id, code, form)
        if isinstance(outcome, record.ProgrammeRefused):
            await session.rollback()
    if isinstance(outcome, record.ProgrammeRefused):
        if outcome.reason == "not_found" and outcome.field == "programme":
            return not_found(request)
        values = {name: str(value) for name, value in form.items() if name != "csrf_token"}
        return await _render(request, errors={outcome.field or "programme": outcome.message}, values=values, form=form_name,
                             status_code=outcome.status_code)
    return redirect_with_notice(request, f"/organisations/{quote(organisation.code)}/programmes/{quote(code)}", outcome.message)


def _optional_int(value: object) -> int | None:
    number = form_int(value)
    return None if number < 0 else number


@login_required
async def milestone_achieved(request: Request) -> Response:
    return await _post(request, "achieved", lambda session, authorizer, principal, org_id, code, form: record.record_milestone_achieved(
        session, authorizer, principal, org_id=org_id, programme_code=code, milestone_id=form_int(form.get("milestone")),
        achieved_on=form_date(form.get("achieved_on"))))


@login_required
async def milestone_added(request: Request) -> Response:
    return await _post(request, "milestone", lambda session, authorizer, principal, org_id, code, form: record.add_milestone(
        session, authorizer, principal, org_id=org_id, programme_code=code, title=str(form.get("title", "")),
        due_on=form_date(form.get("due_on"))))


def _month(value: object) -> dt.date | None:
    return form_date(f"{value}-01") if len(str(value)) == 7 else form_date(value)


async def _qipp(session, authorizer, principal, org_id: int, code: str, form: FormData) -> record.ProgrammeOutcome:  # type: ignore[no-untyped-def]
    realised_text, planned_text = str(form.get("realised", "")).strip(), str(form.get("planned", "")).strip()
    realised, planned = record.parse_money(realised_text), record.parse_money(planned_text)
    for name, typed, amount in (("realised", realised_text, realised), ("planned", planned_text, planned)):
        if typed and amount is None:
            return record.ProgrammeRefused("invalid", "Enter an amount in pounds, like 125000", name)
    return await record.record_qipp(session, authorizer, principal, org_id=org_id, programme_code=code, month=_month(form.get("month", "")),
                                    realised=realised, planned=planned)


@login_required
async def qipp_recorded(request: Request) -> Response:
    return await _post(request, "qipp", _qipp)


@login_required
async def risk_saved(request: Request) -> Response:
    return await _post(request, "risk", lambda session, authorizer, principal, org_id, code, form: record.save_risk(
        session, authorizer, principal, org_id=org_id, programme_code=code, given=record.RiskInput(
            description=str(form.get("description", "")), likelihood=_optional_int(form.get("likelihood")),
            impact=_optional_int(form.get("impact")), owner=str(form.get("owner", "")), mitigation=str(form.get("mitigation", "")),
            status=str(form.get("status", "open")), risk_id=_optional_int(form.get("risk")) if form.get("risk") else None,
            version=_optional_int(form.get("version")) if form.get("version") else None)))


@login_required
async def programme_edited(request: Request) -> Response:
    return await _post(request, "programme", lambda session, authorizer, principal, org_id, code, form: record.edit_programme(
        session, authorizer, principal, org_id=org_id, programme_code=code, given=record.ProgrammeInput(
            name=str(form.get("name", "")), sro_user_id=_person(form.get("sro")), status=str(form.get("status", "")),
            starts_on=form_date(form.get("starts_on")) if form.get("starts_on") else None,
            ends_on=form_date(form.get("ends_on")) if form.get("ends_on") else None,
            version=_optional_int(form.get("version")) if form.get("version") else None)))
