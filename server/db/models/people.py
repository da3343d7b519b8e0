"""Users, role assignments and sessions. Identity tables: read before any organisation is known."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models._base import created_at_field, timestamp_field


class AppUser(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("position('@' in email) > 1", name="app_user_email_shape"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str
    password_hash: str | None = None  # None: signs in only through the identity provider
    is_active: bool = True
    home_org_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="SET NULL")
    created_at: dt.datetime = created_at_field()
    failed_logins: int = 0
    locked_until: dt.datetime | None = timestamp_field()


# Exactly one scope: an organisation, a system, a region, or national (every organisation).
ONE_SCOPE = "num_nonnulls(org_id, system_id, region_id, nullif(national, false)) = 1"


class RoleAssignment(SQLModel, table=True):
    """A user holds a role in one organisation, one system, one region, or nationally (exactly one)."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        CheckConstraint(ONE_SCOPE, name="role_assignment_one_scope"),
        UniqueConstraint(
            "user_id", "role", "org_id", "system_id", "region_id", "national", name="role_assignment_unique",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    role: str
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE")
    system_id: int | None = Field(default=None, foreign_key="health_system.id", index=True, ondelete="CASCADE")
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True, ondelete="CASCADE")
    national: bool = False
    granted_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    granted_at: dt.datetime = created_at_field()


class WebSession(SQLModel, table=True):
    """Server-side session: the cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    csrf_token: str
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: dt.datetime | None = timestamp_field()
    ip: str | None = None


class ApiToken(SQLModel, table=True):
    """Bearer tokens for tools: scoped to one organisation, system or region, or national, and to roles; stored hashed."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint(ONE_SCOPE, name="api_token_one_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    prefix: str = Field(index=True)  # first characters, shown in lists so a person can tell tokens apart
    token_hash: str = Field(unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")  # the service account
    org_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="CASCADE")
    system_id: int | None = Field(default=None, foreign_key="health_system.id", ondelete="CASCADE")
    region_id: int | None = Field(default=None, foreign_key="region.id", ondelete="CASCADE")
    national: bool = False
    roles: str  # comma-separated subset of the service account's roles
    created_at: dt.datetime = created_at_field()
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: dt.datetime | None = timestamp_field()
    last_used_at: dt.datetime | None = timestamp_field()
    # The primary's WAL position after the tool's last write (read-your-writes: server/db/replica.py).
    read_after_lsn: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class LoginAttempt(SQLModel, table=True):
    """Failed logins by address, for throttling that does not reveal whether an account exists."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True)
    ip: str | None = Field(default=None, index=True)
    at: dt.datetime = created_at_field()


class Invitation(SQLModel, table=True):
    """One link that lets an invited person choose their password: only the secret's SHA-256 is kept."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    secret_hash: str = Field(unique=True)
    invited_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: dt.datetime = created_at_field()
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    accepted_at: dt.datetime | None = timestamp_field()
