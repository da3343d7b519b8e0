"""Judgements people record about a subject, read by the ladders as facts (issue 11).

Append-only: a new judgement about the same kind and subject supersedes the last (``supersedes_id``),
a withdrawal is a row too, and nothing is ever updated or deleted. The daily ladder tick keeps one
row per day it ran.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKeyConstraint, Index, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field, org_fk

SUBJECT_TYPES = ("indicator", "unit", "domain", "organisation", "contract", "programme", "plan")


class Judgement(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(f"subject_type in {SUBJECT_TYPES}", name="judgement_subject_type_known"),
        CheckConstraint("length(trim(reason)) > 0", name="judgement_reason_given"),
        CheckConstraint("withdrawn or value is not null", name="judgement_value_given"),
        CheckConstraint("expires_at is null or expires_at > recorded_at", name="judgement_expires_after_recorded"),
        # The current judgement of each kind about each subject: the newest row.
        Index("judgement_current", "org_id", "subject_key", "kind", text("recorded_at desc"), text("id desc")),
        ForeignKeyConstraint(["org_id", "supersedes_id"], ["judgement.org_id", "judgement.id"], name="judgement_supersedes_id_fkey", ondelete="RESTRICT"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    kind: str  # the tenant file's judgement kind, which is the fact's name
    subject_type: str
    subject_key: str  # as the ladders key subjects: indicator:AE4H, unit:RWD-MED, contract:RXW
    subject_name: str
    value: bool | str | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True)))  # true / false, or one of the kind's words
    withdrawn: bool = False
    reason: str
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="RESTRICT")
    recorded_by_name: str
    recorded_role: str
    recorded_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    expires_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    supersedes_id: int | None = None
    # Where it was recorded (a minuted decision of that meeting, or from that escalation): plain ids,
    # not foreign keys, so history outlives them and never has to be rewritten.
    meeting_id: int | None = None
    escalation_id: int | None = None
    context: dict = jsonb_field(default={}, nullable=False)  # e.g. the escalation level it was recorded at


class LadderTick(SQLModel, table=True):
    """One row per calendar day the ladders were re-run for the passing of time (``accord tick``)."""

    __tablename__ = "ladder_tick"

    day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    started_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    organisations: int = 0
    changed: int = 0
