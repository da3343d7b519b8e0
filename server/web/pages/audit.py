"""An organisation's audit trail, for those whose role lets them read it (``audit read``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.admin.authority import AUDIT, acting_as
from server.audit.history import AuditEntry, audit_page
from server.auth.authz import org_domain
from server.organisations.queries import organisation_by_code
from server.web.render import access_of, login_required, not_found, principal_of, render, services_of


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def changes(entry: AuditEntry) -> list[Change]:
    """Each field that differs between before and after, as text a person can read."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        Change(key, _text(before.get(key)) if key in before else "", _text(after.get(key)) if key in after else "")
        for key in keys if before.get(key) != after.get(key) or key not in before or key not in after
    ]


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


@login_required
async def audit_trail_page(request: Request) -> Response:
    services, code = services_of(request), request.path_params["code"]
    async with services.database.session(access_of(request)) as session:
        organisation = await organisation_by_code(session, code)
        reader = await acting_as(session, services.authorizer, principal_of(request), org_domain(code), AUDIT, "read") if organisation else None
        if reader is None:
            return not_found(request)
        page = await audit_page(session, org_id=organisation.id, page=_page_number(request))
    return render(request, "pages/admin/audit.html", {"organisation": organisation, "page": page, "changes": changes})
