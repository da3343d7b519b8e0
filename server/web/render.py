"""Rendering helpers for pages: the shared context, login requirement, fragments for htmx."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.auth.authz import Principal
from server.db.session import AccessContext
from server.web.errors import bounded_form_int
from server.web.flash import clear_flash, flash, take_flash

Endpoint = Callable[[Request], Awaitable[Response]]

NAVIGATION = (("/", "Home"), ("/systems", "Systems"), ("/plans", "Improvement plans"), ("/meetings", "Meetings and reports"))


def principal_of(request: Request) -> Principal | None:
    return request.state.principal


def access_of(request: Request) -> AccessContext:
    return request.state.access


def services_of(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.services


def read_session(request: Request) -> AbstractAsyncContextManager[AsyncSession]:
    """A report's read-only transaction with the request's access: on the read replica when one is
    configured and has replayed the caller's last write (server/db/replica.py), else the primary.
    A request that writes (a form posted) reads the primary, where it wrote."""
    target = "primary" if request.method not in ("GET", "HEAD") else None
    return services_of(request).database.read_session(
        access_of(request), target=target, read_after=getattr(request.state, "read_after", None))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200, block: str | None = None) -> Response:
    """A full page, or only ``block`` for a non-boosted htmx request (TECH_NOTES)."""
    page = {
        "request": request,
        "notice": take_flash(request),
        "principal": principal_of(request),
        "csrf_token": request.state.csrf_token,
        "navigation": navigation(request),
        **(context or {}),
    }
    templates = services_of(request).templates
    is_fragment = block and request.headers.get("hx-request") and not request.headers.get("hx-boosted")
    if is_fragment:
        response = templates.TemplateResponse(request, template, page, status_code=status_code, block_name=block)
    else:
        response = templates.TemplateResponse(request, template, page, status_code=status_code)
    response.headers["vary"] = "HX-Request"
    response.headers["cache-control"] = "no-store"
    clear_flash(request, response)
    return response


def navigation(request: Request) -> list[dict[str, object]]:
    """The header's links; "Systems" only for people with a role in a system (nobody else can see one)."""
    principal = principal_of(request)
    in_a_system = principal is not None and any(domain.startswith("system:") for domain in principal.domains())
    return [{"href": href, "text": text, "current": request.url.path == href}
            for href, text in NAVIGATION if href != "/systems" or in_a_system]


def login_required(endpoint: Endpoint) -> Endpoint:
    @functools.wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        if principal_of(request) is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return await endpoint(request)

    return wrapper


def not_found(request: Request, message: str = "Page not found") -> Response:
    """Used for missing *and* forbidden organisation data: never confirm what exists elsewhere."""
    return render(request, "pages/not_found.html", {"message": message}, status_code=404)


def redirect_with_notice(request: Request, url: str, notice: str) -> Response:
    """A 303 to ``url`` whose page shows ``notice`` once (server/web/flash.py), never as ``?notice=``."""
    return flash(request, RedirectResponse(url, status_code=303), notice)


def safe_next(url: str | None) -> str:
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


def html(text: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status_code)


async def readable_organisation(request: Request, session, code: str):  # type: ignore[no-untyped-def]
    """The organisation if this request may read it in full; None (answer 404) otherwise.

    Missing and forbidden look the same, so a page never confirms what exists elsewhere.
    """
    from server.organisations.queries import organisation_by_code

    organisation = await organisation_by_code(session, code)
    if organisation is None or organisation.id not in access_of(request).read_org_ids:
        return None
    return organisation


def form_int(value: object) -> int:
    """An integer form field (a version, an id); -1 when absent or not a number, which no row has.

    A number no integer column can hold is refused with a 400 page (BadInput), not sent to the database."""
    try:
        number = int(str(value))
    except ValueError:
        return -1
    return bounded_form_int(number)


def form_day_month_year(form: Mapping[str, Any], prefix: str) -> dt.date | None:
    """A date from the NHS.UK date input's three fields (``<prefix>-day``, ``-month``, ``-year``); None when not a real date."""
    try:
        return dt.date(int(str(form.get(f"{prefix}-year", ""))), int(str(form.get(f"{prefix}-month", ""))), int(str(form.get(f"{prefix}-day", ""))))
    except ValueError:
        return None


def form_date(value: object) -> dt.date | None:
    """An ISO date form field (YYYY-MM-DD); None when absent or not a date, for the service to refuse by name."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None
