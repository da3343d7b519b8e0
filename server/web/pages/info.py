"""The footer's pages: help, the accessibility statement, the privacy notice and the service status.

They are public (a person deciding whether to use the service reads them before signing in) and
read nothing tenant-owned; the status page reports what the readiness probe measures, in words.
"""
from __future__ import annotations

import datetime as dt
import json

from starlette.requests import Request
from starlette.responses import Response

from server.web.health import readyz
from server.web.render import render

# The date the accessibility statement's testing was last done (tests/browser run axe at 320, 768
# and 1280 px on every page they visit): change it when the statement is reviewed.
STATEMENT_REVIEWED = dt.date(2026, 12, 2)


async def help_page(request: Request) -> Response:
    return render(request, "pages/info/help.html")


async def accessibility_page(request: Request) -> Response:
    return render(request, "pages/info/accessibility.html", {"reviewed": STATEMENT_REVIEWED})


async def privacy_page(request: Request) -> Response:
    return render(request, "pages/info/privacy.html")


async def status_page(request: Request) -> Response:
    """The readiness probe's answer as a page; 503 with the same words when the service cannot serve."""
    probe = await readyz(request)
    answer = json.loads(bytes(probe.body))
    state = answer.get("status", "unavailable")
    return render(request, "pages/info/status.html", {"state": state, "answer": answer, "checked_at": dt.datetime.now(dt.UTC)}, status_code=probe.status_code)
