"""What the cross-tenant probe puts in every argument, path parameter and form field, and the
requests it builds from the GraphQL schema and the page route table.

Every name a caller can send must have an entry here, returning *another organisation's* value
(its code, its object's id, its account's email). ``missing_entries`` lists the names that have
none, and the probe test fails on them: a new page, field or argument is probed the day it is
added, or the suite says what to add.

Entries take the target organisation's :class:`~tests.security.probe_world.OrgObjects`; in the
"own scope" variant the *scope* entries (the organisation in the URL or the ``organisationCode``
argument) take the caller's own organisation while the rest stay foreign — the classic
"my organisation, your object id" request.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLList, GraphQLNonNull, GraphQLObjectType,
    GraphQLScalarType, GraphQLSchema, GraphQLUnionType, get_named_type,
)
from starlette.routing import Route

from server.web.middleware import OPEN_PATHS
from tests.security.probe_world import OrgObjects

Value = Callable[[OrgObjects], Any]


@dataclass(frozen=True)
class Entry:
    value: Value
    scope: bool = False  # the organisation (or plan) a request is about: the caller's own in an "own scope" variant
    names_object: bool = False  # names one of the target's objects (stays foreign in every variant)
    own_scope_value: Value | None = None  # a different value in that variant (e.g. one that cannot be stored)


# Path parameters, by the route path up to and including the parameter (converters dropped), so
# "/organisations/{code}" covers every page below an organisation.
PATH_PARAMETERS: dict[str, Entry] = {
    "/organisations/{code}": Entry(lambda o: o.code, scope=True),
    # An invitation's secret is its own authority (only its hash is stored): a guess opens nothing.
    "/invitations/{secret}": Entry(lambda o: f"not-an-invitation-of-{o.code}"),
    "/systems/{code}": Entry(lambda o: o.system_code, scope=True),
    "/plans/{plan_id}": Entry(lambda o: o.plan_id, scope=True),
    "/plans/{plan_id}/actions/{action_id}": Entry(lambda o: o.plan_action_id),
    "/organisations/{code}/indicators/{indicator_code}": Entry(lambda o: o.indicator_code),
    "/organisations/{code}/escalations/{escalation_id}": Entry(lambda o: o.escalation_id),
    "/organisations/{code}/indicators/{indicator_code}/recalculations/{recalculation_id}": Entry(lambda o: o.recalculation_id),
    "/organisations/{code}/meetings/{meeting_id}": Entry(lambda o: o.meeting_id),
    "/organisations/{code}/meetings/{meeting_id}/actions/{action_id}": Entry(lambda o: o.meeting_action_id),
    "/organisations/{code}/admin/roles/{assignment_id}": Entry(lambda o: o.assignment_id),
    "/organisations/{code}/admin/tokens/{token_id}": Entry(lambda o: o.token_id),
    "/organisations/{code}/programmes/{programme}": Entry(lambda o: o.programme_code),
    # Issue 15: a contract page names the provider; the target (which the caller neither reads nor contracts with) as the provider.
    "/organisations/{code}/contracts/{provider}": Entry(lambda o: o.code),
    "/organisations/{code}/contracts/{provider}/notices/{notice_id}": Entry(lambda o: o.escalation_id),
}

# Fields of POSTed forms (exact names, then patterns for numbered or prefixed fields). Free-text
# fields get text; anything naming an organisation, account or object gets the foreign one.
FORM_FIELDS: dict[str, Entry] = {
    "csrf_token": Entry(lambda o: None),  # the caller's own token, added by the probe
    "email": Entry(lambda o: o.member_email),
    "password": Entry(lambda o: "not-the-password"),
    "confirmation": Entry(lambda o: "not-the-password"),
    "next": Entry(lambda o: f"/organisations/{o.code}"),
    "role": Entry(lambda o: "viewer"),
    "roles": Entry(lambda o: ["viewer"]),
    "days": Entry(lambda o: "30"),
    "name": Entry(lambda o: "probe"),
    "owner": Entry(lambda o: o.code),  # an organisation code on the plan form, a person elsewhere
    "partners": Entry(lambda o: [o.code]),
    "partner": Entry(lambda o: o.code),
    "indicator": Entry(lambda o: o.indicator_code),
    "report": Entry(lambda o: "ipr"),
    "version": Entry(lambda o: "1"),
    "action": Entry(lambda o: "critique"),  # a real step: were it allowed, the foreign plan would change
    "status": Entry(lambda o: "done"),
    "reason": Entry(lambda o: "probe"),
    "withdrawal_reason": Entry(lambda o: "probe"),
    "commentary": Entry(lambda o: "probe"),
    "kind": Entry(lambda o: "recovery"),
    "title": Entry(lambda o: "probe"),
    "programme": Entry(lambda o: "probe"),
    "sro": Entry(lambda o: "probe"),
    "pmo_support": Entry(lambda o: "probe"),
    "national_target": Entry(lambda o: "probe"),
    "local_target": Entry(lambda o: "probe"),
    "longest_wait": Entry(lambda o: "probe"),
    "narrative": Entry(lambda o: "probe"),
    "queries_escalations": Entry(lambda o: "probe"),
    "delivered_this_month": Entry(lambda o: "probe"),
    "planned_next_month": Entry(lambda o: "probe"),
    "started_on": Entry(lambda o: "2026-01-01"),
    "description": Entry(lambda o: "probe"),
    "decision": Entry(lambda o: "probe"),
    # The judgement form (templates/partials/judgement_form.html): about a foreign subject, from its escalation page.
    "subject": Entry(lambda o: f"indicator:{o.indicator_code}"),
    "returns_to": Entry(lambda o: f"escalation:{o.escalation_id}"),
    "meeting_version": Entry(lambda o: "1"),
    "withdraw": Entry(lambda o: ""),
    "due_date": Entry(lambda o: "2026-12-01"),
    "due": Entry(lambda o: "2026-12-01"),
    "to_level": Entry(lambda o: "2"),
    "plan_id": Entry(lambda o: o.plan_id),
    "unit": Entry(lambda o: o.unit_code),
    "period": Entry(lambda o: "2019-01-01"),
    "value": Entry(lambda o: "0.5"),
    "numerator": Entry(lambda o: ""),
    "denominator": Entry(lambda o: ""),
    "rows": Entry(lambda o: f"{o.indicator_code}\t{o.unit_code}\t2019-01-01\t0.5"),
    "file": Entry(lambda o: ""),  # the import page's upload: an empty one, refused before any file is read
    "format": Entry(lambda o: "template"),
    "dry_run": Entry(lambda o: "1"),
    # The Notifications page (issue 15): ids of notifications addressed to someone else reach nothing.
    "ids": Entry(lambda o: [str(o.escalation_id)]),
    "all": Entry(lambda o: "yes"),
    # The maturity self-assessment form (issue 15): a level and its evidence for the organisation in the URL.
    "level": Entry(lambda o: "3"),
    "evidence": Entry(lambda o: "probe"),
    # The accountability review form (issue 15, ULHT 6): a division of the organisation in the URL, its levels and notes.
    "autonomy_level": Entry(lambda o: "0"),
    "escalation_level": Entry(lambda o: ""),
    "notes": Entry(lambda o: "probe"),
    # Programme records (issue 15, Sheffield 3.1): the foreign programme's milestone and risk; storable values.
    "milestone": Entry(lambda o: o.programme_milestone_id),
    "achieved_on": Entry(lambda o: "2026-01-01"),
    "due_on": Entry(lambda o: "2031-01-01"),
    "month": Entry(lambda o: "2026-01-01"),
    "realised": Entry(lambda o: "1000"),
    "planned": Entry(lambda o: "1000"),
    "risk": Entry(lambda o: o.programme_risk_id),
    "likelihood": Entry(lambda o: "2"),
    "impact": Entry(lambda o: "2"),
    "mitigation": Entry(lambda o: "probe"),
    # The create-programme form (issue 15): a new code in the organisation in the URL; the SRO is a person chosen by id.
    "code": Entry(lambda o: "probe"),
    "qipp_target": Entry(lambda o: "1000"),
    "starts_on": Entry(lambda o: "2026-01-01"),
    "ends_on": Entry(lambda o: "2027-01-01"),
    # Contract performance notices (issue 15): the indicators named, a step and its texts.
    "indicators": Entry(lambda o: [o.indicator_code]),
    "step": Entry(lambda o: "issue"),  # a real step: were it allowed, the notice would move
    "note": Entry(lambda o: "probe"),
    "remedial_plan": Entry(lambda o: "probe"),
    "remedial_plan_due": Entry(lambda o: "2099-01-01"),
}
FORM_FIELD_PATTERNS: dict[str, tuple[str, Entry]] = {  # pattern -> (a name sent, its value)
    r"lead_\w+": ("lead_delivery", Entry(lambda o: "probe")),
    r"attendance-\d+": ("attendance-0", Entry(lambda o: "present")),
    r"deputy-\d+": ("deputy-0", Entry(lambda o: "probe")),
    r"[a-z_]+-day": ("due-day", Entry(lambda o: "1")),
    r"[a-z_]+-month": ("due-month", Entry(lambda o: "12")),
    r"[a-z_]+-year": ("due-year", Entry(lambda o: "2026")),
    r"[a-z_]+\[day\]": ("due[day]", Entry(lambda o: "1")),
    r"[a-z_]+\[month\]": ("due[month]", Entry(lambda o: "12")),
    r"[a-z_]+\[year\]": ("due[year]", Entry(lambda o: "2026")),
    r"trajectory-\d{4}-\d{2}-\d{2}": ("trajectory-2026-04-01", Entry(lambda o: "0.5")),
}
# Query parameters of GET forms (filters), sent with every GET probe.
QUERY_PARAMETERS: dict[str, Entry] = {
    "indicator": Entry(lambda o: o.indicator_code),  # the data-entry form chooses the indicator first (a GET form)
    "unit": Entry(lambda o: o.unit_code),
    "domain": Entry(lambda o: "uec"),
    "set": Entry(lambda o: "all"),  # the system position's indicator set: a choice, common or all
    "cohort": Entry(lambda o: "referred"),  # issue 15: the IPR and the system position by patient cohort (WHSSC)
    "page": Entry(lambda o: "1"),
    "owner": Entry(lambda o: o.code),
    # List filters and sorting (system position, plans, escalations, audit trail): choices, never names of other organisations.
    "period": Entry(lambda o: "2026-10"),
    "sort": Entry(lambda o: "worst"),
    "state": Entry(lambda o: "all"),
    "kind": Entry(lambda o: "all"),
    "status": Entry(lambda o: "all"),
    "group": Entry(lambda o: f"system:{o.system_code}"),  # the benchmark page's peer group: a choice among the organisation's own
    "level": Entry(lambda o: "1"),
    "forum": Entry(lambda o: "all"),
    "show": Entry(lambda o: "unread"),  # the Notifications page: the caller's own, all or unread
    # The API page's explorer runs a query as the caller: a foreign organisation must answer null.
    "query": Entry(lambda o: '{ organisation(code: "%s") { name indicators(first: 5) { nodes { code name } } } }' % o.code),
    "variables": Entry(lambda o: ""),
}

# GraphQL arguments ("Type.field(argument)") and input fields ("InputType.field"); an argument
# whose type is an input object is built from its fields' entries.
GRAPHQL: dict[str, Entry] = {
    "Query.organisation(code)": Entry(lambda o: o.code, scope=True),
    "Query.plan(id)": Entry(lambda o: o.plan_id, names_object=True),
    "Mutation.agreePlan(planId)": Entry(lambda o: o.plan_id, scope=True),
    "Mutation.agreePlan(partnerCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.agreePlan(version)": Entry(lambda o: 1),
    "Mutation.advancePlan(planId)": Entry(lambda o: o.plan_id, scope=True),
    "Mutation.advancePlan(action)": Entry(lambda o: "critique"),
    "Mutation.advancePlan(version)": Entry(lambda o: 1),
    "Mutation.advancePlan(reason)": Entry(lambda o: "probe"),
    "Mutation.recordMeasurements(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordMeasurements(reason)": Entry(lambda o: "probe"),
    # importMeasurements (schema/imports.py, merged by the lead): a storable template row when all
    # foreign; a dry run when it names the caller's own organisation, so a refusal-free run changes nothing.
    "Mutation.importMeasurements(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.importMeasurements(file)": Entry(lambda o: base64.b64encode(
        f"Indicator code,Indicator,Unit code,Unit,Measured as,Period,Value,Numerator,Denominator\n"
        f"{o.indicator_code},,{o.unit_code},,,2019-01-01,,1,2\n".encode()).decode()),
    "Mutation.importMeasurements(filename)": Entry(lambda o: "probe.csv"),
    "Mutation.importMeasurements(format)": Entry(lambda o: "template"),
    "Mutation.importMeasurements(dryRun)": Entry(lambda o: False, own_scope_value=lambda o: True),
    "MeasurementInput.indicatorCode": Entry(lambda o: o.indicator_code, names_object=True),
    "MeasurementInput.unitCode": Entry(lambda o: o.unit_code, names_object=True),
    # A storable month when the request is all foreign (a write would show), and an unstorable
    # mid-month day when it names the caller's own organisation (so a refusal-free run changes nothing).
    "MeasurementInput.period": Entry(lambda o: "2019-01-01", own_scope_value=lambda o: "2019-01-15"),
    "MeasurementInput.value": Entry(lambda o: 0.5),
    "MeasurementInput.numerator": Entry(lambda o: None),
    "MeasurementInput.denominator": Entry(lambda o: None),
    "MeasurementInput.status": Entry(lambda o: "provisional"),
    "Organisation.indicators(keyOnly)": Entry(lambda o: True),  # key indicators exercise the same resolvers, faster
    "Organisation.escalations(includeClosed)": Entry(lambda o: True),
    "Indicator.assessment(unitCode)": Entry(lambda o: o.unit_code, names_object=True),
    "Indicator.recentMeasurements(limit)": Entry(lambda o: 3),  # a few rows prove the filter; hundreds only cost time
    # Federation entities are authorised like the root fields: a foreign organisation resolves to null.
    "Query._entities(representations)": Entry(lambda o: {"__typename": "Organisation", "code": o.code}, scope=True),
    "Indicator.outturn(unitCode)": Entry(lambda o: o.unit_code, names_object=True),
    "Indicator.series(unitCode)": Entry(lambda o: o.unit_code, names_object=True),
    "Indicator.series(from)": Entry(lambda o: "2025-01-01"),
    "Indicator.series(to)": Entry(lambda o: "2026-12-01"),
    "IndicatorFilter.domain": Entry(lambda o: None),  # unfiltered: every indicator is probed
    "IndicatorFilter.key": Entry(lambda o: True),
    "IndicatorFilter.source": Entry(lambda o: None),
    "IndicatorFilter.codes": Entry(lambda o: None),
    "IndicatorFilter.cohort": Entry(lambda o: None),  # unfiltered: every indicator is probed (issue 15: WHSSC cohorts)
    "Organisation.indicators(first)": Entry(lambda o: 3),  # a few prove the filter; the probe nests four levels deep
    "Organisation.indicators(after)": Entry(lambda o: None),
    "Organisation.indicator(code)": Entry(lambda o: o.indicator_code, names_object=True),
    "Organisation.escalations(status)": Entry(lambda o: None),
    "Organisation.escalations(minLevel)": Entry(lambda o: None),
    "Organisation.escalations(first)": Entry(lambda o: 5),
    "Organisation.escalations(after)": Entry(lambda o: None),
    "System.position(domain)": Entry(lambda o: None),
    "System.position(period)": Entry(lambda o: None),
    "System.position(cohort)": Entry(lambda o: None),
    "Query.organisations(first)": Entry(lambda o: 50),
    "Query.systems(first)": Entry(lambda o: 5),
    "Organisation.meetings(from)": Entry(lambda o: None),
    "Organisation.meetings(to)": Entry(lambda o: None),
    "Organisation.auditTrail(page)": Entry(lambda o: 1),
    "Query.systems(after)": Entry(lambda o: None),
    "Query.organisations(after)": Entry(lambda o: None),
    "Query.system(code)": Entry(lambda o: o.system_code, scope=True),
    "Query.indicatorComparison(code)": Entry(lambda o: o.indicator_code, names_object=True),
    "Query.indicatorComparison(period)": Entry(lambda o: None),
    "Query.indicatorComparisons(codes)": Entry(lambda o: o.indicator_code, names_object=True),
    "Query.indicatorComparisons(period)": Entry(lambda o: None),
    "Query.escalations(organisationCodes)": Entry(lambda o: o.code, scope=True),
    "Query.escalations(status)": Entry(lambda o: None),
    "Query.escalations(minLevel)": Entry(lambda o: None),
    "Query.escalations(first)": Entry(lambda o: 20),
    "Query.escalations(after)": Entry(lambda o: None),
    # Judgements (issue 11): read and recorded for one organisation; in the own-scope variants the subject
    # and meeting stay foreign (not found there) and the reason is blank, so those runs change nothing.
    "Query.judgements(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Query.judgements(subject)": Entry(lambda o: None),
    "Query.judgements(history)": Entry(lambda o: True),
    "Mutation.recordJudgement(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordJudgement(kind)": Entry(lambda o: "risk_rating"),
    "Mutation.recordJudgement(subject)": Entry(lambda o: f"indicator:{o.indicator_code}", names_object=True),
    "Mutation.recordJudgement(reason)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "Mutation.recordJudgement(value)": Entry(lambda o: "high"),
    "Mutation.recordJudgement(expiresOn)": Entry(lambda o: None),
    "Mutation.recordJudgement(withdraw)": Entry(lambda o: False),
    "Mutation.recordJudgement(meetingId)": Entry(lambda o: None),
    "Mutation.recordJudgement(meetingVersion)": Entry(lambda o: None),
    "Mutation.actOnEscalation(escalationId)": Entry(lambda o: o.escalation_id, scope=True),
    # Contract monitoring (issue 15): the target as the provider (no caller contracts with a target it cannot read);
    # in the own-scope variants a blank title and a stale version, so a refusal-free run changes nothing.
    "Query.contract(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Query.contract(providerCode)": Entry(lambda o: o.code, names_object=True),
    "Query.providerPosition(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Query.providerPosition(domain)": Entry(lambda o: None),
    "Query.providerPosition(cohort)": Entry(lambda o: None),
    "Mutation.raiseContractNotice(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.raiseContractNotice(providerCode)": Entry(lambda o: o.code, names_object=True),
    "Mutation.raiseContractNotice(title)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "Mutation.raiseContractNotice(reason)": Entry(lambda o: "probe"),
    "Mutation.raiseContractNotice(indicatorCodes)": Entry(lambda o: o.indicator_code, names_object=True),
    "Mutation.raiseContractNotice(kind)": Entry(lambda o: "performance"),
    "Mutation.advanceContractNotice(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.advanceContractNotice(noticeId)": Entry(lambda o: o.escalation_id, names_object=True),
    "Mutation.advanceContractNotice(step)": Entry(lambda o: "issue"),
    "Mutation.advanceContractNotice(expectedVersion)": Entry(lambda o: 1, own_scope_value=lambda o: 0),
    "Mutation.advanceContractNotice(note)": Entry(lambda o: "probe"),
    "Mutation.advanceContractNotice(remedialPlan)": Entry(lambda o: "probe"),
    "Mutation.advanceContractNotice(remedialPlanDue)": Entry(lambda o: None),
    # Running a meeting and the reporting schedule (issue 9's meeting mutations): a foreign meeting or
    # organisation; in the own-scope variants a stale version, a blank decision or an unknown report.
    "Mutation.recordAttendance(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordAttendance(meetingId)": Entry(lambda o: o.meeting_id, names_object=True),
    "Mutation.recordAttendance(version)": Entry(lambda o: 1, own_scope_value=lambda o: 0),
    "AttendanceInput.member": Entry(lambda o: "Chair"),
    "AttendanceInput.attendance": Entry(lambda o: "present"),
    "AttendanceInput.deputy": Entry(lambda o: None),
    "Mutation.recordDecision(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordDecision(meetingId)": Entry(lambda o: o.meeting_id, names_object=True),
    "Mutation.recordDecision(version)": Entry(lambda o: 1, own_scope_value=lambda o: 0),
    "Mutation.recordDecision(decision)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "Mutation.markReportIssued(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.markReportIssued(report)": Entry(lambda o: "IPR", own_scope_value=lambda o: "NO-SUCH-REPORT"),
    "Mutation.markReportIssued(due)": Entry(lambda o: "2026-12-01"),
    "Organisation.dataPacks(first)": Entry(lambda o: 10),
    "Organisation.dataPacks(after)": Entry(lambda o: None),
    "Mutation.actOnEscalation(action)": Entry(lambda o: "ACKNOWLEDGE"),
    # In the "own scope" variants the request names the caller's own object, where acting is its right:
    # a stale version, a blank title or description and an unknown status make those runs change nothing.
    "Mutation.actOnEscalation(version)": Entry(lambda o: 1, own_scope_value=lambda o: 0),
    "Mutation.actOnEscalation(reason)": Entry(lambda o: "probe"),
    "Mutation.actOnEscalation(toLevel)": Entry(lambda o: None),
    "Mutation.actOnEscalation(planId)": Entry(lambda o: o.plan_id, names_object=True),
    "PlanDraftInput.ownerCode": Entry(lambda o: o.code, scope=True),
    # Recalculation of SPC limits (issue 13): a foreign series or decision; the own-scope variant's reason is blank.
    "Mutation.recordRecalculation(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordRecalculation(indicatorCode)": Entry(lambda o: o.indicator_code, names_object=True),
    "Mutation.recordRecalculation(unitCode)": Entry(lambda o: None),
    "Mutation.recordRecalculation(period)": Entry(lambda o: "2019-01-01"),
    "Mutation.recordRecalculation(reason)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "Mutation.withdrawRecalculation(recalculationId)": Entry(lambda o: o.recalculation_id, scope=True),
    "Mutation.withdrawRecalculation(reason)": Entry(lambda o: "probe"),
    # Notifications (issue 15): the caller's own; another person's ids reach nothing.
    "Query.notifications(unreadOnly)": Entry(lambda o: False),
    "Mutation.markNotificationsRead(ids)": Entry(lambda o: [o.escalation_id]),
    # Maturity self-assessment and benchmarking (issue 15): one organisation's; the own-scope variant's evidence is blank.
    "Query.maturityAssessments(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Query.maturityAssessments(history)": Entry(lambda o: True),
    "Mutation.recordMaturityAssessment(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordMaturityAssessment(level)": Entry(lambda o: 3),
    "Mutation.recordMaturityAssessment(evidence)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "Mutation.recordMaturityAssessment(programme)": Entry(lambda o: None),
    # Earned autonomy (issue 15, ULHT 6): one organisation's divisions; the own-scope variant's notes are blank.
    "Query.earnedAutonomy(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Query.earnedAutonomy(unitCode)": Entry(lambda o: o.unit_code, names_object=True),
    "Query.earnedAutonomy(history)": Entry(lambda o: True),
    "Mutation.recordAccountabilityReview(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.recordAccountabilityReview(unitCode)": Entry(lambda o: o.unit_code, names_object=True),
    "Mutation.recordAccountabilityReview(heldOn)": Entry(lambda o: "2026-01-01"),
    "Mutation.recordAccountabilityReview(autonomyLevel)": Entry(lambda o: 0),
    "Mutation.recordAccountabilityReview(escalationLevel)": Entry(lambda o: None),
    "Mutation.recordAccountabilityReview(notes)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    # Programme records (issue 15): one organisation's; the programme, milestone and risk stay foreign in every variant.
    "Organisation.programmes(code)": Entry(lambda o: None),
    "Organisation.programmes(includeClosed)": Entry(lambda o: True),
    **{f"Mutation.{field}(organisationCode)": Entry(lambda o: o.code, scope=True) for field in (
        "recordProgrammeMilestoneAchieved", "addProgrammeMilestone", "recordProgrammeQipp", "saveProgrammeRisk")},
    **{f"Mutation.{field}(programmeCode)": Entry(lambda o: o.programme_code, names_object=True) for field in (
        "recordProgrammeMilestoneAchieved", "addProgrammeMilestone", "recordProgrammeQipp", "saveProgrammeRisk")},
    "Mutation.editProgramme(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.editProgramme(programmeCode)": Entry(lambda o: o.programme_code, names_object=True),
    "Mutation.editProgramme(name)": Entry(lambda o: "probe"),
    "Mutation.editProgramme(status)": Entry(lambda o: "active"),
    "Mutation.editProgramme(sroUserId)": Entry(lambda o: None),
    "Mutation.editProgramme(startsOn)": Entry(lambda o: None),
    "Mutation.editProgramme(endsOn)": Entry(lambda o: None),
    "Mutation.editProgramme(version)": Entry(lambda o: None),
    "Mutation.createProgramme(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Mutation.createProgramme(programmeCode)": Entry(lambda o: o.programme_code),
    "Mutation.createProgramme(name)": Entry(lambda o: "probe"),
    "Mutation.createProgramme(sroUserId)": Entry(lambda o: 0),
    "Mutation.createProgramme(startsOn)": Entry(lambda o: "2026-01-01"),
    "Mutation.createProgramme(endsOn)": Entry(lambda o: None),
    "Mutation.createProgramme(qippTarget)": Entry(lambda o: 1000.0),
    "Mutation.recordProgrammeMilestoneAchieved(milestoneId)": Entry(lambda o: o.programme_milestone_id, names_object=True),
    "Mutation.recordProgrammeMilestoneAchieved(achievedOn)": Entry(lambda o: "2026-01-01"),
    "Mutation.addProgrammeMilestone(title)": Entry(lambda o: "probe"),
    "Mutation.addProgrammeMilestone(dueOn)": Entry(lambda o: "2031-01-01"),
    "Mutation.recordProgrammeQipp(month)": Entry(lambda o: "2026-01-01"),
    "Mutation.recordProgrammeQipp(realised)": Entry(lambda o: 1000.0),
    "Mutation.recordProgrammeQipp(planned)": Entry(lambda o: None),
    "Mutation.saveProgrammeRisk(description)": Entry(lambda o: "probe"),
    "Mutation.saveProgrammeRisk(likelihood)": Entry(lambda o: 2),
    "Mutation.saveProgrammeRisk(impact)": Entry(lambda o: 2),
    "Mutation.saveProgrammeRisk(owner)": Entry(lambda o: "probe"),
    "Mutation.saveProgrammeRisk(mitigation)": Entry(lambda o: "probe"),
    "Mutation.saveProgrammeRisk(status)": Entry(lambda o: "open"),
    "Mutation.saveProgrammeRisk(riskId)": Entry(lambda o: o.programme_risk_id, names_object=True),
    "Mutation.saveProgrammeRisk(version)": Entry(lambda o: None),
    "Query.benchmark(organisationCode)": Entry(lambda o: o.code, scope=True),
    "Query.benchmark(indicatorCode)": Entry(lambda o: o.indicator_code, names_object=True),
    "Query.benchmark(group)": Entry(lambda o: f"system:{o.system_code}"),
    "Query.benchmark(period)": Entry(lambda o: None),
    "PlanDraftInput.title": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "PlanDraftInput.kind": Entry(lambda o: "recovery"),
    "PlanDraftInput.sro": Entry(lambda o: "probe"),
    "PlanDraftInput.programme": Entry(lambda o: "probe"),
    "PlanDraftInput.indicatorCode": Entry(lambda o: o.indicator_code, names_object=True),
    "PlanDraftInput.indicatorOrganisationCode": Entry(lambda o: o.code, names_object=True),
    "PlanDraftInput.partnerCodes": Entry(lambda o: o.code),
    "PlanDraftInput.leads": Entry(lambda o: {}),
    "PlanDraftInput.pmoSupport": Entry(lambda o: "probe"),
    "PlanDraftInput.nationalTarget": Entry(lambda o: "probe"),
    "PlanDraftInput.localTarget": Entry(lambda o: "probe"),
    "PlanDraftInput.longestWait": Entry(lambda o: "probe"),
    "PlanDraftInput.narrative": Entry(lambda o: "probe"),
    "PlanDraftInput.startedOn": Entry(lambda o: "2026-01-01"),
    "PlanDraftInput.trajectory": Entry(lambda o: {}),
    "Mutation.addPlanAction(planId)": Entry(lambda o: o.plan_id, scope=True),
    "Mutation.addPlanAction(description)": Entry(lambda o: "probe", own_scope_value=lambda o: " "),
    "Mutation.addPlanAction(owner)": Entry(lambda o: "probe"),
    "Mutation.addPlanAction(dueDate)": Entry(lambda o: "2026-12-01"),
    "Mutation.setPlanActionStatus(planId)": Entry(lambda o: o.plan_id, scope=True),
    "Mutation.setPlanActionStatus(actionId)": Entry(lambda o: o.plan_action_id, names_object=True),
    "Mutation.setPlanActionStatus(status)": Entry(lambda o: "done", own_scope_value=lambda o: "not-a-status"),
    "Query.plans(first)": Entry(lambda o: 20),
    "Query.plans(after)": Entry(lambda o: None),
}

SESSION_ENDING = {("POST", "/logout")}  # probed last, so the caller's one login serves every other probe
MAX_GRAPHQL_DEPTH = 4


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    path: str
    form: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    graphql: str | None = None
    sent: frozenset[str] = frozenset()  # text we sent: echoing it back is not a leak
    all_foreign: bool = True


def template_path(route: Route) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)


def path_parameter_keys(route: Route) -> list[tuple[str, str]]:
    """(parameter, registry key) in path order."""
    path = template_path(route)
    return [(match.group(1), path[: match.end()]) for match in re.finditer(r"\{(\w+)\}", path)]


def form_entry(name: str) -> Entry | None:
    if name in FORM_FIELDS:
        return FORM_FIELDS[name]
    for pattern, (_, entry) in FORM_FIELD_PATTERNS.items():
        if re.fullmatch(pattern, name):
            return entry
    return None


def route_probes(routes: list[Route], target: OrgObjects, own: OrgObjects | None) -> list[Probe]:
    probes: list[Probe] = []
    for route in routes:
        if route.path.startswith(OPEN_PATHS):  # health probes: served before anyone is authenticated, about no one
            continue
        for method in sorted(route.methods - {"HEAD"}):
            keys = path_parameter_keys(route)
            own_prefixes = range(max(1, len(keys))) if own is not None else range(1)
            for own_count in own_prefixes:  # 0: all foreign; k: the first k parameters the caller's own
                values = {
                    name: PATH_PARAMETERS[key].value(own if index < own_count else target)
                    for index, (name, key) in enumerate(keys)
                }
                path = template_path(route).format(**values)
                form = _hostile_form(target) if method != "GET" else None
                query = {name: entry.value(target) for name, entry in QUERY_PARAMETERS.items()} if method == "GET" else None
                sent = {str(v) for v in values.values()} | _texts(form) | _texts(query)
                label = f"{method} {template_path(route)}" + (f" [own {', '.join(n for n, _ in keys[:own_count])}]" if own_count else "")
                probes.append(Probe(label, method, path, form=form, query=query, sent=frozenset(sent), all_foreign=own_count == 0))
    return sorted(probes, key=lambda p: (p.method, template_path_of(p)) in SESSION_ENDING)


def template_path_of(probe: Probe) -> str:
    return probe.label.split(" ")[1]


def _hostile_form(target: OrgObjects) -> dict[str, Any]:
    form = {name: entry.value(target) for name, entry in FORM_FIELDS.items() if name != "csrf_token"}
    form.update({sample: entry.value(target) for sample, entry in FORM_FIELD_PATTERNS.values()})
    return {name: value for name, value in form.items() if value is not None}


def _texts(values: dict[str, Any] | None) -> set[str]:
    found: set[str] = set()
    for value in (values or {}).values():
        found.update(str(v) for v in (value if isinstance(value, list) else [value]))
    return found


def graphql_probes(schema: GraphQLSchema, target: OrgObjects, own: OrgObjects | None) -> list[Probe]:
    probes: list[Probe] = []
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        if root is None:
            continue
        for name, root_field in root.fields.items():
            scopes = _scope_arguments(root.name, name, root_field) if own is not None else []
            for own_argument in [None, *scopes]:  # all foreign, then each scope argument the caller's own in turn
                builder = _QueryBuilder(target, own, own_argument)
                selection = builder.field(root.name, name, root_field, depth=1)
                document = f"{operation} {{ {selection} }}"
                probes.append(Probe(
                    f"graphql {operation} {name}" + (f" [own {_argument_name(own_argument)}]" if own_argument else ""), "POST",
                    "/graphql", graphql=document, sent=frozenset(builder.sent), all_foreign=own_argument is None,
                ))
    return probes


def _argument_name(key: str) -> str:
    """'Type.field(argument)' -> 'argument'; 'InputType.field' -> 'field'."""
    return key.split("(")[1][:-1] if "(" in key else key.rsplit(".", 1)[-1]


def _scope_arguments(type_name: str, field_name: str, root_field) -> list[str]:  # type: ignore[no-untyped-def]
    """Scope arguments to make the caller's own in turn — only where something foreign would remain
    (an all-own request is the caller's legitimate business, and may legitimately change things)."""
    keys = _argument_keys(f"{type_name}.{field_name}", root_field.args)
    identifying = [key for key in keys if key in GRAPHQL and (GRAPHQL[key].scope or GRAPHQL[key].names_object)]
    return [key for key in keys if key in GRAPHQL and GRAPHQL[key].scope] if len(identifying) >= 2 else []


def _argument_keys(field_key: str, arguments) -> list[str]:  # type: ignore[no-untyped-def]
    """Registry keys of a field's arguments, input objects opened up to their fields."""
    keys: list[str] = []
    for name, definition in arguments.items():
        named = get_named_type(definition.type)
        keys.extend(_input_keys(named) if isinstance(named, GraphQLInputObjectType) else [f"{field_key}({name})"])
    return keys


def _input_keys(named: GraphQLInputObjectType) -> list[str]:
    keys: list[str] = []
    for name, definition in named.fields.items():
        child = get_named_type(definition.type)
        keys.extend(_input_keys(child) if isinstance(child, GraphQLInputObjectType) else [f"{named.name}.{name}"])
    return keys


@dataclass
class _QueryBuilder:
    target: OrgObjects
    own: OrgObjects | None
    own_argument: str | None  # the scope argument given the caller's own value, if any
    sent: set[str] = field(default_factory=set)

    def value(self, key: str) -> Any:
        entry = GRAPHQL[key]
        if key == self.own_argument:
            value = entry.value(self.own)
        elif self.own_argument and entry.own_scope_value is not None:
            value = entry.own_scope_value(self.target)
        else:
            value = entry.value(self.target)
        if value is not None:
            self.sent.add(str(value))
        return value

    def field(self, type_name: str, name: str, definition, depth: int) -> str:  # type: ignore[no-untyped-def]
        arguments = ", ".join(
            f"{arg}: {_literal(self.argument(f'{type_name}.{name}({arg})', arg_def.type))}" for arg, arg_def in definition.args.items()
        )
        named = get_named_type(definition.type)
        head = f"{name}({arguments})" if arguments else name
        if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            return head
        return f"{head} {self.selection(named, depth + 1)}"

    def argument(self, key: str, type_) -> Any:  # type: ignore[no-untyped-def]
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            item = self.argument(key, inner.of_type)
            return None if item is None else [item]
        if isinstance(inner, GraphQLInputObjectType):
            return {name: self.argument(f"{inner.name}.{name}", f.type) for name, f in inner.fields.items()}
        if isinstance(inner, GraphQLEnumType):
            value = self.value(key)
            return None if value is None else EnumName(value)
        return self.value(key)

    def selection(self, named, depth: int) -> str:  # type: ignore[no-untyped-def]
        if isinstance(named, (GraphQLUnionType, GraphQLInterfaceType)):
            members = named.types if isinstance(named, GraphQLUnionType) else []
            return "{ __typename " + " ".join(f"... on {m.name} {self.selection(m, depth)}" for m in members) + " }"
        assert isinstance(named, GraphQLObjectType)
        parts = ["__typename"]
        for name, definition in named.fields.items():
            child = get_named_type(definition.type)
            if isinstance(child, (GraphQLScalarType, GraphQLEnumType)) or depth < MAX_GRAPHQL_DEPTH:
                parts.append(self.field(named.name, name, definition, depth))
        return "{ " + " ".join(parts) + " }"


class EnumName(str):
    """An enum value: written bare in a GraphQL document, not as a string."""


def _literal(value: Any) -> str:
    if isinstance(value, EnumName):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no GraphQL literal for {value!r}")


def missing_entries(routes: list[Route], schema: GraphQLSchema) -> list[str]:
    """Every path parameter, GraphQL argument and input field without a registry entry."""
    missing = [
        f"PATH_PARAMETERS[{key!r}] (route {route.path})"
        for route in routes for _, key in path_parameter_keys(route) if key not in PATH_PARAMETERS
    ]
    seen: set[str] = set()

    def walk(named) -> None:  # type: ignore[no-untyped-def]
        if named.name in seen or named.name.startswith("__"):
            return
        seen.add(named.name)
        if isinstance(named, GraphQLInputObjectType):
            for name, input_field in named.fields.items():
                child = get_named_type(input_field.type)
                if isinstance(child, GraphQLInputObjectType):
                    walk(child)
                elif f"{named.name}.{name}" not in GRAPHQL:
                    missing.append(f"GRAPHQL['{named.name}.{name}']")
        elif isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for name, definition in named.fields.items():
                for arg, arg_def in definition.args.items():
                    child = get_named_type(arg_def.type)
                    if isinstance(child, GraphQLInputObjectType):
                        walk(child)
                    elif f"{named.name}.{name}({arg})" not in GRAPHQL:
                        missing.append(f"GRAPHQL['{named.name}.{name}({arg})']")
                walk(get_named_type(definition.type))
        elif isinstance(named, GraphQLUnionType):
            for member in named.types:
                walk(member)

    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            walk(root)
    return missing
