"""The append-only audit trail: every decision and change, who, in which role, for which organisation."""
from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from server.db.models._base import created_at_field, jsonb_field


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    # Appended without RETURNING: reading the new row back would apply the read policy, and an
    # actor may record an event about an organisation they cannot read.
    __table_args__ = {"implicit_returning": False}

    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True, ondelete="RESTRICT")
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="RESTRICT")
    actor_role: str | None = None
    action: str  # e.g. measurement.recorded, plan.signed_off
    object_type: str
    object_id: str | None = None
    before: dict | None = jsonb_field()
    after: dict | None = jsonb_field()
    at: dt.datetime = created_at_field()
    ip: str | None = None
