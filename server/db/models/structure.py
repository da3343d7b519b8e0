"""The organisation-unit tree with per-tenant tier names (DOMAIN 4.2)."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models._base import org_fk


class UnitTier(SQLModel, table=True):
    """Tier names top-down, e.g. ULHT: 0 trust, 1 division, 2 service, 3 team."""

    __tablename__ = "unit_tier"
    __table_args__ = (
        UniqueConstraint("org_id", "name", name="unit_tier_name_unique"),
        CheckConstraint("depth >= 0", name="unit_tier_depth_not_negative"),
    )

    org_id: int = Field(foreign_key="organisation.id", primary_key=True, ondelete="CASCADE")
    depth: int = Field(primary_key=True)
    name: str


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("org_id", "code", name="org_unit_code_unique"),
        # A parent must belong to the same organisation.
        ForeignKeyConstraint(["org_id", "parent_id"], ["org_unit.org_id", "org_unit.id"], name="org_unit_parent_same_org", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "depth"], ["unit_tier.org_id", "unit_tier.depth"], name="org_unit_tier_declared"),
        CheckConstraint("(parent_id is null) = (depth = 0)", name="org_unit_root_has_no_parent"),
        CheckConstraint("parent_id is null or parent_id <> id", name="org_unit_not_own_parent"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    code: str
    name: str
    depth: int
    parent_id: int | None = Field(default=None, index=True)
    # Materialised path of unit ids from the root, for cheap subtree roll-ups.
    path: str = Field(index=True)
    # False: the unit's figures stay out of its parent's (a commissioner's contract unit, migration 0023).
    rolls_up: bool = True
    # The path of the deepest unit at or above this one that does not roll up ('' if none): a measurement
    # here counts at a unit whose path begins with it (the loader keeps it with ``path``).
    rollup_top_path: str = ""
