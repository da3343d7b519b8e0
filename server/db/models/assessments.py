"""Derived assessments, stored when data changes so that reads are cheap (DOMAIN 4.4).

One row per indicator x unit x period; unit_id null means the organisation level. Every row keeps
the evidence and the rule set with its parameters that produced it, so any verdict can be explained;
the latest row of a series keeps its SPC points column-wise beside the evidence (spc_points).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, LargeBinary, func
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field, org_column

RAGS = ("red", "amber", "green", "none")
VARIATIONS = ("common_cause", "special_cause_improving", "special_cause_concerning", "special_cause_neutral", "none")
ASSURANCES = ("consistently_pass", "consistently_fail", "hit_and_miss", "none")


class Assessment(SQLModel, table=True):
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="assessment_indicator_same_org", ondelete="CASCADE"),
        CheckConstraint(f"rag in {RAGS}", name="assessment_rag_known"),
        CheckConstraint(f"variation in {VARIATIONS}", name="assessment_variation_known"),
        CheckConstraint(f"assurance in {ASSURANCES}", name="assessment_assurance_known"),
        CheckConstraint("periods_under_target >= 0", name="assessment_periods_not_negative"),
        # unit_id null (organisation level) must still be unique per indicator and period.
        Index("assessment_one_per_period", "org_id", "indicator_id", "unit_id", "period", unique=True, postgresql_nulls_not_distinct=True),
        ForeignKeyConstraint(["org_id", "unit_id"], ["org_unit.org_id", "org_unit.id"], name="assessment_unit_id_fkey", ondelete="CASCADE"),
        Index("assessment_latest", "org_id", "indicator_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_column()
    indicator_id: int
    unit_id: int | None = None
    period: dt.date
    value: float | None = None
    target: float | None = None
    trajectory: float | None = None
    rag: str = "none"
    variation: str = "none"
    assurance: str = "none"
    periods_under_target: int = 0
    failure_forecast: bool = False
    masked_failure: bool = False
    is_latest: bool = False
    evidence: dict = jsonb_field(default={}, nullable=False)  # the latest row's, without its SPC points
    spc_points: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # the latest row's points (points.py)
    method_digest: str | None = None  # the latest row's shared method description in assessment_method (methods.py)
    rule_set: str = ""
    computed_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
