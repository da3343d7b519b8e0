"""The request boundary: authenticate, resolve access, refuse cross-site writes, add security headers.

Pure ASGI (not BaseHTTPMiddleware) so that a form body read here for the CSRF check can be
replayed unchanged to the route that needs it.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit.trail import request_labels
from server.auth.authz import Directory, Principal, read_directory, resolve_access
from server.auth.principal import authenticate
from server.db.session import AccessContext

CSRF_COOKIE = "accord_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_PATHS = ("/static/", "/healthz", "/readyz", "/favicon.ico")
CSRF_ANONYMOUS_PATHS = ("/login",)

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


class AccordMiddleware:
    def __init__(self, app: ASGIApp, state) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.state = state  # the application's services: database, settings, authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_security_headers(send)
        path: str = scope["path"]
        if path.startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        services = self.state
        authentication = await authenticate(connection, services.database, services.settings, services.authorizer)
        principal = authentication.principal
        ip = scope["client"][0] if scope.get("client") else None
        if principal is None:
            access = AccessContext(labels=request_labels(ip, {}))
        else:
            async with services.database.session() as session:
                directory = await read_directory(session)
            access = resolve_access(services.authorizer, principal, directory)
            access = replace(access, labels=request_labels(ip, _roles_by_org_id(principal, directory)))
        scope.setdefault("state", {})
        scope["state"].update(principal=principal, access=access, bad_token=authentication.bad_token)

        csrf_cookie = connection.cookies.get(CSRF_COOKIE)
        new_csrf_cookie = None
        if principal is None and not csrf_cookie:
            # Anonymous visitors get a double-submit token so the login form itself is protected.
            new_csrf_cookie = csrf_cookie = secrets.token_urlsafe(32)
        scope["state"]["csrf_token"] = principal.csrf_token if principal and principal.csrf_token else csrf_cookie

        # A write needs a CSRF token when it carries ambient authority (a live session cookie), and
        # on the login form itself (login CSRF). Anonymous writes elsewhere are refused downstream.
        needs_csrf = (principal is not None and principal.via == "session") or (principal is None and path in CSRF_ANONYMOUS_PATHS)
        if scope["method"] in UNSAFE_METHODS and needs_csrf:
            try:
                body, receive = await _buffer_body(receive, services.settings.max_request_body_bytes)
            except BodyTooLarge:
                response = PlainTextResponse("This request is too large. Send at most 5 MB at a time.", status_code=413)
                await response(scope, receive, send)
                return
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

    def _with_cookie(self, send: Send, value: str) -> Send:
        secure = "; Secure" if self.state.settings.secure_cookies else ""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        return wrapped


def _roles_by_org_id(principal: Principal, directory: Directory) -> dict[int, list[str]]:
    roles: dict[int, list[str]] = {}
    for assignment in principal.assignments:
        kind, _, code = assignment.domain.partition(":")
        if kind == "org" and code in directory.org_ids:
            roles.setdefault(directory.org_ids[code], []).append(assignment.role)
    return roles


class BodyTooLarge(Exception):
    pass


async def _buffer_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
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
