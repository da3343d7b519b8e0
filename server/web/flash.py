"""Notices after a redirect ("Plan is now critiqued") carried in a signed cookie bound to the
session and read once: never in the address, where any link could make a page say anything
(issue 14: "?notice=NHS England has approved this plan").

The cookie holds the message and an HMAC over the person's session cookie and the message, keyed
with the service's secret; a flash set for one session is ignored in another, and a tampered one
is dropped silently (a notice is a courtesy, never an authority).
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from server.auth.sessions import SESSION_COOKIE

FLASH_COOKIE = "accord_flash"
FLASH_SECONDS = 120  # long enough for the redirect that follows, short enough to go stale quickly
MAX_MESSAGE = 500


def flash(request: Request, response: Response, message: str) -> Response:
    """Attach ``message`` to the redirect ``response``; the next page rendered for this session shows it."""
    payload = base64.urlsafe_b64encode(message[:MAX_MESSAGE].encode()).decode()
    settings = request.app.state.services.settings
    response.set_cookie(
        FLASH_COOKIE, f"{payload}.{_signature(request, payload)}", max_age=FLASH_SECONDS, httponly=True, samesite="lax",
        secure=settings.secure_cookies, path="/",
    )
    return response


def take_flash(request: Request) -> str | None:
    """The flash for this session, if any and genuine; the caller deletes the cookie (``clear_flash``)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _signature(request, payload)):
        return None
    try:
        return base64.urlsafe_b64decode(payload.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def clear_flash(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")


def _signature(request: Request, payload: str) -> str:
    secret = request.app.state.services.settings.secret_key.get_secret_value().encode()
    session = request.cookies.get(SESSION_COOKIE, "")
    return hmac.new(secret, f"flash|{session}|{payload}".encode(), hashlib.sha256).hexdigest()
