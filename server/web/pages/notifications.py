"""The signed-in person's notifications (newest first, mark read, follow the link), their email
choice, and the operators' outbox (messages logged instead of sent where no SMTP server is set).

A person's notifications are their own: row-level security answers only the notifications
addressed to the request's person, so the page needs no organisation. The outbox shows other
people's messages, so it is for those the policy lets read it (``notification_outbox read``), for
the organisations they hold that role for.
"""
from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.auth.authz import Authorizer, Principal
from server.db.models import HealthSystem, Organisation
from server.db.session import AccessContext
from server.notifications.store import EMAIL_CHOICES, email_choice, inbox, mark_read, outbox, set_email_choice, unread_count
from server.web.render import access_of, login_required, not_found, principal_of, redirect_with_notice, render, services_of

MAX_IDS = 200
CHOICE_WORDS = {
    "immediately": "Email me each notification as it happens",
    "daily_digest": "Email me one daily digest",
    "never": "Do not email me: I will read them in Accord",
}


@login_required
async def notifications_page(request: Request) -> Response:
    return await _page(request)


async def _page(request: Request, *, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    unread_only = request.query_params.get("show") == "unread"
    principal = principal_of(request)
    async with services_of(request).database.session(access_of(request)) as session:
        found = await inbox(session, unread_only=unread_only)
        unread = await unread_count(session)
        choice = await email_choice(session, principal.user_id)
    return render(request, "pages/notifications.html", {
        "notifications": found, "unread": unread, "unread_only": unread_only, "choice": choice,
        "choices": [(value, CHOICE_WORDS[value]) for value in EMAIL_CHOICES], "errors": errors or {},
        "may_see_outbox": bool(_outbox_domains(services_of(request).authorizer, principal)),
    }, status_code=status_code)


@login_required
async def unread_badge(request: Request) -> Response:
    """The header link's words with the unread count: htmx fetches it after the page loads (without
    JavaScript the header shows the plain link), so no page waits for the count."""
    async with services_of(request).database.session(access_of(request)) as session:
        unread = await unread_count(session)
    words = f"Notifications ({unread} unread)" if unread else "Notifications"
    response = HTMLResponse(words)
    response.headers["cache-control"] = "no-store"
    return response


@login_required
async def mark_notifications_read(request: Request) -> Response:
    form = await request.form()
    chosen = [value for value in form.getlist("ids") if isinstance(value, str)][:MAX_IDS]
    ids = [int(value) for value in chosen if value.isdigit() and len(value) <= 9]
    everything = form.get("all") == "yes"
    async with services_of(request).database.session(access_of(request)) as session:
        changed = await mark_read(session, None if everything else ids)
    return redirect_with_notice(request, "/notifications", f"{changed} notification{'s' if changed != 1 else ''} marked as read")


@login_required
async def save_preference(request: Request) -> Response:
    form = await request.form()
    async with services_of(request).database.session(access_of(request)) as session:
        problem = await set_email_choice(session, principal_of(request).user_id, str(form.get("email", "")))
    if problem:
        return await _page(request, errors={"email": problem}, status_code=400)
    return redirect_with_notice(request, "/notifications", "Your email choice is saved")


def _outbox_domains(authorizer: Authorizer, principal: Principal | None) -> list[str]:
    if principal is None:
        return []
    return [domain for domain in principal.domains() if authorizer.allows(principal, domain, "notification_outbox", "read")]


@login_required
async def outbox_page(request: Request) -> Response:
    services = services_of(request)
    domains = _outbox_domains(services.authorizer, principal_of(request))
    if not domains:
        return not_found(request)
    database = services.database
    async with database.session() as session:
        org_ids = await _organisations_of(session, domains)
    # The delivery's access (no person) for exactly those organisations: the operator reads their outbox.
    async with database.session(AccessContext(write_org_ids=frozenset(org_ids))) as session:
        messages = await outbox(session)
    return render(request, "pages/notifications_outbox.html", {
        "messages": messages, "smtp_configured": bool(services.settings.smtp_host),
    })


async def _organisations_of(session, domains: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    """The organisation each ``org:`` domain names, and each ``system:`` domain's own organisation."""
    org_codes = [domain.partition(":")[2] for domain in domains if domain.startswith("org:")]
    system_codes = [domain.partition(":")[2] for domain in domains if domain.startswith("system:")]
    found = list((await session.exec(select(Organisation.id).where(Organisation.code.in_(org_codes)))).scalars())
    found += list((await session.exec(select(HealthSystem.organisation_id).where(HealthSystem.code.in_(system_codes)))).scalars())
    return found
