"""Organisations, systems and membership, contracts (DOMAIN 4.1)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

ORGANISATION_KINDS = (
    "icb", "ccg", "trust", "gp_federation", "specialised_commissioner", "health_board", "system",
    "independent_provider",
)


class Organisation(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"kind in {ORGANISATION_KINDS}", name="organisation_kind_known"),
        CheckConstraint("nation in ('England', 'Wales', 'Scotland', 'Northern Ireland')", name="organisation_nation_known"),
        CheckConstraint("length(code) between 1 and 40", name="organisation_code_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str
    short_name: str | None = None
    kind: str
    nation: str = "England"
    is_tenant: bool = False  # False: a counterparty only (e.g. an English provider WHSSC contracts with)


class Region(SQLModel, table=True):
    """An NHS England region (ODS code, e.g. Y60 Midlands), declared by its systems' tenant files."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str


class HealthSystem(SQLModel, table=True):
    __tablename__ = "health_system"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str
    # The system is itself represented as an organisation (kind 'system') so that its own forums,
    # ladders and plans hang off an organisation id like any other tenant's.
    organisation_id: int = Field(foreign_key="organisation.id", unique=True, ondelete="CASCADE")
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True, ondelete="SET NULL")


class SystemMembership(SQLModel, table=True):
    __tablename__ = "system_membership"

    system_id: int = Field(foreign_key="health_system.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True, ondelete="CASCADE")


class Contract(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("commissioner_id", "provider_id", name="contract_one_per_pair"),
        CheckConstraint("commissioner_id <> provider_id", name="contract_between_two_organisations"),
        CheckConstraint("annual_value >= 0", name="contract_value_not_negative"),
        CheckConstraint("end_date is null or start_date is null or end_date >= start_date", name="contract_dates_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    commissioner_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    provider_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    annual_value: Decimal = Field(sa_column=Column(Numeric(16, 2), nullable=False))
    services: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False, server_default="{}"))
    strategically_important: bool = False
    start_date: dt.date | None = None
    end_date: dt.date | None = None
