"""An organisation's audit trail, for those whose role lets them read it (``audit read``), in
people's words: "Recorded the delivery group's critique" rather than ``plan.critique``, role names
rather than ``data_submitter,executive``, the plan or escalation named and linked rather than
``improvement_plan 1``. Filtered by what changed and sorted by a GET form.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.admin.authority import AUDIT, acting_as
from server.audit.history import AuditEntry, audit_page
from server.auth.authz import org_domain
from server.organisations.queries import organisation_by_code
from server.web.listing import choose
from server.web.render import access_of, login_required, not_found, principal_of, render, services_of

# What the filter offers: (value, words, object types recorded for it).
KINDS = (
    ("all", "Everything", ()),
    ("plans", "Improvement plans", ("improvement_plan",)),
    ("escalations", "Escalations and judgements", ("escalation", "judgement")),
    ("meetings", "Meetings, actions and reports", ("meeting", "action", "report")),
    ("data", "Data and SPC recalculations", ("measurement", "spc_recalculation")),
    ("access", "People, roles and API tokens", ("app_user", "role_assignment", "api_token", "organisation")),
)
SORTS = (("newest", "Newest first"), ("oldest", "Oldest first"))

# The action as a sentence; "{}" takes the object's name. Unknown actions fall back to their words.
ACTION_WORDS = {
    "plan.drafted": "Drafted {}",
    "plan.edited": "Changed {}",
    "plan.critique": "Recorded the delivery group's critique of {}",
    "plan.partner_agreed": "Agreed {} for a partner",
    "plan.all_partners_agreed": "Every partner had agreed {}",
    "plan.action_added": "Added an action to {}",
    "plan.action_updated": "Updated an action on {}",
    "plan.sign_off": "Formally signed off {}",
    "plan.present": "Recorded the presentation of {}",
    "plan.start_delivery": "Took {} into delivery",
    "plan.close": "Closed {} as recovered",
    "plan.escalate": "Escalated {}: not recovering",
    "escalation.opened": "Opened {}",
    "escalation.escalated": "Raised the level of {}",
    "escalation.de_escalated": "Lowered the level of {}",
    "escalation.acknowledged": "Acknowledged {}",
    "escalation.plan_linked": "Linked a plan to {}",
    "escalation.closed": "Closed {}",
    "judgement.recorded": "Recorded a judgement",
    "judgement.withdrawn": "Withdrew a judgement",
    "measurements.recorded": "Submitted measurements",
    "meeting.scheduled": "Scheduled meetings",
    "meeting.pack_issued": "Issued the data pack for {}",
    "meeting.decision_recorded": "Recorded a decision at {}",
    "meeting.attendance_recorded": "Recorded attendance at {}",
    "meeting.action_raised": "Raised an action",
    "meeting.action_updated": "Updated an action",
    "role.granted": "Gave roles",
    "role.revoked": "Removed roles",
    "user.created": "Created an account",
    "user.invitation_accepted": "Accepted an invitation",
    "spc_recalculation.record": "Recorded an SPC recalculation",
    "spc_recalculation.withdraw": "Withdrew an SPC recalculation",
    "maturity.assessed": "Recorded a maturity self-assessment",
    "accountability_review.recorded": "Recorded an accountability review",
    "programme.milestone_achieved": "Recorded a programme milestone achieved",
    "programme.milestone_added": "Added a programme milestone",
    "programme.qipp_recorded": "Recorded a programme's QIPP saving",
    "programme.risk_added": "Added a programme risk",
    "programme.risk_updated": "Updated a programme risk",
    "programme.edited": "Edited a programme",
    "programme.created": "Created a programme",
}
OBJECT_WORDS = {"improvement_plan": "plan", "escalation": "escalation", "meeting": "meeting", "api_token": "API token",
                "role_assignment": "role assignment", "app_user": "account", "spc_recalculation": "SPC recalculation",
                "programme": "programme", "programme_milestone": "programme milestone", "programme_benefit": "programme QIPP month",
                "programme_risk": "programme risk", "accountability_review": "accountability review"}
FIELD_WORDS = {"user": "Person", "user_id": "Account number", "domain": "Where", "roles": "Roles", "subject": "Subject",
               "ladder": "Escalation ladder", "level": "Level", "status": "Status", "version": "Version", "reason": "Reason"}
ROLE_FIELDS = ("roles", "role", "actor_role")


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Described:
    sentence: str
    href: str | None


def words(text: str) -> str:
    """'data_submitter' -> 'Data submitter'; 'unit:RWD-MED' -> 'unit RWD-MED'."""
    spaced = text.replace("_", " ").replace(":", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def role_words(value: Any) -> str:
    """'data_submitter,executive' or ['data_submitter', 'executive'] -> 'Data submitter, Executive'."""
    roles = value if isinstance(value, list) else str(value or "").split(",")
    return ", ".join(words(str(role)) for role in roles if str(role).strip()) or "none"


def describe(entry: AuditEntry, organisation_code: str) -> Described:
    kind = OBJECT_WORDS.get(entry.object_type, words(entry.object_type).lower())
    name = f"{kind} {entry.object_id}" if entry.object_id else kind
    href = None
    if entry.object_type == "improvement_plan" and entry.object_id:
        href = f"/plans/{entry.object_id}"
    elif entry.object_type == "escalation" and entry.object_id:
        href = f"/organisations/{organisation_code}/escalations/{entry.object_id}"
    elif entry.object_type == "meeting" and entry.object_id:
        href = f"/organisations/{organisation_code}/meetings/{entry.object_id}"
    template = ACTION_WORDS.get(entry.action)
    sentence = template.format(name) if template else f"{words(entry.action.replace('.', ' '))} ({name})"
    return Described(sentence[:1].upper() + sentence[1:], href)


def changes(entry: AuditEntry) -> list[Change]:
    """Each field that differs between before and after, as text a person can read."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        Change(FIELD_WORDS.get(key, words(key)), _text(key, before.get(key)) if key in before else "", _text(key, after.get(key)) if key in after else "")
        for key in keys if before.get(key) != after.get(key) or key not in before or key not in after
    ]


def _text(key: str, value: Any) -> str:
    if value is None:
        return "none"
    if key in ROLE_FIELDS:
        return role_words(value)
    if key in ("status", "subject", "domain") and isinstance(value, str):
        return words(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


@login_required
async def audit_trail_page(request: Request) -> Response:
    services, code = services_of(request), request.path_params["code"]
    kind = choose(request, "kind", "Show", [(value, text) for value, text, _ in KINDS])
    sort = choose(request, "sort", "Sort", SORTS)
    object_types = next(types for value, _, types in KINDS if value == kind.value)
    async with services.database.session(access_of(request)) as session:
        organisation = await organisation_by_code(session, code)
        reader = await acting_as(session, services.authorizer, principal_of(request), org_domain(code), AUDIT, "read") if organisation else None
        if reader is None:
            return not_found(request)
        page = await audit_page(session, org_id=organisation.id, page=_page_number(request), object_types=object_types or None,
                                oldest_first=sort.value == "oldest")
    query = "&".join(f"{c.name}={c.value}" for c in (kind, sort) if not c.is_default)
    return render(request, "pages/admin/audit.html", {
        "organisation": organisation, "page": page, "changes": changes, "describe": describe, "role_words": role_words,
        "choices": [kind, sort], "filter_query": query,
    })
