"""The request boundary: authenticate, resolve access, refuse cross-site writes, add security headers.

Pure ASGI (not BaseHTTPMiddleware) so that a form body read here for the CSRF check can be
replayed unchanged to the route that needs it. Every request body is held to the size limit, read
once: buffered here when the CSRF check needs it, otherwise counted as the route reads it. A
request that finds the connection pool exhausted is told to come back (503), not shown a 500.
Requests past the open paths take a turn (``Turns``): a process works on a few at once, so memory
stays bounded under load; the rest queue, and one that waits too long is told to come back too.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import os
import secrets
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from urllib.parse import parse_qs

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit.trail import request_labels
from server.auth.authz import Directory, Principal
from server.auth.principal import authenticate_in
from server.auth.tokens import note_token_write
from server.db.replica import READ_AFTER_COOKIE, read_after_from, sign_read_after
from server.db.session import AccessContext, Database, give_access

log = logging.getLogger(__name__)

CSRF_COOKIE = "accord_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
GRAPHQL_PATH = "/graphql"
# /metrics answers to its own bearer token (ACCORD_METRICS_TOKEN), not to an API token.
OPEN_PATHS = ("/static/", "/healthz", "/readyz", "/metrics", "/favicon.ico")
CSRF_ANONYMOUS_PATHS = ("/login",)
CSRF_ANONYMOUS_PREFIXES = ("/invitations/",)  # an invited person choosing a password has no session yet

SECURITY_HEADERS = {
    # No inline script anywhere: htmx and the NHS.UK script are files served from 'self'. The NHS.UK
    # stylesheet loads the Frutiger web fonts from the NHS asset host (licensed, not in the package).
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data: https://assets.nhs.uk; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


class Busy(Exception):
    """No turn came free within the settings' request_queue_seconds."""


class Turns:
    """At most ``settings.max_concurrent_requests`` requests worked on at once (made on first use,
    in the serving event loop: the settings arrive with the services)."""

    def __init__(self) -> None:
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, settings) -> "_Turn":  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore = asyncio.Semaphore(settings.max_concurrent_requests or max(4, 2 * (os.cpu_count() or 1)))
            self._loop = loop
        return _Turn(self._semaphore, settings.request_queue_seconds)


class _Turn:
    def __init__(self, semaphore: asyncio.Semaphore, wait: float) -> None:
        self.semaphore, self.wait = semaphore, wait

    async def __aenter__(self) -> None:
        try:
            await asyncio.wait_for(self.semaphore.acquire(), self.wait)
        except TimeoutError:
            raise Busy from None

    async def __aexit__(self, *exc: object) -> None:
        self.semaphore.release()


