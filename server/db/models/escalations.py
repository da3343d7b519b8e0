"""Escalations raised by the tenant's ladder, with their lifecycle kept as history (DOMAIN 4.5)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, func, text
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field, org_fk

ESCALATION_STATUSES = ("open", "acknowledged", "plan_linked", "closed")


class Escalation(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"status in {ESCALATION_STATUSES}", name="escalation_status_known"),
        CheckConstraint("level >= 1", name="escalation_level_positive"),
        CheckConstraint("version >= 1", name="escalation_version_positive"),
        # At most one live escalation per subject on a ladder: a re-run updates it, never duplicates.
        Index("escalation_one_open_per_subject", "org_id", "ladder_code", "subject_key", unique=True,
              postgresql_where=text("status <> 'closed'")),
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="escalation_indicator_id_fkey", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="escalation_unit_id_fkey", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "plan_id"], ["improvement_plan.org_id", "improvement_plan.id"], name="escalation_plan_id_fkey",
                             ondelete="SET NULL (plan_id)"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    ladder_code: str
    subject_type: str  # indicator, unit, organisation, contract, programme, plan
    subject_key: str  # e.g. "indicator:AE4H", "unit:RWD-MED"
    subject_name: str
    indicator_id: int | None = None
    unit_id: int | None = None
    level: int
    level_code: str
    level_name: str
    forum_code: str | None = None
    requires: list = jsonb_field(default=[], nullable=False)
    status: str = "open"
    explanation: dict = jsonb_field(default={}, nullable=False)
    manual_override: bool = False
    plan_id: int | None = None
    opened_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    updated_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    closed_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = 1


class EscalationEvent(SQLModel, table=True):
    """Append-only: every transition, who made it (or 'the ladder'), when and why."""

    __tablename__ = "escalation_event"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    escalation_id: int = Field(index=True)  # same organisation: (org_id, escalation_id) references escalation
    event: str  # opened, acknowledged, plan_linked, escalated, de_escalated, closed, overridden
    from_level: int | None = None
    to_level: int | None = None
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    actor_role: str | None = None
    reason: str | None = None
    facts: dict = jsonb_field(default={}, nullable=False)
    at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
