"""Shared column helpers for the table models."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def created_at_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def timestamp_field(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def jsonb_field(default: Any = None, nullable: bool = True) -> Any:
    factory = (lambda: dict(default)) if isinstance(default, dict) else (lambda: list(default)) if isinstance(default, list) else None
    if factory is None:
        return Field(default=default, sa_column=Column(JSONB, nullable=nullable))
    return Field(default_factory=factory, sa_column=Column(JSONB, nullable=nullable))


def org_fk() -> Any:
    """The owning organisation: the column every row-level security policy reads."""
    return Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")


def org_column() -> Any:
    """The owning organisation, for the tables written in millions (measurement, its revisions,
    assessment) whose composite keys to an indicator of that organisation already make it exist
    and cascade its deletion: no direct foreign key, which PostgreSQL would check again on every
    row (migration 0024). No index of its own either: every key of these tables begins with org_id
    (migration 0029)."""
    return Field()


# Keys (migration 0020): in the database every tenant table's primary key begins with org_id
# ((org_id, id); (org_id, id, period) for the tables partitioned by period), so the schema can be
# distributed by organisation. The models keep ``id`` alone as the ORM's identity: ids come from one
# sequence per table, so ``session.get(Model, id)`` still names exactly one row.
