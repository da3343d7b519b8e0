"""Liveness and readiness probes: /healthz answers while the process runs; /readyz while it can serve
(database reachable, schema at this code's migration head)."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import text
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from server.db import migrate


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services = request.app.state.services
    try:
        async with services.database.session() as session:
            current = (await session.exec(text("select version_num from alembic_version"))).scalar_one_or_none()
    except Exception as error:  # noqa: BLE001 (any failure to reach the database means not ready)
        return JSONResponse({"status": "unavailable", "database": type(error).__name__}, status_code=503)
    head = migrate.head_revision()
    if current != head and (current is None or current in known_revisions()):
        return JSONResponse({"status": "migrations pending", "current": current, "head": head}, status_code=503)
    # A revision this code does not know is a newer release's: during a rolling upgrade the old
    # replicas keep serving on the expanded schema (deploy/README.md: migrations only expand).
    return JSONResponse({"status": "ready", "revision": current, "head": head})


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory  # only when the schema is behind: alembic's scripts hold ~7 MB

    return frozenset(script.revision for script in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions())


# Probes and scrapes come from the platform (kubelet, Docker, Prometheus) by pod address, not by the
# service's host name: they skip the Host check. None of them reveals anything (/metrics has its own setting and token).
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class TrustedHostsExceptProbes(TrustedHostMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
