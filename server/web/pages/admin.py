"""Administration pages for one organisation: people and their roles, API tokens.

Every page and form is authorised by domain (``server.admin.authority``); an organisation the
person may not administer is "not found", never "forbidden", so nothing confirms what exists
elsewhere. Forms are plain HTML posts (each with its CSRF field) answered by redirect-after-post.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.admin import accounts
from server.admin import roles as role_admin
from server.admin import tokens as token_admin
from server.admin.authority import API_TOKEN, AUDIT, ROLE_ASSIGNMENT, acting_as, managed_domains, system_of_organisation
from server.auth.authz import org_domain
from server.organisations.queries import organisation_by_code
from server.web.render import access_of, login_required, not_found, principal_of, render, services_of

OUTCOMES = {
    "granted": "Role given",
    "revoked": "Role removed",
    "token-revoked": "Token revoked: tools using it are refused from now on",
}


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _label(role: str, domain: str) -> str:
    text = role.replace("_", " ").capitalize()
    return f"{text} (system {domain.partition(':')[2]})" if domain.startswith("system:") else text


def _error_list(errors: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"text": message, "href": f"#{field}"} for field, message in (errors or {}).items()]


def _role_options(authorizer, domains: list[str]) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return [
        {"value": role, "text": _label(role, domain)}
        for domain in domains for role in role_admin.grantable_roles(authorizer, domain.partition(":")[0])
    ]


async def _roles_view(request: Request, *, errors: Mapping[str, str] | None = None, form: Mapping[str, Any] | None = None,
                      status_code: int = 200) -> Response:
    services, principal, code = services_of(request), principal_of(request), request.path_params["code"]
    async with services.database.session(access_of(request)) as session:
        organisation = await organisation_by_code(session, code)
        actors = await managed_domains(session, services.authorizer, principal, code, ROLE_ASSIGNMENT) if organisation else {}
        if not actors:
            return not_found(request)
        people = await role_admin.people_in(session, list(actors), home_org_id=organisation.id)
        may_issue_tokens = bool(await managed_domains(session, services.authorizer, principal, code, API_TOKEN))
        may_read_audit = await acting_as(session, services.authorizer, principal, org_domain(code), AUDIT, "read") is not None
    return render(request, "pages/admin/roles.html", {
        "organisation": organisation, "people": people, "role_options": _role_options(services.authorizer, list(actors)),
        "label": _label, "errors": dict(errors or {}), "error_list": _error_list(errors), "form": dict(form or {}), "outcome": OUTCOMES.get(request.query_params.get("done", "")),
        "may_issue_tokens": may_issue_tokens, "may_read_audit": may_read_audit,
    }, status_code=status_code)


@login_required
async def roles_page(request: Request) -> Response:
    return await _roles_view(request)


@login_required
async def grant_role(request: Request) -> Response:
    """Give a person a role here; a person with no account gets one, and an invitation link to choose a password."""
    services, principal, code = services_of(request), principal_of(request), request.path_params["code"]
    form = await request.form()
    email, name, role = str(form.get("email", "")).strip(), str(form.get("name", "")).strip(), str(form.get("role", ""))
    async with services.database.session(access_of(request)) as session:
        if not await managed_domains(session, services.authorizer, principal, code, ROLE_ASSIGNMENT):
            return not_found(request)
        system = await system_of_organisation(session, code)
        domain = role_admin.domain_for_role(services.authorizer, role, org_code=code, system_code=system)
        actor = await acting_as(session, services.authorizer, principal, domain, ROLE_ASSIGNMENT, ip=_ip(request)) if domain else None
        if actor is None:
            result: accounts.Invited | accounts.AccountRefused = accounts.AccountRefused("role", "Choose a role you may give here")
        else:
            result = await accounts.invite(session, services.authorizer, actor, email=email, name=name, role=role, domain=domain,
                                           home_org_code=code)
        if isinstance(result, accounts.AccountRefused):
            await session.rollback()
    if isinstance(result, accounts.AccountRefused):
        return await _roles_view(request, errors={result.field or "role": result.message}, form={"email": email, "name": name, "role": role},
                                 status_code=400)
    if result.secret is None:
        return RedirectResponse(f"/organisations/{code}/admin?done=granted", status_code=303)
    # The link is shown once, on this answer (no redirect: it must not sit in a URL or the history).
    return render(request, "pages/admin/invited.html", {
        "organisation_code": code, "invited": result, "role": role, "link": invitation_url(request, result.secret),
    })


def invitation_url(request: Request, secret: str) -> str:
    origin = services_of(request).settings.public_origin.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{origin}/invitations/{secret}"


@login_required
async def revoke_role(request: Request) -> Response:
    services, principal, code = services_of(request), principal_of(request), request.path_params["code"]
    async with services.database.session(access_of(request)) as session:
        held = await role_admin.assignment_by_id(session, request.path_params["assignment_id"])
        page_domains = await managed_domains(session, services.authorizer, principal, code, ROLE_ASSIGNMENT, ip=_ip(request))
        if held is None or held.domain not in page_domains:
            return not_found(request)
        result = await role_admin.revoke_role(session, services.authorizer, page_domains[held.domain], assignment_id=held.assignment_id)
    if isinstance(result, role_admin.RoleChangeRefused):
        return await _roles_view(request, errors={"people": result.message}, status_code=400)
    return RedirectResponse(f"/organisations/{code}/admin?done=revoked", status_code=303)


async def _tokens_view(request: Request, *, errors: Mapping[str, str] | None = None, form: Mapping[str, Any] | None = None,
                       status_code: int = 200) -> Response:
    services, principal, code = services_of(request), principal_of(request), request.path_params["code"]
    async with services.database.session(access_of(request)) as session:
        organisation = await organisation_by_code(session, code)
        actors = await managed_domains(session, services.authorizer, principal, code, API_TOKEN) if organisation else {}
        if not actors:
            return not_found(request)
        tokens = await token_admin.list_tokens(session, list(actors))
    form = dict(form or {"days": token_admin.DEFAULT_DAYS})
    chosen = set(form.get("roles", []))
    role_items = [{**option, "checked": option["value"] in chosen} for option in _role_options(services.authorizer, list(actors))]
    return render(request, "pages/admin/tokens.html", {
        "organisation": organisation, "tokens": tokens, "role_items": role_items,
        "errors": dict(errors or {}), "error_list": _error_list(errors), "form": form, "max_days": token_admin.MAX_DAYS,
        "outcome": OUTCOMES.get(request.query_params.get("done", "")),
    }, status_code=status_code)


@login_required
async def tokens_page(request: Request) -> Response:
    return await _tokens_view(request)


@login_required
async def issue_token(request: Request) -> Response:
    services, principal, code = services_of(request), principal_of(request), request.path_params["code"]
    form = await request.form()
    fields = _token_form(form)
    async with services.database.session(access_of(request)) as session:
        actors = await managed_domains(session, services.authorizer, principal, code, API_TOKEN, ip=_ip(request))
        if not actors:
            return not_found(request)
        system = await system_of_organisation(session, code)
        domains = {role_admin.domain_for_role(services.authorizer, role, org_code=code, system_code=system) for role in fields["roles"]}
        if fields["days"] is None:
            result: token_admin.TokenIssued | token_admin.TokenRefused = token_admin.TokenRefused("days", "Enter the number of days, like 90")
        elif len(domains) > 1:
            result = token_admin.TokenRefused("roles", "A token is for the organisation or for the system: choose roles of one kind")
        else:
            domain = domains.pop() if domains else org_domain(code)
            actor = actors.get(domain) if domain else None
            if actor is None:
                result = token_admin.TokenRefused("roles", "Choose roles you may issue tokens for here")
            else:
                result = await token_admin.issue(session, actor, email=fields["email"], domain=domain, roles=fields["roles"],
                                                 days=fields["days"], name=fields["name"])
    if isinstance(result, token_admin.TokenRefused):
        return await _tokens_view(request, errors={result.field or "roles": result.message}, form=fields, status_code=400)
    return render(request, "pages/admin/token_issued.html", {"issued": result, "organisation_code": code})


@login_required
async def revoke_token(request: Request) -> Response:
    services, principal, code = services_of(request), principal_of(request), request.path_params["code"]
    async with services.database.session(access_of(request)) as session:
        domain = await token_admin.token_domain(session, request.path_params["token_id"])
        actors = await managed_domains(session, services.authorizer, principal, code, API_TOKEN, ip=_ip(request))
        if domain is None or domain not in actors:
            return not_found(request)
        result = await token_admin.revoke(session, actors[domain], token_id=request.path_params["token_id"])
    if isinstance(result, token_admin.TokenRefused):
        return await _tokens_view(request, errors={"tokens": result.message}, status_code=400)
    return RedirectResponse(f"/organisations/{code}/admin/tokens?done=token-revoked", status_code=303)


def _token_form(form: FormData) -> dict[str, Any]:
    raw_days = str(form.get("days", "")).strip()
    return {
        "name": str(form.get("name", "")).strip(),
        "email": str(form.get("email", "")).strip(),
        "roles": [str(role) for role in form.getlist("roles")],
        "days": int(raw_days) if raw_days.isdigit() else None,
    }
