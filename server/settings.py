"""One typed settings object, read from ``ACCORD_*`` environment variables, that fails fast."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # Owner connection: runs migrations and owns the tables. Unset: an embedded PostgreSQL.
    database_url: SecretStr | None = None
    # Optional separate login for the application role; by default the app connects with
    # database_url and assumes the ``accord_app`` role, which neither owns tables nor bypasses RLS.
    app_database_url: SecretStr | None = None
    # Optional streaming replica for GraphQL queries and report pages (server/db/replica.py), with the
    # same logins as the primary's; writes, sign-in and whoever just saved read the primary.
    read_database_url: SecretStr | None = None
    # A replica further behind than this (or unreachable) is not used: reads go to the primary.
    read_replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=60)
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("accord")))
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    host: str = "127.0.0.1"
    port: int = 8000
    # Host headers answered (Starlette's TrustedHostMiddleware); anything else gets 400. A JSON list
    # in the environment: ACCORD_ALLOWED_HOSTS='["accord.example.nhs.uk"]'. "testserver" is httpx's.
    allowed_hosts: list[str] = ["127.0.0.1", "localhost", "testserver"]
    # Where pages point for static files: '' for relative URLs (the default), or an origin such as
    # https://accord.example.nhs.uk. Never taken from the request's Host header.
    public_origin: str = ""
    tenants_dir: Path = PROJECT_ROOT / "tenants"
    policies_dir: Path = PROJECT_ROOT / "policies"
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "server" / "static"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # Failed logins from one address across any accounts (password spraying), same window.
    login_max_failures_per_address: int = 30
    # Largest request body accepted on any request; pasted spreadsheets stay well under it.
    max_request_body_bytes: int = 5_000_000
    database_pool_size: int = 10
    # Requests worked on at once by one process (0: twice its CPUs, at least 4); more wait their turn,
    # up to request_queue_seconds, then are answered 503 with Retry-After. Each request in progress
    # holds its rows and its answer in memory: 10 at once took the national system position to
    # 177 MiB, 4 to 146 MiB, at the same throughput (tests/benchmarks/bench_graphql.py).
    max_concurrent_requests: int = 0
    request_queue_seconds: float = 30.0
    # GraphQL limits (schema/limits.py). Introspection unset: on, except in production.
    graphql_introspection: bool | None = None
    graphql_max_depth: int = 10
    # Estimated values per request (list sizes multiplied down each path, times fields).
    graphql_max_cost: int = 500_000
    # The size assumed for a list field with no first/limit argument and no max_items metadata.
    graphql_default_list_size: int = 100
    # Per caller (token, person or anonymous address): a burst, then a steady rate per second.
    graphql_rate_burst: int = 60
    graphql_rate_per_second: float = 5.0
    # Operations (deploy/README.md). Apply pending migrations when the service starts (the demo, a
    # one-host install); false where a migration job runs first: replicas then wait, unready, for it.
    migrate_on_start: bool = True
    # Background work in each app process: the daily ladder tick (`accord tick` from cron does the same;
    # either way it runs once a day across processes) and email delivery. False for processes that
    # only answer requests, where cron or a worker process does this work.
    background_tasks: bool = True
    # "text" for a console; "json": one object a line with the request id, for a log pipeline.
    log_format: Literal["text", "json"] = "text"
    # Prometheus metrics at /metrics; with a token set, a scrape must send it as a bearer token.
    metrics_enabled: bool = False
    metrics_token: SecretStr | None = None
    # OpenTelemetry tracing (the ``otel`` extra, OTEL_* variables for the exporter): on when set and installed.
    otel_enabled: bool = False
    # Hear other processes' directory changes (LISTEN/NOTIFY) instead of checking the directory per request.
    # Set false when the app's database URL goes through a transaction-mode pooler (PgBouncer): LISTEN
    # there succeeds but hears nothing.
    access_notifications: bool = True
    # Load balancers whose X-Forwarded-For/-Proto are believed (uvicorn's forwarded_allow_ips, comma-
    # separated): without it every request comes from the balancer and one address throttles everyone.
    forwarded_allow_ips: str = ""
    # Email for notifications (server/notifications/). No host: the outbox, where messages are logged
    # and listed for operators instead of sent (development and tests).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "Accord <accord@localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0
    # How often unsent notification emails are sent (and failed ones retried), and how near a data
    # pack or report deadline must be before the people who issue it are told.
    notification_delivery_seconds: int = 60
    notification_deadline_days: int = 7

    @model_validator(mode="after")
    def refuse_placeholder_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError("ACCORD_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def graphql_introspection_enabled(self) -> bool:
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return self.environment != "production"

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
