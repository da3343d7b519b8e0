"""One id per request: taken from a trusted load balancer's ``X-Request-Id`` or made here.

It is in every log line written while the request runs, in the ``X-Request-Id`` answer header, and
in a GraphQL error's ``extensions.requestId``, so a person quoting it leads to the log lines.
"""
from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import Scope

HEADER = "x-request-id"
# What a load balancer's id may look like (nginx's $request_id, AWS's Root=1-...); anything else is replaced.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:=-]{8,128}")

current_request_id: ContextVar[str | None] = ContextVar("accord_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_for(scope: Scope) -> str:
    """The id this request is known by: its scope's (set by ObservedRequests), else a fresh one."""
    known = scope.get("state", {}).get("request_id")
    return known or current_request_id.get() or new_request_id()


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            candidate = value.decode("latin-1")
            if _ACCEPTABLE.fullmatch(candidate):
                return candidate
    return new_request_id()
