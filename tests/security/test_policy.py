"""The accountability matrix row by row (pycasbin's own style): who, holding which role where, may do
what. Each row reads "<role> held for <home> asking in <domain>: <act> <obj> -> allowed?".

Org roles are held for SaTH (org:RXW), system roles for the STW system (system:STW). The table
must name every permission in policies/policy.csv as allowed (so a policy change shows up here as
a reviewed diff), and every permission is refused in every other domain.
"""
from __future__ import annotations

import csv

import pytest

from server.auth.authz import Assignment, Authorizer, Principal
from server.settings import PROJECT_ROOT

HOME_ORG, OTHER_ORG = "org:RXW", "org:RWD"  # SaTH; ULHT (another trust, outside the system)
HOME_SYSTEM, OTHER_SYSTEM = "system:STW", "system:OTHER"
SIBLING = "org:RL1"  # RJAH: a fellow member of the STW system
HOME_REGION, NATIONAL = "region:Y60", "national"  # NHS England Midlands (STW's region); every organisation

ALLOW, DENY = True, False
TABLE = [
    # role, asked in, object, action, allowed
    ("viewer", HOME_ORG, "organisation", "read", ALLOW),
    ("viewer", HOME_ORG, "measurement", "submit", DENY),
    ("viewer", HOME_ORG, "report", "mark_issued", DENY),
    ("viewer", OTHER_ORG, "organisation", "read", DENY),
    ("board_member", HOME_ORG, "organisation", "read", ALLOW),
    ("board_member", HOME_ORG, "escalation", "decide_oversight", ALLOW),
    ("board_member", HOME_ORG, "improvement_plan", "sign_partner", ALLOW),
    ("board_member", HOME_ORG, "improvement_plan", "edit", DENY),
    ("board_member", SIBLING, "improvement_plan", "sign_partner", DENY),  # signs for its own trust only
    ("committee_member", HOME_ORG, "organisation", "read", ALLOW),
    ("committee_member", HOME_ORG, "escalation", "decide_assurance", ALLOW),
    ("committee_member", HOME_ORG, "escalation", "decide_oversight", DENY),
    ("executive", HOME_ORG, "organisation", "read", ALLOW),
    ("executive", HOME_ORG, "escalation", "acknowledge", ALLOW),
    ("executive", HOME_ORG, "escalation", "manage", ALLOW),
    ("executive", HOME_ORG, "escalation", "override", ALLOW),
    ("executive", HOME_ORG, "improvement_plan", "sign_partner", ALLOW),
    ("executive", HOME_ORG, "improvement_plan", "edit", ALLOW),
    ("executive", HOME_ORG, "meeting", "manage", ALLOW),
    ("executive", HOME_ORG, "report", "mark_issued", ALLOW),
    ("executive", HOME_ORG, "measurement", "submit", DENY),
    ("executive", HOME_ORG, "role_assignment", "manage", DENY),
    ("executive", HOME_ORG, "spc_recalculation", "record", DENY),
    # The owner's commentary on a period (issue 14): executives, the performance team, divisional triumvirates.
    ("executive", HOME_ORG, "commentary", "write", ALLOW),
    ("planning_performance_lead", HOME_ORG, "commentary", "write", ALLOW),
    ("performance_manager", HOME_ORG, "commentary", "write", ALLOW),
    ("divisional_triumvirate", HOME_ORG, "commentary", "write", ALLOW),
    ("viewer", HOME_ORG, "commentary", "write", DENY),
    ("executive", SIBLING, "commentary", "write", DENY),
    # Contract performance notices (issue 15, Sheffield 3.3): contract managers raise and record the agreed plan;
    # the Contract Management Board (an executive) issues, closes and withdraws.
    ("commissioner", HOME_ORG, "contract_notice", "raise", ALLOW),
    ("performance_manager", HOME_ORG, "contract_notice", "raise", ALLOW),
    ("executive", HOME_ORG, "contract_notice", "raise", ALLOW),
    ("viewer", HOME_ORG, "contract_notice", "raise", DENY),
    ("commissioner", HOME_ORG, "contract_notice", "issue", DENY),
    ("executive", HOME_ORG, "contract_notice", "issue", ALLOW),
    ("commissioner", HOME_ORG, "contract_notice", "agree_plan", ALLOW),
    ("executive", HOME_ORG, "contract_notice", "agree_plan", ALLOW),
    ("performance_manager", HOME_ORG, "contract_notice", "agree_plan", DENY),
    ("executive", HOME_ORG, "contract_notice", "close", ALLOW),
    ("commissioner", HOME_ORG, "contract_notice", "close", DENY),
    ("executive", HOME_ORG, "contract_notice", "withdraw", ALLOW),
    ("commissioner", HOME_ORG, "contract_notice", "withdraw", DENY),
    ("executive", SIBLING, "contract_notice", "issue", DENY),
    # Programme records (issue 15, Sheffield 3.1): the PMO keeps the record; the PMO and programme leads record progress.
    ("programme_office", HOME_ORG, "organisation", "read", ALLOW),
    ("programme_office", HOME_ORG, "programme", "manage", ALLOW),
    ("programme_office", HOME_ORG, "programme", "record", ALLOW),
    ("programme_lead", HOME_ORG, "organisation", "read", ALLOW),
    ("programme_lead", HOME_ORG, "programme", "record", ALLOW),
    ("programme_lead", HOME_ORG, "programme", "manage", DENY),
    ("programme_office", SIBLING, "programme", "record", DENY),
    ("executive", HOME_ORG, "programme", "record", DENY),
    ("programme_office", HOME_ORG, "programme", "create", ALLOW),
    ("programme_lead", HOME_ORG, "programme", "create", DENY),
    ("executive", HOME_ORG, "programme", "create", DENY),
    ("executive", HOME_ORG, "programme", "sponsor", ALLOW),  # may be a programme's Senior Responsible Owner
    ("programme_office", HOME_ORG, "programme", "sponsor", DENY),
    ("viewer", HOME_ORG, "programme", "record", DENY),
    ("performance_manager", HOME_ORG, "programme", "manage", DENY),
    ("executive", SIBLING, "improvement_plan", "sign_partner", DENY),
    ("planning_performance_lead", HOME_ORG, "organisation", "read", ALLOW),
    ("planning_performance_lead", HOME_ORG, "measurement", "submit", ALLOW),
    ("planning_performance_lead", HOME_ORG, "measurement", "validate", ALLOW),
    ("planning_performance_lead", HOME_ORG, "improvement_plan", "draft", ALLOW),
    ("planning_performance_lead", HOME_ORG, "improvement_plan", "edit", ALLOW),
    ("planning_performance_lead", HOME_ORG, "escalation", "acknowledge", ALLOW),
    ("planning_performance_lead", HOME_ORG, "meeting", "manage", ALLOW),
    ("planning_performance_lead", HOME_ORG, "report", "mark_issued", ALLOW),
    ("planning_performance_lead", HOME_ORG, "audit", "read", ALLOW),
    # Making Data Count: the performance team records (and may withdraw) a recalculation of SPC limits.
    ("planning_performance_lead", HOME_ORG, "spc_recalculation", "record", ALLOW),
    ("planning_performance_lead", HOME_ORG, "spc_recalculation", "withdraw", ALLOW),
    ("planning_performance_lead", SIBLING, "spc_recalculation", "record", DENY),
    ("planning_performance_lead", HOME_ORG, "improvement_plan", "sign_off_formal", DENY),
    ("performance_manager", HOME_ORG, "organisation", "read", ALLOW),
    ("performance_manager", HOME_ORG, "measurement", "submit", ALLOW),
    ("performance_manager", HOME_ORG, "measurement", "validate", ALLOW),
    ("performance_manager", HOME_ORG, "escalation", "acknowledge", ALLOW),
    ("performance_manager", HOME_ORG, "escalation", "manage", ALLOW),
    ("performance_manager", HOME_ORG, "improvement_plan", "edit", ALLOW),
    # Trust performance leads (ULHT) and THGPCG's operational lead draft their own recovery / exception plans.
    ("performance_manager", HOME_ORG, "improvement_plan", "draft", ALLOW),
    ("performance_manager", SIBLING, "improvement_plan", "draft", DENY),
    ("performance_manager", HOME_ORG, "spc_recalculation", "record", ALLOW),
    ("performance_manager", HOME_ORG, "spc_recalculation", "withdraw", ALLOW),
    ("performance_manager", HOME_ORG, "meeting", "manage", ALLOW),
    ("performance_manager", HOME_ORG, "report", "mark_issued", ALLOW),
    ("performance_manager", SIBLING, "report", "mark_issued", DENY),
    ("performance_manager", HOME_ORG, "audit", "read", ALLOW),
    ("performance_manager", HOME_ORG, "escalation", "override", DENY),
    ("performance_manager", OTHER_ORG, "measurement", "submit", DENY),
    ("data_submitter", HOME_ORG, "organisation", "read", ALLOW),
    ("data_submitter", HOME_ORG, "measurement", "submit", ALLOW),
    ("data_submitter", HOME_ORG, "report", "mark_issued", DENY),
    ("data_submitter", HOME_ORG, "measurement", "validate", DENY),  # who enters data does not validate it
    ("data_submitter", HOME_ORG, "audit", "read", DENY),
    ("divisional_triumvirate", HOME_ORG, "organisation", "read", ALLOW),
    ("divisional_triumvirate", HOME_ORG, "measurement", "submit", ALLOW),
    ("divisional_triumvirate", HOME_ORG, "improvement_plan", "edit", ALLOW),
    ("divisional_triumvirate", HOME_ORG, "measurement", "validate", DENY),
    ("tenant_admin", HOME_ORG, "organisation", "read", ALLOW),
    ("tenant_admin", HOME_ORG, "role_assignment", "manage", ALLOW),
    ("tenant_admin", HOME_ORG, "api_token", "manage", ALLOW),
    ("tenant_admin", HOME_ORG, "audit", "read", ALLOW),
    ("tenant_admin", HOME_ORG, "measurement", "submit", DENY),  # administers people, not data
    ("tenant_admin", OTHER_ORG, "role_assignment", "manage", DENY),
    ("tenant_admin", HOME_SYSTEM, "role_assignment", "manage", DENY),
    ("commissioner", HOME_ORG, "contractual_indicators", "read", ALLOW),
    ("commissioner", HOME_ORG, "organisation", "read", DENY),  # what it reads of providers is resolved in SQL
    ("commissioner", HOME_ORG, "meeting", "manage", ALLOW),  # WHSSC schedules its SLA meetings with providers
    ("commissioner", SIBLING, "meeting", "manage", DENY),
    ("commissioner", HOME_ORG, "report", "mark_issued", ALLOW),  # WHSSC's returns from its SLA meetings
    ("external_tool", HOME_ORG, "organisation", "read", ALLOW),
    ("external_tool", HOME_ORG, "measurement", "submit", DENY),
    ("system_viewer", HOME_SYSTEM, "system", "read", ALLOW),
    ("system_viewer", HOME_SYSTEM, "improvement_plan", "draft", DENY),
    ("system_viewer", "org:STW", "system", "read", DENY),  # a system role is not an organisation role
    ("system_planning_lead", HOME_SYSTEM, "system", "read", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "improvement_plan", "draft", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "improvement_plan", "edit", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "improvement_plan", "present", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "escalation", "acknowledge", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "meeting", "manage", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "report", "mark_issued", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "improvement_plan", "sign_off_formal", DENY),
    ("system_planning_lead", SIBLING, "improvement_plan", "draft", DENY),
    ("delivery_group_member", HOME_SYSTEM, "system", "read", ALLOW),
    ("delivery_group_member", HOME_SYSTEM, "improvement_plan", "critique", ALLOW),
    ("delivery_group_member", HOME_SYSTEM, "improvement_plan", "oversee", ALLOW),
    ("delivery_group_member", HOME_SYSTEM, "improvement_plan", "sign_off_formal", DENY),
    ("commissioning_working_group", HOME_SYSTEM, "system", "read", ALLOW),
    ("commissioning_working_group", HOME_SYSTEM, "improvement_plan", "sign_off_formal", ALLOW),
    ("commissioning_working_group", HOME_SYSTEM, "improvement_plan", "critique", DENY),
    ("commissioning_working_group", OTHER_SYSTEM, "improvement_plan", "sign_off_formal", DENY),
    ("system_committee_member", HOME_SYSTEM, "system", "read", ALLOW),
    ("system_committee_member", HOME_SYSTEM, "escalation", "decide_assurance", ALLOW),
    ("system_committee_member", "org:STW", "escalation", "decide_assurance", DENY),
    ("system_tenant_admin", HOME_SYSTEM, "system", "read", ALLOW),
    ("system_tenant_admin", HOME_SYSTEM, "role_assignment", "manage", ALLOW),
    ("system_tenant_admin", HOME_SYSTEM, "api_token", "manage", ALLOW),
    ("system_tenant_admin", HOME_SYSTEM, "audit", "read", ALLOW),
    ("system_tenant_admin", SIBLING, "role_assignment", "manage", DENY),  # members are reached in SQL (server/admin/authority.py)
    ("system_tenant_admin", OTHER_SYSTEM, "role_assignment", "manage", DENY),
    ("regional_analyst", HOME_REGION, "region", "read", ALLOW),
    ("regional_analyst", HOME_REGION, "organisation", "read", DENY),  # reads through the region, never a domain of its own
    ("regional_analyst", "region:Y61", "region", "read", DENY),
    ("regional_analyst", NATIONAL, "national", "read", DENY),
    ("national_analyst", NATIONAL, "national", "read", ALLOW),
    ("national_analyst", NATIONAL, "measurement", "submit", DENY),
    ("national_analyst", HOME_REGION, "region", "read", DENY),
    # Judgements (issue 11): the tenant file narrows each kind to some of these roles.
    ("executive", HOME_ORG, "judgement", "record", ALLOW),
    ("board_member", HOME_ORG, "judgement", "record", ALLOW),
    ("committee_member", HOME_ORG, "judgement", "record", ALLOW),
    ("planning_performance_lead", HOME_ORG, "judgement", "record", ALLOW),
    ("performance_manager", HOME_ORG, "judgement", "record", ALLOW),
    ("commissioner", HOME_ORG, "judgement", "record", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "judgement", "record", ALLOW),
    ("delivery_group_member", HOME_SYSTEM, "judgement", "record", ALLOW),
    ("system_committee_member", HOME_SYSTEM, "judgement", "record", ALLOW),
    ("viewer", HOME_ORG, "judgement", "record", DENY),
    ("data_submitter", HOME_ORG, "judgement", "record", DENY),  # who enters data does not judge it
    ("executive", SIBLING, "judgement", "record", DENY),
    # Notifications (issue 15): administrators read the outbox for what they administer; nobody else does.
    ("tenant_admin", HOME_ORG, "notification_outbox", "read", ALLOW),
    ("system_tenant_admin", HOME_SYSTEM, "notification_outbox", "read", ALLOW),
    ("tenant_admin", OTHER_ORG, "notification_outbox", "read", DENY),
    ("executive", HOME_ORG, "notification_outbox", "read", DENY),
    ("system_planning_lead", HOME_SYSTEM, "notification_outbox", "read", DENY),
    # Maturity self-assessment (issue 15): the performance function records its own organisation's level,
    # the system planning lead the system's; nobody records another organisation's.
    ("planning_performance_lead", HOME_ORG, "maturity_assessment", "record", ALLOW),
    ("performance_manager", HOME_ORG, "maturity_assessment", "record", ALLOW),
    ("system_planning_lead", HOME_SYSTEM, "maturity_assessment", "record", ALLOW),
    ("performance_manager", SIBLING, "maturity_assessment", "record", DENY),
    ("system_planning_lead", OTHER_SYSTEM, "maturity_assessment", "record", DENY),
    ("executive", HOME_ORG, "maturity_assessment", "record", DENY),
    ("viewer", HOME_ORG, "maturity_assessment", "record", DENY),
    ("delivery_group_member", HOME_SYSTEM, "maturity_assessment", "record", DENY),
    # Earned autonomy (issue 15, ULHT 6): the Executive Team records the six-monthly accountability review
    # of its own trust's divisions; the divisions it holds to account, and other organisations, do not.
    ("executive", HOME_ORG, "accountability_review", "record", ALLOW),
    ("executive", OTHER_ORG, "accountability_review", "record", DENY),
    ("divisional_triumvirate", HOME_ORG, "accountability_review", "record", DENY),
    ("performance_manager", HOME_ORG, "accountability_review", "record", DENY),
    ("viewer", HOME_ORG, "accountability_review", "record", DENY),
]


