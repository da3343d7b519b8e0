"""GraphQL over HTTP: media types and status codes, errors a tool can act on, and the refusals at the
boundary (a dead token, an oversized body, too many requests, an exhausted connection pool)."""
from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
import pytest_asyncio
import sqlalchemy.exc
import strawberry
from graphql import GraphQLError
from sqlalchemy import text

from schema.context import AccordContext, BadInput, NotAuthenticated, NotAuthorised
from schema.http import ErrorCodes
from server.app import build_services, create_app
from server.db.session import Database
from tests.graphql.test_slice import make_token

GRAPHQL_RESPONSE = "application/graphql-response+json"
PLAN = "query($id: Int!) { plan(id: $id) { __typename } }"
COMPARISON = 'query($period: Date) { indicatorComparison(code: "AE4H", period: $period) { code } }'
RECORD = """mutation($rows: [MeasurementInput!]!) {
  recordMeasurements(organisationCode: "RXW", measurements: $rows) { __typename } }"""
ROW = '{"indicatorCode": "AE4H", "unitCode": "RXW", "period": "2026-01-01", "value": %s}'


@pytest_asyncio.fixture(loop_scope="session")
async def token(database) -> str:
    return await make_token(database, "sath.performance@accord.example", "RXW", ["performance_manager", "data_submitter"])


async def post(client, token: str | None, body: dict | bytes, accept: str = GRAPHQL_RESPONSE) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = {"accept": accept, "content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if isinstance(body, bytes):
        return await client.post("/graphql", content=body, headers=headers)
    return await client.post("/graphql", json=body, headers=headers)


def client_for(app, address: str = "127.0.0.1") -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 50010)), base_url="http://testserver")


def app_with(database, test_settings, **settings):  # type: ignore[no-untyped-def]
    """Accord with some settings changed (its own rate limiter and limits), on the test database."""
    return create_app(services=build_services(test_settings.model_copy(update=settings), database))


# --- media types and status codes ------------------------------------------------------------------


