"""Domains, indicators, targets and trajectories (DOMAIN 4.3)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Numeric, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field, org_fk

POLARITIES = ("higher_is_better", "lower_is_better", "neutral")
ROLLUPS = ("sum", "rate", "max", "min", "none")
FREQUENCIES = ("weekly", "monthly", "quarterly")
SOURCES = ("national", "contractual", "cquin", "local")
UNITS = ("percent", "count", "rate", "minutes", "hours", "days", "weeks", "currency", "ratio", "score")
TARGET_KINDS = ("national", "contractual", "local", "stretch")


class Domain(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("org_id", "code", name="domain_code_unique"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    code: str
    name: str
    description: str | None = None
    position: int = 0


class Indicator(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("org_id", "code", name="indicator_code_unique"),
        ForeignKeyConstraint(["org_id", "domain_id"], ["domain.org_id", "domain.id"], name="indicator_domain_same_org"),
        CheckConstraint(f"polarity in {POLARITIES}", name="indicator_polarity_known"),
        CheckConstraint(f"rollup in {ROLLUPS}", name="indicator_rollup_known"),
        CheckConstraint(f"frequency in {FREQUENCIES}", name="indicator_frequency_known"),
        CheckConstraint(f"source in {SOURCES}", name="indicator_source_known"),
        CheckConstraint(f"unit in {UNITS}", name="indicator_unit_known"),
        CheckConstraint("rollup <> 'rate' or unit in ('percent', 'rate', 'ratio')", name="indicator_rate_has_rate_unit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    code: str
    name: str
    definition: str | None = None
    unit: str
    polarity: str
    rollup: str
    frequency: str = "monthly"
    domain_id: int
    cohort: str | None = None
    source: str
    is_key: bool = False
    kitemark: dict = jsonb_field(default={}, nullable=False)
    owner: str | None = None
    position: int = 0
    # Issue 15: {combine, indicators: {member code: indicator code}} for a system indicator computed
    # from its members' figures (server/systems/composition.py); {year_start_month, method} for outturn.
    # none_as_null: an indicator without them has SQL null (JSONB would store the JSON 'null'), as queries ask "is not null".
    from_members: dict | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True))
    outturn: dict | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True))


class Target(SQLModel, table=True):
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="target_indicator_same_org", ondelete="CASCADE"),
        CheckConstraint(f"kind in {TARGET_KINDS}", name="target_kind_known"),
        CheckConstraint("valid_to is null or valid_from is null or valid_to >= valid_from", name="target_dates_ordered"),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="target_unit_same_org", ondelete="CASCADE"),
        # One per kind and start for the organisation and for each unit (null: the organisation's own).
        UniqueConstraint("org_id", "indicator_id", "unit_id", "kind", "valid_from", name="target_one_per_kind_and_start",
                         postgresql_nulls_not_distinct=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    indicator_id: int = Field(index=True)
    unit_id: int | None = None  # a unit's own target; None for the organisation's
    kind: str
    value: Decimal = Field(sa_column=Column(Numeric(18, 6), nullable=False))
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    description: str | None = None


class Trajectory(SQLModel, table=True):
    """A planned value per period (the 'Plan' row of the plan on a page)."""

    __table_args__ = (
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="trajectory_indicator_same_org", ondelete="CASCADE"),
        UniqueConstraint("org_id", "indicator_id", "unit_id", "period", name="trajectory_one_per_period"),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="trajectory_unit_id_fkey", ondelete="CASCADE"),
        CheckConstraint("extract(day from period) = 1", name="trajectory_period_is_month_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    indicator_id: int = Field(index=True)
    unit_id: int | None = None
    period: dt.date
    value: Decimal = Field(sa_column=Column(Numeric(18, 6), nullable=False))
