"""Prometheus metrics, one registry per app, served at ``/metrics`` when ``ACCORD_METRICS_ENABLED``.

Request latency by route template (never the raw path: ids would make a series each) and by GraphQL
operation name, login refusals, the connection pool, and whether this process hears access changes.
There is no derivation queue to measure: derivation runs inside the transaction that submits.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Operation names come from callers: only well-formed ones, and at most this many, get their own series.
MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "accord_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
            ["method", "route", "status"], registry=self.registry, buckets=LATENCY_BUCKETS,
        )
        self.graphql_seconds = Histogram(
            "accord_graphql_operation_duration_seconds", "Time to answer a GraphQL request, by operation name",
            ["operation"], registry=self.registry, buckets=LATENCY_BUCKETS,
        )
        self.login_failures = Counter(
            "accord_login_failures_total", "Sign-ins refused: wrong credentials, or throttled", ["outcome"], registry=self.registry,
        )
        self._operations: set[str] = set()

    def operation_label(self, name: object) -> str:
        if not name:
            return "anonymous"
        if not isinstance(name, str) or not _OPERATION_NAME.fullmatch(name):
            return "invalid"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return "other"
            self._operations.add(name)
        return name

    def watch(self, collector: Collector) -> None:
        self.registry.register(collector)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ServiceGauges(Collector):
    """Read at scrape time from the running services: the app engine's pool and the access watcher."""

    def __init__(self, services: Callable[[], object | None]) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        services = self.services()
        if services is None:
            return
        pool = services.database.app_engine.pool  # type: ignore[attr-defined]
        connections = GaugeMetricFamily("accord_db_pool_connections", "Application connection pool", labels=["state"])
        connections.add_metric(["in_use"], pool.checkedout())
        connections.add_metric(["idle"], pool.checkedin())
        connections.add_metric(["overflow"], max(pool.overflow(), 0))
        connections.add_metric(["size"], pool.size())
        yield connections
        database = services.database  # type: ignore[attr-defined]
        reads = CounterMetricFamily(
            "accord_db_reads", "Read-only transactions of GraphQL queries and report pages, by where they read (server/db/replica.py)",
            labels=["target"],
        )
        for target in ("primary", "replica"):
            reads.add_metric([target], database.reads[target])
        yield reads
        replica = GaugeMetricFamily("accord_read_replica_usable", "1 while this process reads from the read replica (configured, reachable, not too far behind)")
        replica.add_metric([], 1.0 if database.replica is not None and database.replica.last_state.usable else 0.0)
        yield replica
        watcher = getattr(services, "access_watcher", None)
        listening = GaugeMetricFamily(
            "accord_access_watcher_listening", "1 while this process hears role and directory changes (LISTEN/NOTIFY)"
        )
        listening.add_metric([], 1.0 if watcher is not None and watcher.listening else 0.0)
        yield listening


async def metrics_endpoint(request: Request) -> Response:
    settings = request.app.state.services.settings
    if not settings.metrics_enabled:
        return PlainTextResponse("Not Found", status_code=404)
    if settings.metrics_token is not None:
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return PlainTextResponse("A bearer token is required", status_code=401, headers={"www-authenticate": 'Bearer realm="metrics"'})
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
