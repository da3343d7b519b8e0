"""GraphQL over HTTP, as the spec asks: media types, status codes, and refusals a tool can act on.

``application/graphql-response+json`` is answered when the Accept header prefers it: a request that
fails before execution (unparsable, invalid, bad variables, over a limit) is then a 400 without a
``data`` entry. With ``application/json`` such requests stay 200, as the spec says for that media
type. Every answer carries ``X-Request-Id``; an unexpected error's message is masked and its
``extensions.requestId`` names the log line that holds the traceback.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult

from schema.context import AccordContext, BadInput, NotAuthenticated, NotAuthorised
from schema.limits import GraphQLLimits, RateLimiter, bound, limits_in_force, retry_after_seconds
from server.observability.request_id import request_id_for

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
BUSY_RETRY_AFTER = "2"
BUSY_MESSAGE = "Accord is busy: try again in a few seconds."

current_request_id: ContextVar[str | None] = ContextVar("accord_graphql_request_id", default=None)


def negotiate(accept: str) -> str:
    """The media type to answer with: graphql-response+json when the Accept header ranks it at
    least as high as application/json; otherwise (absent, */*, or nothing we speak) application/json."""
    ranked: dict[str, float] = {}
    for media_range in accept.split(","):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked[kind.lower()] = max(quality, ranked.get(kind.lower(), 0.0))
    graphql_response = ranked.get(GRAPHQL_RESPONSE_JSON, 0.0)
    plain_json = max(ranked.get(JSON, 0.0), ranked.get("application/*", 0.0), ranked.get("*/*", 0.0))
    return GRAPHQL_RESPONSE_JSON if graphql_response > 0 and graphql_response >= plain_json else JSON


# Failures the caller can act on: their message is the answer. Anything else is masked.
EXPECTED_ERRORS: dict[type[Exception], str] = {
    NotAuthenticated: "UNAUTHENTICATED",
    NotAuthorised: "FORBIDDEN",
    BadInput: "BAD_USER_INPUT",
}
UNEXPECTED_MESSAGE = "Unexpected error. Quote the requestId when you report it."


class ErrorCodes(SchemaExtension):
    """Gives every error an ``extensions.code``; masks and logs only the unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        self.executing = False
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = current_request_id.get() or uuid.uuid4().hex
            result.errors = [self.coded(error, request_id) for error in result.errors]

    def on_execute(self) -> Iterator[None]:
        self.executing = True
        yield

    def coded(self, error: GraphQLError, request_id: str) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error  # refusals that name themselves: limits, deliberate GraphQLErrors
        original = error.original_error
        for kind, code in EXPECTED_ERRORS.items():
            if isinstance(original, kind):
                return _with_extensions(error, error.message, {"code": code})
        if is_pool_timeout(error):
            return _with_extensions(error, BUSY_MESSAGE, {"code": "SERVICE_UNAVAILABLE"})
        if isinstance(error, GraphQLSyntaxError):
            return _with_extensions(error, error.message, {"code": "GRAPHQL_PARSE_FAILED"})
        if error.path is None:
            # Before execution: the document is invalid; at its start: the variables do not coerce
            # (a wrong type, "2026-13-01" for a Date, NaN, null where a value is required).
            code = "BAD_USER_INPUT" if self.executing else "GRAPHQL_VALIDATION_FAILED"
            return _with_extensions(error, error.message, {"code": code})
        return unexpected(error, request_id)


def unexpected(error: GraphQLError, request_id: str) -> GraphQLError:
    """Logged with its traceback under ``request_id``; answered with that id and no internals."""
    original = error.original_error
    where = ".".join(map(str, error.path)) if error.path else "the request"
    log.error("GraphQL request %s: unexpected error at %s", request_id, where,
              exc_info=(type(original), original, original.__traceback__) if original else None)
    # A resolver's own exception may carry SQL or internals; graphql-core's own messages
    # (a null for a non-null field) are safe to show.
    message = UNEXPECTED_MESSAGE if original is not None else error.message
    return _with_extensions(error, message, {"code": "INTERNAL", "requestId": request_id})


def _with_extensions(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        original_error=None, extensions={**(error.extensions or {}), **extensions},
    )


def is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution (parse, validation, variables, limits): no data, no error has a path."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors)


def is_pool_timeout(error: GraphQLError) -> bool:
    return isinstance(error.original_error, PoolTimeout) or (error.extensions or {}).get("code") == "SERVICE_UNAVAILABLE"


def error_response(status: int, message: str, code: str, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """A GraphQL-shaped refusal (no data entry) for requests that never reach execution."""
    body: GraphQLHTTPResponse = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type=media_type, headers=headers)


class AccordGraphQL(GraphQL):
    def __init__(self, schema: BaseSchema, services: Any) -> None:
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True, subscription_protocols=())
        self.services = services  # started by the lifespan: read settings per request, not here
        self._rate_limiter: RateLimiter | None = None
        self.sql_json = True  # lists answered as PostgreSQL's JSON where the selection allows (schema/prerender.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.method == "GET" and "query" not in request.query_params and "text/html" in request.headers.get("accept", ""):
            # A person opening /graphql in a browser: the documented API page and its explorer.
            await RedirectResponse("/api", status_code=303)(scope, receive, send)
            return
        media_type = negotiate(request.headers.get("accept", ""))
        request_id = request_id_for(scope)  # the request's one id (server/observability), in logs and errors
        settings = self.services.settings
        wait = self.rate_limiter.take(_caller(request))
        if wait is not None:
            response = error_response(
                429, f"Too many requests: at most {settings.graphql_rate_burst} at once and"
                f" {settings.graphql_rate_per_second:g} a second after that.", "RATE_LIMITED", media_type,
                headers={"retry-after": retry_after_seconds(wait)},
            )
        else:
            with limits_in_force(GraphQLLimits.from_settings(settings)), bound(current_request_id, request_id):
                try:
                    response = await self.run(request)
                except HTTPException as refusal:
                    response = error_response(refusal.status_code, refusal.reason, "BAD_REQUEST", media_type)
                except PoolTimeout:
                    response = error_response(503, BUSY_MESSAGE, "SERVICE_UNAVAILABLE", media_type, {"retry-after": BUSY_RETRY_AFTER})
        response.headers["x-request-id"] = request_id
        await response(scope, receive, send)

    @property
    def rate_limiter(self) -> RateLimiter:
        if self._rate_limiter is None:
            settings = self.services.settings
            self._rate_limiter = RateLimiter(settings.graphql_rate_per_second, settings.graphql_rate_burst)
        return self._rate_limiter

    async def get_context(self, request: Request, response: Response | None = None) -> AccordContext:  # type: ignore[override]
        state = request.state
        return AccordContext(
            request=request, principal=state.principal, access=state.access, database=self.services.database,
            authorizer=self.services.authorizer, sql_json=self.sql_json, request_session=getattr(state, "request_session", None),
            read_target=getattr(state, "read_target", None), read_after=getattr(state, "read_after", None),
        )

    async def get_sub_response(self, request: Request) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept", ""))
        return sub_response

    async def execute_single(self, request: Request, request_adapter: Any, sub_response: Response, context: Any,  # type: ignore[override]
                             root_value: Any, request_data: GraphQLRequestData) -> ExecutionResult:
        request.state.graphql_operation = request_data.operation_name  # metrics: latency by operation
        result = await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)
        if any(is_pool_timeout(error) for error in result.errors or ()):
            sub_response.status_code = 503
            sub_response.headers["retry-after"] = BUSY_RETRY_AFTER
        elif sub_response.media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            sub_response.status_code = 400
        return result

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:  # ErrorCodes has coded them, unless something failed around the operation
            request_id = current_request_id.get() or uuid.uuid4().hex
            result.errors = [error if (error.extensions or {}).get("code") else unexpected(error, request_id) for error in result.errors]
        response = process_result(result)
        if is_request_error(result) or any(is_pool_timeout(error) for error in result.errors or ()):
            # Nothing was executed, so there is no data entry at all (GraphQL spec, "Response"); or
            # the answer is a 503 to retry whole, and a non-2xx answer must not carry data.
            response.pop("data", None)
        return response

    def encode_json(self, data: object) -> bytes:
        """orjson: several times faster than json.dumps on a large answer (NaN, never produced here, would be null)."""
        return orjson.dumps(data)

    def create_response(self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response) -> Response:
        response = Response(self.encode_json(response_data), status_code=sub_response.status_code or 200, media_type=sub_response.media_type or JSON)
        response.headers.raw.extend(sub_response.headers.raw)
        return response


def _caller(request: Request) -> str:
    principal = request.state.principal
    if principal is not None:
        return str(principal.subject)
    return f"address:{request.client.host if request.client else 'unknown'}"
