"""Forums from the tenant's accountability matrix (DOMAIN 4.7)."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field, org_fk

FORUM_TIERS = ("oversight", "assurance", "management_escalation", "management_delivery")


class Forum(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("org_id", "code", name="forum_code_unique"),
        CheckConstraint(f"tier in {FORUM_TIERS}", name="forum_tier_known"),
        CheckConstraint("quorum is null or quorum >= 1", name="forum_quorum_positive"),
        CheckConstraint("attendance_threshold is null or (attendance_threshold > 0 and attendance_threshold <= 1)", name="forum_attendance_fraction"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    code: str
    name: str
    tier: str
    chair: str
    members: list = jsonb_field(default=[], nullable=False)
    frequency: str
    quorum: int | None = None
    attendance_threshold: float | None = None
    reports_to: str | None = None
    pack_deadlines_days: dict = jsonb_field(default={}, nullable=False)
