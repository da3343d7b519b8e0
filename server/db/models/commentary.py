"""The indicator owner's narrative for a period: every version kept, the latest current (migration 0014)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKeyConstraint
from sqlmodel import Field, SQLModel

from server.db.models._base import created_at_field, org_fk


class Commentary(SQLModel, table=True):
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="commentary_indicator_same_org", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="commentary_unit_same_org", ondelete="CASCADE"),
        CheckConstraint("length(btrim(body)) > 0 and length(body) <= 4000", name="commentary_has_text"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    indicator_id: int
    unit_id: int | None = None  # None: the organisation-level series
    period: dt.date
    body: str
    author_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    author_name: str  # as printed in a pack, even if the account goes
    written_at: dt.datetime = created_at_field()
