"""The official GraphQL over HTTP audit (npm graphql-http, ``serverAudits``) against Accord served by
uvicorn on a real socket: every MUST and every SHOULD passes."""
from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest_asyncio
import uvicorn

from server.app import build_services, create_app
from tests.graphql.http_audit.node import run_script
from tests.graphql.test_slice import make_token


@contextlib.asynccontextmanager
async def serving(app) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """``app`` served by uvicorn in this event loop on a free 127.0.0.1 port; yields the /graphql URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn stopped while starting"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest_asyncio.fixture(loop_scope="session")
async def graphql_url(database, test_settings) -> AsyncIterator[str]:
    # The audit sends its ~60 requests back to back: a burst the per-token rate limit would refuse.
    settings = test_settings.model_copy(update={"graphql_rate_burst": 1_000})
    async with serving(create_app(services=build_services(settings, database))) as url:
        yield url


async def test_graphql_http_audit_passes_every_must_and_should(graphql_url, database):
    token = await make_token(database, "sath.performance@accord.example", "RXW", ["performance_manager"])
    results = await run_script("audit.mjs", env={"ACCORD_GRAPHQL_URL": graphql_url, "ACCORD_GRAPHQL_TOKEN": token})
    assert len(results) > 50, results
    required = [r for r in results if r["name"].startswith(("MUST", "SHOULD"))]
    failed = [f"{r['id']} {r['name']}: {r['reason']}" for r in required if r["status"] != "ok"]
    assert not failed, "graphql-http audits failed:\n" + "\n".join(failed)
