"""One organisation: units and indicators (the thin slice; the IPR builds on it)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.organisations.position import key_indicator_positions
from server.organisations.queries import organisation_by_code, tiers_of, units_of
from server.web.render import access_of, login_required, not_found, render, services_of


@login_required
async def organisation_page(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        organisation = await organisation_by_code(session, request.path_params["code"])
        if organisation is None or organisation.id not in (access.read_org_ids | access.contract_org_ids):
            return not_found(request)
        [position] = await key_indicator_positions(session, [organisation], key_only=False)
        units = await units_of(session, org_id=organisation.id)
        tiers = {tier.depth: tier.name for tier in await tiers_of(session, org_id=organisation.id)}
    return render(request, "pages/organisation.html", {"position": position, "units": units, "tiers": tiers})
