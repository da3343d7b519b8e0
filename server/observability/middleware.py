"""The outermost layer: gives the request its id, times it, counts it and writes its access-log line."""
from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.observability.metrics import Metrics
from server.observability.request_id import HEADER, current_request_id, incoming_request_id
from server.web.health import PROBE_PATHS

log = logging.getLogger("accord.requests")
LOGIN_PATH = "/login"


class ObservedRequests:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        reset = current_request_id.set(request_id)
        status = 500  # unless a response starts: an exception escaped every handler
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            current_request_id.reset(reset)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.request_seconds.labels(method, template, str(status)).observe(seconds)
        state = scope.get("state", {})
        if "graphql_operation" in state:
            self.metrics.graphql_seconds.labels(self.metrics.operation_label(state["graphql_operation"])).observe(seconds)
        if method == "POST" and scope["path"] == LOGIN_PATH and status in (400, 429):
            self.metrics.login_failures.labels("throttled" if status == 429 else "refused").inc()
        # Probes and scrapes arrive every few seconds from the platform: logged only when they fail.
        level = logging.DEBUG if scope["path"] in PROBE_PATHS and status < 400 else logging.INFO
        log.log(
            level, "%s %s %d %.1f ms", method, scope["path"], status, seconds * 1000,
            extra={"method": method, "route": template, "status": status, "duration_ms": round(seconds * 1000, 1)},
        )
