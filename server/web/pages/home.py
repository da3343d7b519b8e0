"""Home: the organisations this person may see, each key indicator's latest value and RAG."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.organisations.position import key_indicator_positions
from server.organisations.queries import visible_organisations
from server.web.render import access_of, login_required, render, services_of


@login_required
async def home(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        organisations = await visible_organisations(session, sorted(access.read_org_ids | access.contract_org_ids))
        positions = await key_indicator_positions(session, organisations)
    return render(request, "pages/home.html", {"positions": positions})