def _policy_rows() -> set[tuple[str, str, str]]:
    with (PROJECT_ROOT / "policies" / "policy.csv").open() as file:
        rows = [[cell.strip() for cell in row] for row in csv.reader(file) if row and row[0].strip() == "p"]
    assert all(row[2] == "*" for row in rows), "base policy rows apply in any domain; relationships live in SQL"
    return {(row[1], row[3], row[4]) for row in rows}


POLICY = _policy_rows()
SYSTEM_ROLES = {role for role, obj, act in POLICY if (obj, act) == ("system", "read")}


@pytest.fixture(scope="module")
def authorizer() -> Authorizer:
    return Authorizer(PROJECT_ROOT / "policies")


def _holder(authorizer: Authorizer, role: str, domain: str) -> Principal:
    principal = Principal(subject=f"user:{role}@{domain}", user_id=0, name=role, email="", assignments=(Assignment(role, domain),))
    authorizer.sync_subject(principal)
    return principal


def _home(role: str) -> str:
    homes = {role: home for role, home, obj, act, allowed in TABLE if allowed and (obj, act) in (("region", "read"), ("national", "read"))}
    return homes.get(role) or (HOME_SYSTEM if role in SYSTEM_ROLES else HOME_ORG)


@pytest.mark.parametrize("role,domain,obj,act,allowed", TABLE, ids=[f"{r}-{d}-{o}-{a}" for r, d, o, a, _ in TABLE])
def test_policy_row(authorizer, role, domain, obj, act, allowed):
    assert authorizer.allows(_holder(authorizer, role, _home(role)), domain, obj, act) is allowed


