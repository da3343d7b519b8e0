"""System position: members x key indicators, the performance spectrum, maturity (ICS leads)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.reporting.system import SystemPosition, system_by_code, system_position, visible_systems
from server.web.render import access_of, login_required, not_found, render, services_of


@login_required
async def system_list(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        systems = await visible_systems(session, access.read_org_ids)
    return render(request, "pages/system_list.html", {"systems": systems})


@login_required
async def system_page(request: Request) -> Response:
    access = access_of(request)
    async with services_of(request).database.session(access) as session:
        system = await system_by_code(session, request.path_params["code"])
        # The system view is for people who may read every member: anything less is a 404, so
        # that a member's staff cannot learn what the system holds about its neighbours.
        if system is None or not system.organisation_ids <= access.read_org_ids:
            return not_found(request)
        position = await system_position(session, system, domain_code=request.query_params.get("domain") or None)
    context = {"position": position, "domain_items": domain_items(position)}
    # htmx asks for the whole page when it restores history it has no snapshot of (back button
    # after its cache is gone): that request also carries HX-Request, but wants the full page.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    return render(request, "pages/system.html", context, block=None if restoring else "matrix")


def domain_items(position: SystemPosition) -> list[dict[str, object]]:
    """Options for the NHS.UK select: all domains, then each domain holding a key indicator."""
    selected = position.selected_domain.code if position.selected_domain else ""
    return [{"value": "", "text": "All domains", "selected": not selected}] + [
        {"value": domain.code, "text": domain.name, "selected": domain.code == selected} for domain in position.domains
    ]
