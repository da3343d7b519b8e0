"""Every table model, imported so that SQLModel.metadata (and Alembic) sees them all."""
from server.db.models.assessments import Assessment
from server.db.models.audit import AuditEvent
from server.db.models.commentary import Commentary
from server.db.models.escalations import Escalation, EscalationEvent
from server.db.models.frameworks import MaturityAssessment, TenantFramework
from server.db.models.plans import Action, ImprovementPlan, Meeting, MeetingAttendance, PlanAgreement, PlanEvent, PlanPartner, PlanTrajectory
from server.db.models.forums import Forum
from server.db.models.indicators import Domain, Indicator, Target, Trajectory
from server.db.models.judgements import Judgement, LadderTick
from server.db.models.measurements import Measurement, MeasurementRevision
from server.db.models.notices import ContractNotice, ContractNoticeEvent
from server.db.models.organisations import Contract, HealthSystem, Organisation, Region, SystemMembership
from server.db.models.recalculations import SpcRecalculation
from server.db.models.people import ApiToken, AppUser, Invitation, LoginAttempt, RoleAssignment, WebSession
from server.db.models.structure import OrgUnit, UnitTier

__all__ = [
    "Action", "Escalation", "EscalationEvent", "ImprovementPlan", "MaturityAssessment", "Meeting", "MeetingAttendance",
    "PlanAgreement", "PlanEvent", "PlanPartner", "PlanTrajectory", "TenantFramework",
    "Assessment", "ApiToken", "AppUser", "AuditEvent", "Commentary", "Contract", "ContractNotice", "ContractNoticeEvent", "Domain", "Forum", "HealthSystem", "Indicator", "Invitation",
    "Judgement", "LadderTick", "LoginAttempt", "Measurement", "MeasurementRevision", "OrgUnit", "Organisation", "Region", "RoleAssignment",
    "SpcRecalculation", "SystemMembership", "Target", "Trajectory", "UnitTier", "WebSession",
]