def test_the_table_allows_exactly_what_the_policy_allows_and_covers_every_role():
    allowed_at_home = {(role, obj, act) for role, domain, obj, act, allowed in TABLE if allowed and domain == _home(role)}
    assert allowed_at_home == POLICY
    assert {row[0] for row in TABLE} == {role for role, _, _ in POLICY}
    assert all(any(not allowed for r, *_, allowed in TABLE if r == role) for role, _, _ in POLICY), "each role needs a denial"


@pytest.mark.parametrize("role,obj,act", sorted(POLICY))
def test_every_permission_is_refused_in_every_other_domain(authorizer, role, obj, act):
    home = _home(role)
    principal = _holder(authorizer, role, home)
    for elsewhere in (OTHER_ORG, SIBLING, OTHER_SYSTEM, "org:STW", "system:RXW", "*", "org:*", "", "region:Y61", "region:*", HOME_REGION, NATIONAL):
        if elsewhere != home:
            assert not authorizer.allows(principal, elsewhere, obj, act), f"{role} held for {home} allowed {act} {obj} in {elsewhere!r}"


def test_no_principal_and_no_role_are_refused(authorizer):
    assert not authorizer.allows(None, HOME_ORG, "organisation", "read")
    nobody = Principal(subject="user:nobody", user_id=0, name="", email="", assignments=())
    authorizer.sync_subject(nobody)
    assert not any(authorizer.allows(nobody, HOME_ORG, obj, act) for _, obj, act in POLICY)


def test_a_role_removed_from_the_database_is_removed_from_the_enforcer(authorizer):
    """sync_subject brings the grouping rules into line with the assignments read for this request."""
    principal = _holder(authorizer, "performance_manager", HOME_ORG)
    assert authorizer.allows(principal, HOME_ORG, "measurement", "submit")
    principal.assignments = ()
    authorizer.sync_subject(principal)
    assert not authorizer.allows(principal, HOME_ORG, "measurement", "submit")


def test_role_links_do_not_chain_between_subjects(authorizer):
    """Casbin role links are transitive: were a user granted a *user* as a role it would inherit that
    user's roles. The admin service refuses such grants (tests/security/test_admin_roles.py); this
    shows why that validation matters."""
    _holder(authorizer, "executive", HOME_ORG)  # user:executive@org:RXW holds executive at SaTH
    chained = Principal(subject="user:chained", user_id=0, name="", email="", assignments=(Assignment(f"user:executive@{HOME_ORG}", HOME_ORG),))
    authorizer.sync_subject(chained)
    assert authorizer.allows(chained, HOME_ORG, "escalation", "override")
