"""Measurements with revision history (DOMAIN 4.3): a resubmission never destroys the earlier value."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models._base import created_at_field, org_column

STATUSES = ("provisional", "validated")

_VALUE_SHAPE = (
    "(value is not null and numerator is null and denominator is null)"
    " or (value is null and numerator is not null and denominator is not null and denominator > 0 and numerator >= 0)"
)


class Measurement(SQLModel, table=True):
    """The current value for indicator x unit x period; earlier values live in measurement_revision."""

    __table_args__ = (
        # Keys begin with org_id (Citus) and include period (the partition key; the primary key is (org_id, id, period)).
        UniqueConstraint("org_id", "indicator_id", "unit_id", "period", name="measurement_one_per_period"),
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="measurement_indicator_same_org", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="measurement_unit_same_org", ondelete="CASCADE"),
        CheckConstraint(_VALUE_SHAPE, name="measurement_value_or_fraction"),
        CheckConstraint(f"status in {STATUSES}", name="measurement_status_known"),
        CheckConstraint("revision >= 1", name="measurement_revision_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_column()
    indicator_id: int  # looked up by measurement_indicator_org (indicator_id, org_id, period), migration 0029
    unit_id: int = Field(index=True)
    period: dt.date = Field(index=True)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6)))
    numerator: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6)))
    denominator: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6)))
    status: str = "provisional"
    source: str = "manual"
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    recorded_at: dt.datetime = created_at_field()
    reason: str | None = None  # why this version was sent (a replaced version keeps its own in measurement_revision)
    revision: int = 1


class MeasurementRevision(SQLModel, table=True):
    """Append-only: every version a measurement has had before its current one, kept by the trigger on
    ``measurement`` when it is replaced (migration 0030; histories written before it hold the current
    version too). The view ``measurement_history`` reads every version, the current one included."""

    __tablename__ = "measurement_revision"
    __table_args__ = (
        UniqueConstraint("org_id", "measurement_id", "period", "revision", name="measurement_revision_unique"),
        ForeignKeyConstraint(["org_id", "measurement_id", "period"], ["measurement.org_id", "measurement.id", "measurement.period"],
                             name="measurement_revision_measurement_id_fkey", ondelete="CASCADE"),
        CheckConstraint(_VALUE_SHAPE, name="measurement_revision_value_or_fraction"),
        CheckConstraint(f"status in {STATUSES}", name="measurement_revision_status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_column()
    measurement_id: int  # looked up by measurement_revision_unique (org_id, measurement_id, ...), migration 0029
    period: dt.date  # the measurement's: revisions are partitioned by period as measurements are
    revision: int
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6)))
    numerator: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6)))
    denominator: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6)))
    status: str
    source: str
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    recorded_at: dt.datetime = created_at_field()
    reason: str | None = None
