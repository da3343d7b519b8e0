"""Each tenant's loaded framework (its tenant file, validated) and self-assessed maturity."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, DateTime, func
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field


class TenantFramework(SQLModel, table=True):
    """The validated tenant file as loaded: the engines run from this, never from code."""

    __tablename__ = "tenant_framework"

    org_id: int = Field(foreign_key="organisation.id", primary_key=True, ondelete="CASCADE")
    file_name: str
    spec: dict = jsonb_field(default={}, nullable=False)
    loaded_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))


class MaturityAssessment(SQLModel, table=True):
    """STW 'achieving a performance improvement culture' levels 1-5, by self-assessment."""

    __tablename__ = "maturity_assessment"
    __table_args__ = (CheckConstraint("level between 1 and 5", name="maturity_level_one_to_five"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    programme: str | None = None
    level: int
    assessed_on: dt.date
    assessed_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    notes: str | None = None
