"""The route table for people's pages. The cross-tenant probe walks this list."""
from __future__ import annotations

from starlette.routing import Route

from server.web.health import healthz, readyz
from server.web.pages.auth import login, login_form, logout
from server.web.pages.home import home
from server.web.pages.organisation import organisation_page


def page_routes() -> list[Route]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home, methods=["GET"]),
        Route("/organisations/{code}", organisation_page, methods=["GET"]),
    ]
