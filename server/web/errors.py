"""Answers for what a page cannot handle itself: a bad address, a value no column can hold, a database outage.

Each is a page in the NHS.UK layout that names the problem (for ``/graphql``, a JSON error with a
code), never a plain-text 500 (issue 12).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.web.middleware import SECURITY_HEADERS

INT32_MAX = 2**31 - 1  # PostgreSQL integer, the type of every id
RETRY_AFTER_SECONDS = 30
GRAPHQL_PATH = "/graphql"
# C0 controls and DEL. Tab, CR and LF are kept in query values (a textarea sent with GET).
_CONTROL = {chr(code) for code in (*range(32), 127)}
_QUERY_CONTROL = _CONTROL - {"\t", "\r", "\n"}
# What a class 22 (data exception) SQLSTATE says about the value, in words.
_DATA_PROBLEMS = {
    "22001": "a piece of text is longer than the field allows",
    "22003": "a number is larger than any value the field can hold",
    "22007": "a date is not a real date",
    "22008": "a date or time is out of range",
    "22021": "text contains a character that cannot be stored (such as NUL)",
    "22P02": "a value is not in the expected format",
    "22P05": "text contains a character that cannot be stored (such as NUL)",
}


class AddressNotFound(HTTPException):
    """404 with a reason: the address cannot name anything (a path id past the largest record number)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=404, detail=detail)


class BadInput(HTTPException):
    """400 with a reason the person can act on: which value was refused, and why."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=400, detail=detail)


def bounded_form_int(value: int, field: str = "a number") -> int:
    """``value``, or BadInput when no integer column could hold it."""
    if not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise BadInput(f"The form was not saved: {field} is outside the range of numbers Accord stores")
    return value


def error_page(scope: Scope, status_code: int, title: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The NHS.UK page for an error; plain text if the app's templates are not there (services not started)."""
    from server.web.render import NAVIGATION  # render imports this module for the form helper

    request = Request(scope)
    state = scope.get("state", {})
    principal = state.get("principal")
    try:
        templates = scope["app"].state.services.templates
    except (KeyError, AttributeError, RuntimeError):
        return PlainTextResponse(f"{title}. {message}", status_code=status_code, headers=headers)
    context: dict[str, Any] = {
        "title": title, "message": message, "status_code": status_code, "principal": principal,
        "csrf_token": state.get("csrf_token"),
        "navigation": [{"href": href, "text": label, "current": False} for href, label in NAVIGATION] if principal else [],
        "retry_after": (headers or {}).get("retry-after"),
    }
    template = "errors/503.html" if status_code == 503 else "errors/error.html"
    response = templates.TemplateResponse(request, template, context, status_code=status_code, headers=headers)
    response.headers["cache-control"] = "no-store"
    return response


async def http_exception_page(request: Request, error: Exception) -> Response:
    """Starlette's HTTPException (no route, wrong method, AddressNotFound, BadInput) as a page."""
    assert isinstance(error, HTTPException)
    titles = {400: "There is a problem with this request", 404: "Page not found", 405: "This page does not accept that request"}
    title = titles.get(error.status_code, "This request cannot be answered")
    default_detail = error.detail in ("Not Found", "Method Not Allowed", "Bad Request")
    message = (
        "If you typed the web address, check it is correct. If you followed a link, you may not have access to what it points to."
        if default_detail or not error.detail else error.detail
    )
    return error_page(request.scope, error.status_code, title, message, dict(error.headers or {}))


async def data_error_page(request: Request, error: Exception) -> Response:
    """A value the database refused as data (too large, NUL in text): the request's fault, so 400, not 500.

    Any other database error is re-raised: it is not the person's to fix (and DatabaseOutage may answer it)."""
    assert isinstance(error, DBAPIError)
    problem = _data_problem(error)
    if problem is None:
        raise error
    return error_page(request.scope, 400, "There is a problem with this request", f"Accord did not act on this request: {problem}. Check what you entered and try again.")


def _data_problem(error: DBAPIError) -> str | None:
    state = _sqlstate(error) or ""
    if state.startswith("22"):  # SQLSTATE class 22, data exception: the server refused the value
        return _DATA_PROBLEMS.get(state, "a value is not one Accord can store")
    cause = getattr(error.orig, "__cause__", None)
    # asyncpg refuses a value it cannot encode for the column's type (a number past int32) before
    # sending it: an InterfaceError that is also a ValueError.
    if isinstance(cause, asyncpg.InterfaceError) and isinstance(cause, ValueError):
        return "a value is too large for its field or not in the expected format"
    return None


EXCEPTION_HANDLERS = {HTTPException: http_exception_page, DBAPIError: data_error_page}


class InputGuard:
    """Refuses control characters (NUL and the like) in the path and query with a 400 page.

    Path segments such as ``{code}`` reach SQL as text, and PostgreSQL cannot store NUL in text.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _control_character_problem(scope)
            if problem:
                await error_page(scope, 400, "There is a problem with this web address", problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _control_character_problem(scope: Scope) -> str | None:
    if any(character in _CONTROL for character in scope["path"]):
        return "The web address contains a control character (such as NUL), which no page in Accord has. Check the address."
    query = scope.get("query_string", b"").decode("latin-1")
    if any(character in _QUERY_CONTROL for _, value in parse_qsl(query, keep_blank_values=True) for character in value):
        return "The web address's query contains a control character (such as NUL), which Accord does not accept. Check the address."
    return None


class DatabaseOutage:
    """While the database cannot be reached: 503 with Retry-After, a page for people, JSON for /graphql.

    A failure that looks like a lost connection is an outage only if a fresh connection also fails;
    otherwise it is re-raised, so a real bug is never reported as 'come back later'.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except (OSError, DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            if started or await _database_reachable(scope):
                raise
            await _with_security_headers(_outage_response(scope))(scope, receive, send)


async def _database_reachable(scope: Scope) -> bool:
    try:
        database = scope["app"].state.services.database
        async with asyncio.timeout(3):
            async with database.app_engine.connect() as connection:
                await connection.execute(text("select 1"))
    except Exception:  # noqa: BLE001 (any failure to connect means unreachable)
        return False
    return True


def _outage_response(scope: Scope) -> Response:
    headers = {"retry-after": str(RETRY_AFTER_SECONDS)}
    message = "Accord cannot reach its database. Nothing was saved. Try again in a minute."
    if scope["path"].startswith(GRAPHQL_PATH):
        body = {"errors": [{"message": message, "extensions": {"code": "SERVICE_UNAVAILABLE", "retryAfterSeconds": RETRY_AFTER_SECONDS}}]}
        return Response(json.dumps(body), status_code=503, media_type="application/json", headers=headers)
    return error_page(scope, 503, "Sorry, Accord is not available at the moment", message, headers)


def _with_security_headers(response: Response) -> Response:
    headers = MutableHeaders(raw=response.raw_headers)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    return response


def _sqlstate(error: DBAPIError) -> str | None:
    original = error.orig
    return getattr(original, "sqlstate", None) or getattr(getattr(original, "__cause__", None), "sqlstate", None)
