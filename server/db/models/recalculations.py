"""Recalculations of SPC limits: a person's recorded decision, never automatic (Making Data Count).

A live recalculation starts a new segment of one series (indicator x unit) at ``period``: the
mean and limits are computed again from that period on (R's ``rebase``). Withdrawing keeps the row
with who withdrew it, when and why; the series is derived again without it.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, text
from sqlmodel import Field, SQLModel

from server.db.models._base import created_at_field, org_fk, timestamp_field


class SpcRecalculation(SQLModel, table=True):
    __tablename__ = "spc_recalculation"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="spc_recalculation_indicator_same_org", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="spc_recalculation_unit_same_org", ondelete="CASCADE"),
        CheckConstraint("length(btrim(reason)) > 0", name="spc_recalculation_has_reason"),
        CheckConstraint("(withdrawn_at is null) = (withdrawal_reason is null)", name="spc_recalculation_withdrawal_has_reason"),
        # One live decision per series and period; a withdrawn one may be recorded again.
        Index("spc_recalculation_live", "org_id", "indicator_id", "unit_id", "period", unique=True, postgresql_where=text("withdrawn_at is null")),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    indicator_id: int
    unit_id: int
    period: dt.date
    reason: str
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    recorded_at: dt.datetime = created_at_field()
    withdrawn_at: dt.datetime | None = timestamp_field()
    withdrawn_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    withdrawal_reason: str | None = None
