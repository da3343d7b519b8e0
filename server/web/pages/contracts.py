"""A commissioner's contracts (issue 15): the list with each provider route's level, a contract's page
(the provider's figures as the commissioner records or reads them, the finance outturn, the open
escalation, the notices and a form to raise one) and a notice's page (its history and the steps the
reader's roles allow). The services are server/contracts/, shared with GraphQL. Works without
JavaScript; errors sit beside the field with an error summary."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.auth.authz import acting_domain
from server.contracts.notices import (
    OBJECT, STEPS, NoticeInput, NoticeRefused, StepInput, allowed_actions, indicator_choices, notice_by_id, raise_notice, take_step,
)
from server.contracts.overview import contract_overview, contract_summaries
from server.contracts.position import provider_position
from server.web.pages.audit import role_words
from server.web.pages.system import cohort_items, domain_items, row_target
from server.web.render import (
    access_of, form_date, form_int, login_required, not_found, principal_of, readable_organisation, redirect_with_notice, render, services_of,
)

RAISE_FIELDS = ("kind", "title", "reason", "indicators")
STEP_FIELDS = ("step", "note", "remedial_plan", "remedial_plan_due")


@login_required
async def contract_list(request: Request) -> Response:
    """The contracts, and the providers' figures side by side, filtered by domain or patient cohort (plain GET)."""
    domain = request.query_params.get("domain") or None
    cohort = request.query_params.get("cohort") or None
    async with services_of(request).database.session(access_of(request)) as session:
        organisation = await readable_organisation(request, session, request.path_params["code"])
        if organisation is None:
            return not_found(request)
        summaries = await contract_summaries(session, organisation.id)
        position = await provider_position(session, organisation.id, organisation.code, organisation.name, domain_code=domain, cohort=cohort,
                                           contracts=[summary.contract for summary in summaries])
    return render(request, "pages/contracts/list.html", {
        "organisation": organisation, "summaries": summaries, "position": position,
        "rows": [(row, row_target(row)) for row in position.rows], "domain_items": domain_items(position),
        "cohort_items": cohort_items(position), "units": {s.contract.provider_code: s.contract.monitoring_unit for s in summaries},
    })


@login_required
async def contract_page(request: Request) -> Response:
    return await _contract(request)


@login_required
async def raise_notice_page(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in RAISE_FIELDS if name != "indicators"}
    chosen = tuple(str(code) for code in form.getlist("indicators"))
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        found = await _contract_in_url(request, session)
        if found is None:
            return not_found(request)
        organisation, overview = found
        outcome = await raise_notice(
            session, services.authorizer, principal_of(request), org_id=organisation.id, provider_code=overview.contract.provider_code,  # type: ignore[arg-type]
            given=NoticeInput(values["title"], values["reason"], chosen, values["kind"] or "performance"),
            indicator_choices=indicator_choices(overview.contract, tuple(i["code"] for i in overview.indicators)),
        )
        if isinstance(outcome, NoticeRefused):
            await session.rollback()
    if isinstance(outcome, NoticeRefused):
        return await _contract(request, errors={outcome.field or "title": outcome.message}, values={**values, "indicators": chosen},
                               status_code=outcome.status_code)
    return redirect_with_notice(request, _notice_url(organisation.code, overview.contract.provider_code, outcome.notice.id), outcome.message)


@login_required
async def notice_page(request: Request) -> Response:
    return await _notice(request)


@login_required
async def notice_step(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in STEP_FIELDS}
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        found = await _notice_in_url(request, session, with_events=False)
        if found is None:
            return not_found(request)
        organisation, notice = found
        outcome = await take_step(session, services.authorizer, principal_of(request), org_id=organisation.id, notice_id=notice.id,  # type: ignore[arg-type]
                                  given=StepInput(values["step"], form_int(form.get("version")), values["note"], values["remedial_plan"],
                                                  form_date(values["remedial_plan_due"])))
        if isinstance(outcome, NoticeRefused):
            await session.rollback()
    if isinstance(outcome, NoticeRefused):
        field = f"{values['step']}-{outcome.field}" if outcome.field in ("note", "remedial_plan", "remedial_plan_due") else "notice-steps"
        return await _notice(request, errors={field: outcome.message}, values=values, status_code=outcome.status_code)
    return redirect_with_notice(request, _notice_url(organisation.code, notice.provider_code, notice.id), outcome.message)


async def _contract(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    status_code: int = 200) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        found = await _contract_in_url(request, session)
        if found is None:
            return not_found(request)
        organisation, overview = found
        allowed = allowed_actions(services.authorizer, principal_of(request), await acting_domain(session, organisation.id))
    values = values or {}
    chosen = set(values.get("indicators", ()))
    context: dict[str, Any] = {
        "organisation": organisation, "overview": overview, "contract": overview.contract, "may_raise": "raise" in allowed,
        "errors": errors or {}, "values": values,
        "indicator_items": [{"value": i["code"], "text": i["name"], "checked": i["code"] in chosen} for i in overview.indicators
                            if i["code"] in indicator_choices(overview.contract, tuple(x["code"] for x in overview.indicators))],
        "kind_items": [{"value": "performance", "text": "Contract performance notice", "checked": values.get("kind", "performance") == "performance"},
                       {"value": "contract", "text": "Contract notice (a breach of other terms)", "checked": values.get("kind") == "contract"}],
    }
    return render(request, "pages/contracts/contract.html", context, status_code=status_code)


async def _notice(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    services = services_of(request)
    async with services.database.session(access_of(request)) as session:
        found = await _notice_in_url(request, session, with_events=True)
        if found is None:
            return not_found(request)
        organisation, notice = found
        allowed = allowed_actions(services.authorizer, principal_of(request), await acting_domain(session, organisation.id))
    steps = [step for step in notice.next_steps() if step.name in allowed]
    # Who takes the steps this person cannot: the roles the policy grants each (e.g. the director who closes it).
    granting = {step.name: services.authorizer.roles_granting(OBJECT, step.name) for step in notice.next_steps()}
    takers = {name: ("the role " if len(roles) == 1 else "the roles ") + role_words(roles).lower() for name, roles in granting.items()}
    return render(request, "pages/contracts/notice.html", {
        "organisation": organisation, "contract_notice": notice, "steps": steps, "all_steps": STEPS, "errors": errors or {}, "takers": takers,
        "values": values or {}, "contract_url": f"/organisations/{quote(organisation.code)}/contracts/{quote(notice.provider_code)}",
    }, status_code=status_code)


async def _contract_in_url(request: Request, session):  # type: ignore[no-untyped-def]
    """(organisation, contract overview) named by the URL, if the request reads the organisation and it has that contract."""
    organisation = await readable_organisation(request, session, request.path_params["code"])
    overview = await contract_overview(session, organisation.id, request.path_params["provider"]) if organisation else None
    return None if organisation is None or overview is None else (organisation, overview)


async def _notice_in_url(request: Request, session, *, with_events: bool):  # type: ignore[no-untyped-def]
    """(organisation, notice) named by the URL: the organisation's notice under the provider in the URL, or None."""
    organisation = await readable_organisation(request, session, request.path_params["code"])
    notice = await notice_by_id(session, organisation.id, request.path_params["notice_id"], with_events=with_events) if organisation else None
    if organisation is None or notice is None or notice.provider_code != request.path_params["provider"]:
        return None
    return organisation, notice


def _notice_url(org_code: str, provider_code: str, notice_id: int) -> str:
    return f"/organisations/{quote(org_code)}/contracts/{quote(provider_code)}/notices/{notice_id}"
