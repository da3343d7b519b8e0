"""Contract performance notices and their history (migration 0017; Sheffield 3.3)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ARRAY, CheckConstraint, Column, ForeignKeyConstraint, Integer, PrimaryKeyConstraint, Text
from sqlmodel import Field, SQLModel

from server.db.models._base import created_at_field, timestamp_field

NOTICE_STATUSES = ("raised", "issued", "plan_agreed", "closed", "withdrawn")


class ContractNotice(SQLModel, table=True):
    """A notice the commissioner (org_id) raises against a provider it contracts with."""

    __tablename__ = "contract_notice"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "id", name="contract_notice_pkey"),
        CheckConstraint(f"status in {NOTICE_STATUSES}", name="contract_notice_status_known"),
    )

    org_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    id: int | None = Field(default=None, sa_column=Column(Integer, autoincrement=True, nullable=False))
    provider_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")  # under a contract in the register (the service checks)
    kind: str = "performance"
    title: str
    reason: str
    indicator_codes: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False, server_default="{}"))
    status: str = "raised"
    remedial_plan: str | None = None
    remedial_plan_due: dt.date | None = None
    raised_at: dt.datetime = created_at_field()
    issued_at: dt.datetime | None = timestamp_field()
    plan_agreed_at: dt.datetime | None = timestamp_field()
    ended_at: dt.datetime | None = timestamp_field()
    raised_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    version: int = 1


class ContractNoticeEvent(SQLModel, table=True):
    """One step in a notice's life: append-only."""

    __tablename__ = "contract_notice_event"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "id", name="contract_notice_event_pkey"),
        ForeignKeyConstraint(["org_id", "notice_id"], ["contract_notice.org_id", "contract_notice.id"],
                             name="contract_notice_event_of_notice", ondelete="CASCADE"),
    )

    org_id: int
    id: int | None = Field(default=None, sa_column=Column(Integer, autoincrement=True, nullable=False))
    notice_id: int
    event: str
    from_status: str | None = None
    to_status: str
    note: str | None = None
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    actor_name: str
    actor_role: str | None = None
    at: dt.datetime = created_at_field()
