"""The Starlette application: services, routes, middleware, lifespan."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server.auth.authz import AccessWatcher, Authorizer
from server.db import migrate
from server.db.server import DatabaseUrls, EmbeddedPostgres, resolve_database
from server.db.session import Database
from server.escalation_store.tick import run_scheduler
from server.notifications.delivery import run_delivery
from server.observability.metrics import Metrics, ServiceGauges, metrics_endpoint
from server.observability.middleware import ObservedRequests
from server.observability.tracing import traced
from server.settings import Settings, get_settings
from server.web.converters import register_converters
from server.web.errors import EXCEPTION_HANDLERS, DatabaseOutage, InputGuard
from server.web.health import TrustedHostsExceptProbes
from server.web.middleware import AccordMiddleware
from server.web.templating import make_templates

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    database: Database
    authorizer: Authorizer
    templates: object
    embedded: EmbeddedPostgres | None = None
    access_watcher: AccessWatcher | None = None


class LazyServices:
    """Filled in by the lifespan (or by the caller, in tests) before the first request."""

    def __init__(self) -> None:
        self._services: Services | None = None

    def set(self, services: Services) -> None:
        self._services = services

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if self._services is None:
            raise RuntimeError("Accord services are not started")
        return getattr(self._services, name)


def build_services(settings: Settings, database: Database, embedded: EmbeddedPostgres | None = None) -> Services:
    return Services(
        settings=settings, database=database, authorizer=Authorizer(settings.policies_dir),
        templates=make_templates(settings), embedded=embedded,
    )


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    """The app. With ``services`` given (tests) the lifespan starts nothing; otherwise it starts
    the database (embedded unless configured), applies pending migrations and stops it on exit."""
    from schema.app import graphql_app
    from server.web.routes import page_routes

    register_converters()  # before the routes are built: ids past the integer range answer 404, not 500

    settings = settings or (services.settings if services else get_settings())
    holder = LazyServices()
    if services is not None:
        holder.set(services)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        urls, embedded = resolve_database(settings)
        database = Database(urls, pool_size=settings.database_pool_size, max_replica_lag_seconds=settings.read_replica_max_lag_seconds)
        watcher = None
        ticking = delivering = None
        try:
            if settings.migrate_on_start:
                await migrate.upgrade(database.owner_engine)
            started = build_services(settings, database, embedded)
            # Other processes' directory changes arrive as notifications (server/auth/authz.py).
            if settings.access_notifications:
                watcher = started.access_watcher = AccessWatcher(lambda: listen_connection(urls), started.authorizer.access_cache)
                await watcher.start()
            holder.set(started)
            # Issue 11: the ladders re-run daily for time passing; several processes tick once (advisory lock).
            if settings.background_tasks:
                ticking = asyncio.create_task(run_scheduler(database), name="ladder-tick")
                delivering = asyncio.create_task(run_delivery(database, settings), name="notification-email")  # issue 15
            yield
        finally:
            for task in (delivering, ticking):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if watcher is not None:
                await watcher.stop()
            await database.dispose()
            if embedded is not None:
                embedded.stop()

    routes = [
        *page_routes(),
        Route("/graphql", graphql_app(holder), methods=["GET", "POST"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=settings.static_dir, check_dir=False), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)
    app.state.services = holder
    app.state.metrics = metrics = Metrics()
    metrics.watch(ServiceGauges(lambda: holder._services))
    # Innermost first. InputGuard inside AccordMiddleware, so its 400 page carries the security headers;
    # DatabaseOutage outside it, because AccordMiddleware itself reads the database (sessions, tokens).
    app.add_middleware(InputGuard)
    app.add_middleware(AccordMiddleware, state=holder)
    app.add_middleware(DatabaseOutage)
    app.add_middleware(TrustedHostsExceptProbes, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(traced, enabled=settings.otel_enabled)
    # Outermost: every answer, even a refused Host, carries the request id and is timed and logged.
    app.add_middleware(ObservedRequests, metrics=metrics)
    return app


WATCHER_APPLICATION_NAME = "accord access watcher"


async def listen_connection(urls: DatabaseUrls):  # type: ignore[no-untyped-def]
    """A connection of its own (outside the pool) for LISTEN, as the application's role."""
    import asyncpg
    from sqlalchemy.engine import make_url

    from server.db.server import APP_ROLE

    dsn = make_url(urls.app).set(drivername="postgresql").render_as_string(hide_password=False)
    # Named, so a DBA can tell it in pg_stat_activity (one per app process, idle in LISTEN).
    server_settings = {"application_name": WATCHER_APPLICATION_NAME, **({"role": APP_ROLE} if urls.assume_app_role else {})}
    return await asyncpg.connect(dsn, server_settings=server_settings)
