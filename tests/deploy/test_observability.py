"""Operations: one request id from the balancer to the log, the answer and the GraphQL error; JSON logs;
Prometheus metrics behind a setting and a token; probes that skip the Host check; optional tracing."""
from __future__ import annotations

import json
import logging
import re

import httpx
from pydantic import SecretStr

from schema.context import AccordContext
from server.app import build_services, create_app
from server.observability.logs import JsonFormatter, RequestIdFilter
from server.web import health
from tests.conftest import csrf_from

BALANCER_ID = "lb-7f3a9c2e-0001"


def app_with(database, test_settings, **settings):  # type: ignore[no-untyped-def]
    return create_app(services=build_services(test_settings.model_copy(update=settings), database))


def client_of(app, host: str = "testserver") -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50100)), base_url=f"http://{host}")


async def test_the_balancers_request_id_is_in_the_answer_the_graphql_error_and_every_log_line(database, test_settings, monkeypatch, caplog):
    def broken(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("relation secret_table does not exist")

    monkeypatch.setattr(AccordContext, "require_principal", broken)
    caplog.handler.addFilter(RequestIdFilter())
    async with client_of(app_with(database, test_settings)) as client:
        with caplog.at_level(logging.INFO):
            response = await client.post("/graphql", json={"query": '{ organisation(code: "RXW") { code } }'}, headers={"x-request-id": BALANCER_ID})
    assert response.headers["x-request-id"] == BALANCER_ID
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": BALANCER_ID}
    logged = {record.name: record for record in caplog.records if getattr(record, "request_id", None) == BALANCER_ID}
    assert logged["schema.http"].exc_info, "the unexpected error's traceback is logged under the id"
    access = logged["accord.requests"]
    assert (access.method, access.route, access.status) == ("POST", "/graphql", 200)


async def test_an_unusable_incoming_id_is_replaced_and_every_answer_has_one(database, test_settings):
    async with client_of(app_with(database, test_settings)) as client:
        made_up = await client.get("/login", headers={"x-request-id": "a b\nc"})
        refused_host = await client.get("/", headers={"host": "evil.example"})
    assert len(made_up.headers["x-request-id"]) == 32 and made_up.headers["x-request-id"] != "a b\nc"
    assert refused_host.status_code == 400 and len(refused_host.headers["x-request-id"]) == 32


def test_json_log_lines_are_one_object_with_the_request_id_fields_and_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("accord.test", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    record.request_id = BALANCER_ID
    record.route = "/organisations/{code}"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed here" and entry["level"] == "ERROR" and entry["logger"] == "accord.test"
    assert entry["request_id"] == BALANCER_ID and entry["route"] == "/organisations/{code}"
    assert "ValueError: boom" in entry["exception"] and entry["time"].endswith("+00:00")


async def test_metrics_are_off_unless_enabled(database, test_settings):
    async with client_of(app_with(database, test_settings)) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_need_the_token_and_report_routes_operations_logins_and_the_pool(database, test_settings):
    app = app_with(database, test_settings, metrics_enabled=True, metrics_token=SecretStr("scrape-secret"))
    async with client_of(app) as client:
        await client.get("/organisations/RXW")
        await client.get("/organisations/RL1")
        await client.post("/graphql", json={"query": "query PositionOfRXW { __typename }", "operationName": "PositionOfRXW"})
        page = await client.get("/login")
        await client.post("/login", data={"email": "nobody.metrics@deploy.example", "password": "wrong", "csrf_token": csrf_from(page.text)})
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"authorization": "Bearer wrong"})).status_code == 401
        scraped = await client.get("/metrics", headers={"authorization": "Bearer scrape-secret", "host": "10.0.0.7:8000"})
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    # One series for the route template, not one per organisation code.
    assert re.search(r'accord_http_request_duration_seconds_count\{method="GET",route="/organisations/\{code\}",status="30\d"\} 2\.0', text), text
    assert 'accord_graphql_operation_duration_seconds_count{operation="PositionOfRXW"} 1.0' in text
    assert 'accord_login_failures_total{outcome="refused"} 1.0' in text
    assert 'accord_db_pool_connections{state="size"} 5.0' in text
    assert "accord_access_watcher_listening 0.0" in text  # services given by the test: no watcher started


def test_operation_names_cannot_flood_the_metrics():
    from server.observability.metrics import MAX_OPERATION_NAMES, Metrics

    metrics = Metrics()
    labels = {metrics.operation_label(f"Operation{i}") for i in range(MAX_OPERATION_NAMES + 50)}
    assert len(labels) == MAX_OPERATION_NAMES + 1 and "other" in labels
    assert metrics.operation_label("drop table; --") == "invalid" and metrics.operation_label(None) == "anonymous"


async def test_probes_answer_the_platform_by_pod_address_and_pages_do_not(database, test_settings):
    async with client_of(app_with(database, test_settings), host="10.1.2.3:8000") as kubelet:
        assert (await kubelet.get("/healthz")).status_code == 200
        assert (await kubelet.get("/readyz")).json()["status"] == "ready"
        assert (await kubelet.get("/login")).status_code == 400


async def test_readiness_waits_for_pending_migrations_but_not_for_a_newer_release(database, test_settings, monkeypatch):
    app = app_with(database, test_settings)
    async with client_of(app) as client:
        current = (await client.get("/readyz")).json()["revision"]
        monkeypatch.setattr(health.migrate, "head_revision", lambda: "9999_this_release")
        monkeypatch.setattr(health, "known_revisions", lambda: frozenset({current, "9999_this_release"}))
        pending = await client.get("/readyz")
        assert pending.status_code == 503 and pending.json() == {"status": "migrations pending", "current": current, "head": "9999_this_release"}
        # The job of the next release has run: this (older) replica keeps serving on the expanded schema.
        monkeypatch.setattr(health, "known_revisions", lambda: frozenset({"0001"}))
        monkeypatch.setattr(health.migrate, "head_revision", lambda: "0001")
        assert (await client.get("/readyz")).status_code == 200


async def test_tracing_wraps_requests_in_spans_carrying_the_request_id(database, test_settings):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from starlette.middleware import Middleware

    from server.observability.middleware import ObservedRequests
    from server.observability.tracing import traced

    exporter = InMemorySpanExporter()
    app = app_with(database, test_settings, otel_enabled=True)
    # The same layer create_app adds, inside ObservedRequests, with spans kept in memory instead of sent.
    assert app.user_middleware[0].cls is ObservedRequests and app.user_middleware[1].cls is traced
    app.user_middleware[1] = Middleware(traced, enabled=True, exporter=exporter)
    async with client_of(app) as client:
        response = await client.get("/healthz", headers={"x-request-id": BALANCER_ID})
    [span] = exporter.get_finished_spans()
    assert span.attributes["accord.request_id"] == response.headers["x-request-id"] == BALANCER_ID
    assert span.name.startswith("GET") and span.attributes["http.status_code"] == 200


def test_tracing_is_left_out_when_disabled():
    from server.observability.tracing import traced

    def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("not called")

    assert traced(inner, enabled=False) is inner
