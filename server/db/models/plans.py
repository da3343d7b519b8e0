"""Improvement plans (recovery plan, exception action plan, SPIP) and the SPIP sign-off (DOMAIN 4.6)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, Integer, Numeric, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from server.db.models._base import jsonb_field, org_fk

PLAN_KINDS = ("recovery", "exception", "spip")
PLAN_STATUSES = ("draft", "critiqued", "agreed", "signed_off", "presented", "in_delivery", "closed", "escalated")
ACCOUNTABILITIES = ("sole", "joint", "system")
ACTION_STATUSES = ("open", "in_progress", "done", "closed")


def _plan_of_owner(table: str) -> ForeignKeyConstraint:
    """A plan's row names the plan with its owner's organisation (the plan's key is (org_id, id))."""
    return ForeignKeyConstraint(["owner_org_id", "plan_id"], ["improvement_plan.org_id", "improvement_plan.id"], name=f"{table}_plan_id_fkey",
                                ondelete="CASCADE")


class ImprovementPlan(SQLModel, table=True):
    __tablename__ = "improvement_plan"
    __table_args__ = (
        CheckConstraint(f"kind in {PLAN_KINDS}", name="plan_kind_known"),
        CheckConstraint(f"status in {PLAN_STATUSES}", name="plan_status_known"),
        CheckConstraint(f"accountability in {ACCOUNTABILITIES}", name="plan_accountability_known"),
        CheckConstraint("version >= 1", name="plan_version_positive"),
        CheckConstraint("length(trim(title)) > 0", name="plan_title_present"),
        ForeignKeyConstraint(["org_id", "indicator_id"], ["indicator.org_id", "indicator.id"], name="improvement_plan_indicator_id_fkey",
                             ondelete="SET NULL (indicator_id)"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()  # the owning organisation (the system's organisation for a SPIP)
    # Every responsible partner, on the row itself: row-level security lets each partner see the
    # whole plan (and so every co-partner) without a policy that reads another policed table.
    partner_org_ids: list[int] = Field(default_factory=list, sa_column=Column(ARRAY(Integer), nullable=False, server_default="{}"))
    kind: str = "recovery"
    title: str
    programme: str | None = None
    status: str = "draft"
    accountability: str = "sole"
    indicator_id: int | None = None
    sro: str
    leads: dict = jsonb_field(default={}, nullable=False)  # delivery, performance, informatics, clinical, finance, pmo
    pmo_support: str | None = None
    national_target: str | None = None
    local_target: str | None = None
    longest_wait: str | None = None
    narrative: str | None = None
    queries_escalations: str | None = None
    delivered_this_month: str | None = None
    planned_next_month: str | None = None
    started_on: dt.date | None = None
    created_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    updated_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    version: int = 1  # bumped on every content change: stale forms are refused, agreements reset


class PlanPartner(SQLModel, table=True):
    """An organisation responsible for a plan: each must agree it (one sign-off per partner)."""

    __tablename__ = "plan_partner"
    __table_args__ = (_plan_of_owner("plan_partner"),)

    plan_id: int = Field(primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True, ondelete="CASCADE")
    owner_org_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")


class PlanAgreement(SQLModel, table=True):
    """A partner's agreement to one version of a plan; withdrawn (not deleted) when the plan changes."""

    __tablename__ = "plan_agreement"
    __table_args__ = (
        Index("plan_agreement_one_live_per_partner", "owner_org_id", "plan_id", "org_id", unique=True, postgresql_where=text("withdrawn_at is null")),
        _plan_of_owner("plan_agreement"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(index=True)
    org_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")  # the partner signed for
    owner_org_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    role: str
    plan_version: int
    agreed_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    withdrawn_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    withdrawn_reason: str | None = None


class PlanEvent(SQLModel, table=True):
    """Append-only history of a plan: every transition, edit and sign-off."""

    __tablename__ = "plan_event"
    __table_args__ = (_plan_of_owner("plan_event"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(index=True)
    owner_org_id: int | None = None  # the plan's organisation; filled from the plan on insert when not given
    event: str
    from_status: str | None = None
    to_status: str | None = None
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    actor_name: str | None = None
    actor_role: str | None = None
    acting_for_org_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="SET NULL")
    reason: str | None = None
    details: dict = jsonb_field(default={}, nullable=False)
    plan_version: int
    at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))


class PlanTrajectory(SQLModel, table=True):
    """The plan's monthly trajectory (the 'Plan' row, Apr-Mar); actuals come from measurements."""

    __tablename__ = "plan_trajectory"
    __table_args__ = (CheckConstraint("extract(day from period) = 1", name="plan_trajectory_month_start"), _plan_of_owner("plan_trajectory"))

    plan_id: int = Field(primary_key=True)
    owner_org_id: int | None = None  # the plan's organisation; filled from the plan on insert when not given
    period: dt.date = Field(primary_key=True)
    planned: Decimal = Field(sa_column=Column(Numeric(18, 6), nullable=False))


class Action(SQLModel, table=True):
    """An action on a plan's or a meeting's log: owner, due date, status; carried forward until closed."""

    __table_args__ = (
        CheckConstraint(f"status in {ACTION_STATUSES}", name="action_status_known"),
        CheckConstraint("plan_id is not null or meeting_id is not null", name="action_belongs_somewhere"),
        CheckConstraint("length(trim(description)) > 0", name="action_described"),
        ForeignKeyConstraint(["org_id", "plan_id"], ["improvement_plan.org_id", "improvement_plan.id"], name="action_plan_id_fkey", ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "meeting_id"], ["meeting.org_id", "meeting.id"], name="action_meeting_id_fkey", ondelete="CASCADE"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    plan_id: int | None = Field(default=None, index=True)
    meeting_id: int | None = Field(default=None, index=True)
    description: str
    owner: str
    due_date: dt.date
    status: str = "open"
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    closed_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Meeting(SQLModel, table=True):
    """One sitting of a forum, scheduled from its cadence rule; its pack is frozen when issued."""

    __table_args__ = (
        CheckConstraint("status in ('scheduled', 'held', 'cancelled')", name="meeting_status_known"),
        UniqueConstraint("org_id", "forum_id", "scheduled_for", "subject_key", name="meeting_one_per_forum_day_subject",
                         postgresql_nulls_not_distinct=True),
        ForeignKeyConstraint(["org_id", "forum_id"], ["forum.org_id", "forum.id"], name="meeting_forum_id_fkey", ondelete="CASCADE"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = org_fk()
    forum_id: int = Field(index=True)
    subject_key: str | None = None  # e.g. "unit:RWD-MED" for a divisional PRM, "contract:RXW" for an SLA meeting
    scheduled_for: dt.date
    status: str = "scheduled"
    cadence_reason: dict = jsonb_field(default={}, nullable=False)
    pack_issued_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    pack: dict | None = jsonb_field()
    decisions: list = jsonb_field(default=[], nullable=False)
    version: int = 1


class MeetingAttendance(SQLModel, table=True):
    __tablename__ = "meeting_attendance"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "meeting_id"], ["meeting.org_id", "meeting.id"], name="meeting_attendance_meeting_id_fkey", ondelete="CASCADE"),
    )

    meeting_id: int = Field(primary_key=True)
    member: str = Field(primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True, ondelete="CASCADE")
    present: bool = False
    deputy: str | None = None
