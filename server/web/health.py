"""Liveness and readiness probes."""
from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

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
    if current != head:
        return JSONResponse({"status": "migrations pending", "current": current, "head": head}, status_code=503)
    return JSONResponse({"status": "ready", "revision": current})
