"""An invited person chooses their password: the link's secret opens the form once, until it expires.

Anonymous pages (the person has no password yet), CSRF-checked like the login form. A link that has
expired or been used answers 404 with words, never a hint of whose it was.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.admin.accounts import MIN_LENGTH, AccountRefused, accept_invitation, live_invitation
from server.db.session import NO_ACCESS, AccessContext
from server.web.render import render, services_of


async def invitation_form(request: Request) -> Response:
    secret = request.path_params["secret"]
    async with services_of(request).database.session() as session:
        found = await live_invitation(session, secret)
    if found is None:
        return render(request, "pages/invitation.html", {"user": None}, status_code=404)
    return render(request, "pages/invitation.html", {"user": found[1], "secret": secret, "min_length": MIN_LENGTH, "errors": {}})


async def accept(request: Request) -> Response:
    secret = request.path_params["secret"]
    form = await request.form()
    password, confirmation = str(form.get("password", "")), str(form.get("confirmation", ""))
    database = services_of(request).database
    async with database.session() as session:
        found = await live_invitation(session, secret)
    # The person's own organisation's trail records the acceptance (row-level security allows that one).
    access = (AccessContext.for_orgs([found[1].home_org_id], write=True, user_id=found[1].id)
              if found and found[1].home_org_id else NO_ACCESS)
    async with database.session(access) as session:
        outcome = await accept_invitation(session, secret, password, confirmation)
        if isinstance(outcome, AccountRefused):
            await session.rollback()
    if isinstance(outcome, AccountRefused):
        if found is None:
            return render(request, "pages/invitation.html", {"user": None}, status_code=404)
        return render(request, "pages/invitation.html", {
            "user": found[1], "secret": secret, "min_length": MIN_LENGTH, "errors": {outcome.field or "password": outcome.message},
        }, status_code=400)
    return render(request, "pages/invitation.html", {"done": outcome})