class AccordMiddleware:
    def __init__(self, app: ASGIApp, state) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.state = state  # the application's services: database, settings, authorizer
        self.turns = Turns()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_security_headers(send)
        watched = WatchedSend(send)
        try:
            await self._handle(scope, receive, watched)
        except (BodyTooLarge, PoolTimeout, Busy) as refusal:
            if watched.started:
                raise
            await _refusal(scope, refusal, self.state.settings.max_request_body_bytes)(scope, receive, send)
        except ClientDisconnect:  # gone before its body was read (it waited its turn, then gave up): no one to answer
            log.info("%s %s: the client disconnected before its request was read", scope["method"], scope["path"])

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.state.settings.max_request_body_bytes
        if scope["method"] in UNSAFE_METHODS:
            declared = HTTPConnection(scope).headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge
            receive = _limited(receive, limit)
        path: str = scope["path"]
        if path.startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        # Who is calling and what they may touch, in one transaction (access is cached per principal).
        # A GraphQL request goes on reading in that same transaction (RequestTransaction below).
        async with self.turns(self.state.settings), RequestTransaction(self.state.database, held=path == GRAPHQL_PATH) as transaction:
            await self._authenticated(scope, receive, send, transaction)

    async def _authenticated(self, scope: Scope, receive: Receive, send: Send, transaction: RequestTransaction) -> None:
        path: str = scope["path"]
        connection = HTTPConnection(scope)
        services = self.state
        ip = scope["client"][0] if scope.get("client") else None
        session = await transaction.begin()
        authentication = await authenticate_in(session, connection, services.settings, services.authorizer)
        principal = authentication.principal
        read_after = read_target = None
        replicated = services.database.replica is not None
        if principal is not None:
            access, directory = await services.authorizer.access_cache.resolve(session, services.authorizer, principal)
            if replicated:  # read-your-writes: the caller's last write, if recent (server/db/replica.py)
                signed = read_after_from(_secret(services.settings), principal.subject, connection.cookies.get(READ_AFTER_COOKIE))
                read_after = max((lsn for lsn in (signed, principal.read_after) if lsn is not None), default=None)
                if transaction.held:  # a GraphQL query reads the replica in a transaction of its own
                    read_target = await services.database.read_target(read_after)
                    transaction.held = read_target == "primary"
        if principal is None or not await transaction.keep_for(access):
            await transaction.end()
        if authentication.bad_token:
            await _bad_token(scope, receive, send)
            return
        if principal is None:
            access = AccessContext(labels=request_labels(ip, {}))
        else:
            access = replace(access, labels=request_labels(ip, _roles_by_org_id(principal, directory)))
        scope.setdefault("state", {})
        scope["state"].update(principal=principal, access=access, request_session=transaction.session, read_after=read_after, read_target=read_target)

        csrf_cookie = connection.cookies.get(CSRF_COOKIE)
        new_csrf_cookie = None
        if principal is None and not csrf_cookie:
            # Anonymous visitors get a double-submit token so the login form itself is protected.
            new_csrf_cookie = csrf_cookie = secrets.token_urlsafe(32)
        scope["state"]["csrf_token"] = principal.csrf_token if principal and principal.csrf_token else csrf_cookie

        # A write needs a CSRF token when it carries ambient authority (a live session cookie), and
        # on the login form itself (login CSRF). Anonymous writes elsewhere are refused downstream.
        needs_csrf = (principal is not None and principal.via == "session") or (principal is None and (path in CSRF_ANONYMOUS_PATHS or path.startswith(CSRF_ANONYMOUS_PREFIXES)))
        if scope["method"] in UNSAFE_METHODS and needs_csrf:
            body, receive = await _buffer_body(receive)
            submitted = connection.headers.get(CSRF_HEADER) or _form_field(connection, body, CSRF_FIELD)
            expected = scope["state"]["csrf_token"]
            if not submitted or not expected or not hmac.compare_digest(submitted.encode(), expected.encode()):
                response = PlainTextResponse(
                    "This form has expired or did not come from Accord. Go back, reload the page and try again.",
                    status_code=403,
                )
                await response(scope, receive, send)
                return

        if new_csrf_cookie:
            send = self._with_cookie(send, new_csrf_cookie)
        if replicated and principal is not None:
            send = self._noting_writes(scope, send, principal)
        await self.app(scope, receive, send)

    def _with_security_headers(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.state.settings.secure_cookies:
                    headers.setdefault("strict-transport-security", "max-age=31536000; includeSubDomains")
            await send(message)

        return wrapped

    def _noting_writes(self, scope: Scope, send: Send, principal: Principal) -> Send:
        """After a request that wrote (a form posted, a GraphQL mutation), the primary's WAL position
        goes back in a signed cookie before the response does, and for a token onto its row too (a
        tool may not keep cookies): the caller's next requests read the primary until the replica
        has replayed it (server/db/replica.py)."""
        settings, database = self.state.settings, self.state.database

        async def wrapped(message: Message) -> None:
            state = scope["state"]
            wrote = state.get("wrote") if scope["path"] == GRAPHQL_PATH else scope["method"] in UNSAFE_METHODS
            if message["type"] == "http.response.start" and wrote:
                lifetime = read_after_lifetime(settings.read_replica_max_lag_seconds)
                expires = int(time.time() + lifetime)
                lsn = await database.current_wal_lsn()
                if principal.via == "token":
                    await note_token_write(database, int(principal.subject.partition(":")[2]), lsn)
                value = sign_read_after(_secret(settings), principal.subject, lsn, expires)
                secure = "; Secure" if settings.secure_cookies else ""
                MutableHeaders(scope=message).append(
                    "set-cookie", f"{READ_AFTER_COOKIE}={value}; Path=/; Max-Age={lifetime}; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        return wrapped

    def _with_cookie(self, send: Send, value: str) -> Send:
        secure = "; Secure" if self.state.settings.secure_cookies else ""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        return wrapped


class RequestTransaction:
    """The transaction that authenticates a request, kept open for the request's reads when ``held``.

    A GraphQL query then costs one transaction, not two: after authentication the same transaction
    takes the request's access context (row-level security from then on) and AccordContext.read
    uses it; it is committed when the response has been sent. It is not kept when authentication
    wrote something (a token's or session's use noted, at most once a minute): that commits at once,
    so no row stays locked while the request runs. Mutations still commit in transactions of their own.
    """

    def __init__(self, database: Database, *, held: bool) -> None:
        self.database, self.held = database, held
        self._manager: AbstractAsyncContextManager[AsyncSession] | None = None
        self._begun: AsyncSession | None = None
        self.session: AsyncSession | None = None  # set when held for the request's reads

    async def begin(self) -> AsyncSession:
        manager = self.database.session()
        self._begun = await manager.__aenter__()
        self._manager = manager
        return self._begun

    async def keep_for(self, access: AccessContext) -> bool:
        """Go on with ``access`` in this transaction if it is to be held and has written nothing."""
        session = self._begun
        assert session is not None, "begin() first"
        if not self.held or session.info.get("wrote") or session.new or session.dirty or session.deleted:
            return False
        await give_access(session, access)
        self.session = session
        return True

    async def end(self, exc_info: tuple | None = None) -> None:  # type: ignore[type-arg]
        manager, held = self._manager, self.session is not None
        self._manager, self._begun, self.session = None, None, None
        if manager is None:
            return
        try:
            await manager.__aexit__(*(exc_info or (None, None, None)))
        except (DBAPIError, asyncpg.InterfaceError):
            if not held:
                raise
            # Only reads ran in it, and the answer has gone: a connection lost on the way (a query
            # cancelled when a sibling field failed closes it) loses nothing. The pool replaces it.
            log.warning("The request's read transaction ended with its connection lost", exc_info=True)

    async def __aenter__(self) -> RequestTransaction:
        return self

    async def __aexit__(self, *exc_info) -> None:  # type: ignore[no-untyped-def]
        await self.end(exc_info if exc_info[0] is not None else None)


def _secret(settings) -> bytes:  # type: ignore[no-untyped-def]
    return settings.secret_key.get_secret_value().encode()


def read_after_lifetime(max_lag_seconds: float) -> int:
    """Seconds the read-after cookie lives: past that the write is older than any lag the replica is
    allowed (a replica further behind is not used), so it has been replayed wherever reads go."""
    return max(30, math.ceil(max_lag_seconds) * 2)


def _roles_by_org_id(principal: Principal, directory: Directory) -> dict[int, list[str]]:
    roles: dict[int, list[str]] = {}
    for assignment in principal.assignments:
        kind, _, code = assignment.domain.partition(":")
        if kind == "org" and code in directory.org_ids:
            roles.setdefault(directory.org_ids[code], []).append(assignment.role)
    return roles


class WatchedSend:
    """``send``, remembering whether the response has started: until it has, a failure can still
    be answered with a response of its own; after, it can only be re-raised."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


class BodyTooLarge(Exception):
    """The request body is over ``max_request_body_bytes`` (declared, or counted as it arrives)."""


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive``, raising BodyTooLarge once more than ``limit`` bytes of body have arrived."""
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return counting


def _refusal(scope: Scope, refusal: Exception, limit: int) -> Response:
    if isinstance(refusal, BodyTooLarge):
        status, code, headers = 413, "PAYLOAD_TOO_LARGE", None
        message = f"This request is too large. Send at most {limit / 1_000_000:g} MB at a time."
    else:  # no turn came free, or the connection pool stayed exhausted for the engine's pool_timeout
        status, code, headers = 503, "SERVICE_UNAVAILABLE", {"retry-after": "2"}
        message = "Accord is busy: try again in a few seconds."
    return _answer(scope, status, message, code, headers)


def _answer(scope: Scope, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    """A refusal in the caller's terms: a GraphQL error (no data) for the API, plain text for pages."""
    if scope["path"].startswith(GRAPHQL_PATH):
        body = {"errors": [{"message": message, "extensions": {"code": code}}]}
        return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers)


async def _bad_token(scope: Scope, receive: Receive, send: Send) -> None:
    """A bearer token that is unknown, expired or revoked: 401, never an anonymous answer."""
    message = "This API token is unknown, expired or revoked. Ask your administrator for a new one."
    challenge = 'Bearer realm="accord", error="invalid_token", error_description="The token is unknown, expired or revoked"'
    await _answer(scope, 401, message, "UNAUTHENTICATED", {"www-authenticate": challenge})(scope, receive, send)


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (``receive`` is already size-limited), and a receive that replays it."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _form_field(connection: HTTPConnection, body: bytes, name: str) -> str | None:
    content_type = connection.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", errors="replace")).get(name)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        # A file upload (the import page) cannot be urlencoded: the token is one part of the body.
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(b"content-type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        for part in message.iter_parts() if message.is_multipart() else ():
            if part.get_param("name", header="content-disposition") == name and part.get_filename() is None:
                return str(part.get_content()).strip()
    return None
