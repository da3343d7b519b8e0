"""Home: the organisations this person may see, each key indicator's latest value and RAG; the providers
they commission after their own organisations, each with a link to its contract (where a commissioner
records a provider that is not a tenant, the figures, outturn and notices are there, not on the provider's IPR)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.contracts.register import contracts_with
from server.organisations.position import key_indicator_positions
from server.organisations.queries import visible_organisations
from server.web.render import access_of, login_required, render, services_of


@login_required
async def home(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        organisations = await visible_organisations(session, sorted(access.read_org_ids | access.contract_org_ids))
        positions = await key_indicator_positions(session, organisations)
        contracts = await contracts_with(session, access.contract_org_ids, access.read_org_ids)
    return render(request, "pages/home.html", {
        "positions": [p for p in positions if p.organisation.id not in access.contract_org_ids],
        "providers": [p for p in positions if p.organisation.id in access.contract_org_ids],
        "contracts": contracts,
    })