async def test_a_tool_that_asks_for_graphql_response_json_gets_it(client, token):
    response = await post(client, token, {"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}
    assert len(response.headers["x-request-id"]) == 32


@pytest.mark.parametrize("accept,expected", [
    ("application/json", "application/json"),
    ("*/*", "application/json"),
    ("", "application/json"),
    (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
])
async def test_the_answer_is_in_the_media_type_the_accept_header_prefers(client, token, accept, expected):
    response = await post(client, token, {"query": "{ __typename }"}, accept=accept)
    assert response.status_code == 200 and response.headers["content-type"].startswith(expected)


@pytest.mark.parametrize("query,code", [
    ("{ organisation(code: ", "GRAPHQL_PARSE_FAILED"),
    ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
])
async def test_a_document_that_fails_to_parse_or_validate_is_a_400_without_data(client, token, query, code):
    response = await post(client, token, {"query": query})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("query", ["{ organisation(code: ", "{ noSuchField }"])
async def test_with_application_json_the_same_failures_stay_200_as_the_spec_says(client, token, query):
    response = await post(client, token, {"query": query}, accept="application/json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert "data" not in response.json() and response.json()["errors"]


async def test_a_body_that_is_not_json_is_a_400_in_graphql_shape(client, token):
    response = await post(client, token, b'{ "not a JSON')
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_mutations_are_refused_over_get(client, token):
    response = await client.get("/graphql", params={"query": "mutation { __typename }"},
                                headers={"authorization": f"Bearer {token}", "accept": GRAPHQL_RESPONSE})
    assert 400 <= response.status_code < 500


# --- errors that help ------------------------------------------------------------------------------


@pytest.mark.parametrize("query,variables,says", [
    (COMPARISON, '{"period": "2026-13-01"}', ["Variable '$period' has invalid value", '"2026-13-01"', "month must be in 1..12"]),
    (PLAN, '{"id": "three"}', ["Variable '$id' has invalid value", "Int cannot represent non-integer value: 'three'"]),
    (PLAN, '{"id": null}', ["Variable '$id' has invalid value", "non-null type 'Int!' not to be None"]),
    (PLAN, '{}', ["Variable '$id' has invalid value", "non-null type 'Int!' to be provided"]),
    (PLAN, '{"id": 1e400}', ["Variable '$id' has invalid value", "Int cannot represent non-integer value: inf"]),
    (RECORD, '{"rows": [%s]}' % (ROW % "NaN"), ["Variable '$rows' has invalid value at [0].value", "Float cannot represent non numeric value: nan"]),
    (RECORD, '{"rows": [%s]}' % (ROW % "1e400"), ["Variable '$rows' has invalid value at [0].value", "Float cannot represent non numeric value: inf"]),
], ids=["impossible date", "wrong type", "null where required", "missing", "1e400 for an Int", "NaN in an input", "1e400 in an input"])
async def test_bad_variables_answer_with_the_coercion_message_and_path(client, token, query, variables, says):
    body = b'{"query": %s, "variables": %s}' % (json.dumps(query).encode(), variables.encode())
    response = await post(client, token, body)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert "data" not in response.json()
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    for words in says:
        assert words in error["message"], error["message"]


async def test_an_unexpected_error_is_masked_logged_and_carries_the_request_id(client, token, monkeypatch, caplog):
    def broken(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("relation secret_table does not exist")

    monkeypatch.setattr(AccordContext, "require_principal", broken)
    with caplog.at_level(logging.ERROR, logger="schema.http"):
        response = await post(client, token, {"query": '{ organisation(code: "RXW") { code } }'})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert "secret_table" not in response.text
    assert error["message"].startswith("Unexpected error") and error["path"] == ["organisation"]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info and "secret_table" in str(record.exc_info[1])


@strawberry.type
class Refusals:
    @strawberry.field
    def anonymous(self) -> int | None:
        raise NotAuthenticated("Log in")

    @strawberry.field
    def forbidden(self) -> int | None:
        raise NotAuthorised("You may not sign off plans for RXW")

    @strawberry.field
    def bad_cursor(self) -> int | None:
        raise BadInput("'x' is not a cursor from this API")

    @strawberry.field
    def named(self) -> int | None:
        raise GraphQLError("Refused on purpose", extensions={"code": "PLAN_CHANGED"})


async def test_expected_errors_keep_their_message_and_get_a_code():
    schema = strawberry.Schema(Refusals, extensions=[ErrorCodes])
    result = await schema.execute("{ anonymous forbidden badCursor named }")
    coded = {error.path[0]: (error.extensions["code"], error.message) for error in result.errors}
    assert coded == {
        "anonymous": ("UNAUTHENTICATED", "Log in"),
        "forbidden": ("FORBIDDEN", "You may not sign off plans for RXW"),
        "badCursor": ("BAD_USER_INPUT", "'x' is not a cursor from this API"),
        "named": ("PLAN_CHANGED", "Refused on purpose"),
    }


async def test_an_anonymous_caller_is_told_to_authenticate_with_a_code(client):
    response = await post(client, None, {"query": '{ organisation(code: "RXW") { code } }'})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and "Log in or send an API token" in error["message"]


# --- refusals at the boundary ----------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["acc_not-a-token-anyone-was-given", "Bearer-shaped-nonsense"])
async def test_an_unknown_token_gets_401_with_a_bearer_challenge(client, secret):
    response = await post(client, secret, {"query": "{ __typename }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="accord", error="invalid_token"')
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("who", ["token", "anonymous"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_oversized_body_is_refused_whatever_the_authentication(client, token, who, declared):
    padding = b" " * 5_100_000
    body = b'{"query": "{ __typename }"' + padding + b"}"

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 1_000_000):
            yield body[start:start + 1_000_000]

    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if who == "token" else {})
    response = await client.post("/graphql", content=body if declared else chunks(), headers=headers)
    assert response.status_code == 413


async def test_a_caller_over_its_rate_gets_429_with_retry_after(database, test_settings, token):
    app = app_with(database, test_settings, graphql_rate_burst=2, graphql_rate_per_second=0.1)
    other = await make_token(database, "sath.exec@accord.example", "RXW", ["executive"])
    async with client_for(app) as http:
        statuses = [(await post(http, token, {"query": "{ __typename }"})).status_code for _ in range(3)]
        refused = await post(http, token, {"query": "{ __typename }"})
        assert (await post(http, other, {"query": "{ __typename }"})).status_code == 200, "each token has its own bucket"
    assert statuses == [200, 200, 429]
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 10
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_an_exhausted_pool_answers_503_with_retry_after_not_500(database, test_settings, token):
    """Two connections held: the next request waits for the pool briefly, then is told to come back."""
    small = Database(database.urls, pool_size=1)
    app = create_app(services=build_services(test_settings, small))
    try:
        async with small.session() as first, small.session() as second:
            await first.exec(text("select 1"))
            await second.exec(text("select 1"))
            async with client_for(app) as http:
                response = await asyncio.wait_for(post(http, token, {"query": "{ __typename }"}), 30)
    finally:
        await small.dispose()
    assert response.status_code == 503 and response.headers["retry-after"]


async def test_requests_past_the_concurrency_limit_wait_their_turn_then_are_told_to_come_back(database, test_settings, token, monkeypatch):
    """One turn, a short queue: a request that waits its turn is answered; one that waits past the
    queue time is answered 503 with Retry-After, and the turn is free again afterwards."""
    from server.web import middleware

    settings = test_settings.model_copy(update={"max_concurrent_requests": 1, "request_queue_seconds": 0.5})
    app = create_app(services=build_services(settings, database))
    release, entered = asyncio.Event(), asyncio.Event()
    original = middleware.authenticate_in

    async def held_at_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not entered.is_set():
            entered.set()
            await release.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(middleware, "authenticate_in", held_at_first)
    async with client_for(app) as http:
        first = asyncio.create_task(post(http, token, {"query": '{ organisation(code: "RXW") { code } }'}))
        await asyncio.wait_for(entered.wait(), 10)
        waited_too_long = await post(http, token, {"query": "{ __typename }"})
        waiting = asyncio.create_task(post(http, token, {"query": "{ __typename }"}))
        await asyncio.sleep(0.1)
        release.set()
        answered_first, answered_waiting = await first, await waiting
        again = await post(http, token, {"query": "{ __typename }"})
    assert waited_too_long.status_code == 503 and waited_too_long.headers["retry-after"]
    assert waited_too_long.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert answered_first.status_code == 200 and answered_first.json()["data"]["organisation"]["code"] == "RXW"
    assert answered_waiting.status_code == 200 and answered_waiting.json()["data"] == {"__typename": "Query"}
    assert again.status_code == 200


async def test_pool_exhaustion_inside_a_resolver_answers_503(client, token, monkeypatch):
    def exhausted(self):  # type: ignore[no-untyped-def]
        raise sqlalchemy.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached")

    monkeypatch.setattr(AccordContext, "require_principal", exhausted)
    response = await post(client, token, {"query": '{ organisation(code: "RXW") { code } }'})
    assert response.status_code == 503 and response.headers["retry-after"]
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "QueuePool" not in response.text and "data" not in response.json()


async def test_a_client_gone_before_its_body_was_read_is_not_an_application_error(client, token, caplog):
    """wrk, a browser or a tool that gives up while its request waits its turn: nothing to answer,
    no 'Exception in ASGI application'."""
    app = client._transport.app  # type: ignore[attr-defined]
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
             "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 50011), "root_path": "",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)
    assert not any(message["type"] == "http.response.start" and message["status"] >= 500 for message in sent)
    assert "disconnected before its request was read" in caplog.text
