"""Record a judgement: the one service behind the escalation page, the meeting page and GraphQL.

Who may: the tenant file names the roles that make each kind of judgement, and the Casbin policy
must let the role ``record`` a ``judgement`` in the organisation's domain (a system's own business in
``system:<code>``). The judgement supersedes the last one of its kind about the subject (history is
never rewritten), goes into the audit trail, and the organisation's ladders re-run in the same
transaction, so an escalation waiting on it moves at once. Recorded at a meeting, it is also minuted
as one of that meeting's decisions.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.auth.authz import Authorizer, FieldRefusal, Principal, acting_domain
from server.db.models import Judgement, Meeting
from server.escalation_store.run import RunSummary, run_ladders
from server.judgements.kinds import parse_value, value_word
from server.judgements.store import current_judgements, latest_row_id, subject_name
from server.meetings.minutes import Actor, Saved, record_decision
from server.tenants.load import framework_of
from server.tenants.spec import JudgementKindSpec

REASON_LIMIT = 2000
RefusalReason = Literal["not_found", "not_allowed", "stale", "invalid"]


@dataclass(frozen=True)
class JudgementInput:
    kind: str
    subject_key: str
    value: str | bool | None  # None with ``withdraw``
    reason: str
    withdraw: bool = False  # withdraw the current judgement (recorded in error, or no longer held) instead
    expires_on: dt.date | None = None
    escalation_id: int | None = None  # recorded from this escalation's page
    meeting_id: int | None = None  # minuted as a decision of this meeting...
    meeting_version: int | None = None  # ...as the person saw it


@dataclass(frozen=True)
class JudgementRecorded:
    judgement: Judgement
    supersedes_id: int | None
    ladders: RunSummary
    message: str


@dataclass(frozen=True)
class JudgementRefused(FieldRefusal):
    reason: RefusalReason


def recording_roles_here(authorizer: Authorizer, principal: Principal, domain: str, kind: JudgementKindSpec) -> list[str]:
    """The principal's roles here that both the tenant file and the policy let record this kind."""
    granting = set(authorizer.roles_granting("judgement", "record"))
    return [role for role in principal.roles_in(domain) if role in kind.roles and role in granting]


async def record_judgement(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, given: JudgementInput,
    now: dt.datetime | None = None,
) -> JudgementRecorded | JudgementRefused:
    now = now or dt.datetime.now(dt.UTC)
    framework = await framework_of(session, org_id)
    if framework is None:  # row-level security: an organisation this request cannot read has no framework to it
        return JudgementRefused("not_found", "There is no such organisation, or you may not see it", "organisation")
    kind = framework.judgements.get(given.kind)
    if kind is None:
        return JudgementRefused("invalid", "Choose a kind of judgement this organisation's framework records", "kind")
    domain = await acting_domain(session, org_id)
    roles = recording_roles_here(authorizer, principal, domain, kind)
    if not roles or not authorizer.allows(principal, domain, "judgement", "record"):
        return JudgementRefused("not_allowed", f"Your role does not allow you to record '{kind.name}' "
                                f"(the framework gives it to: {', '.join(r.replace('_', ' ') for r in kind.roles)})")
    refusal, subject_type, name = await _subject(session, org_id, framework, kind, given.subject_key)
    if refusal:
        return refusal
    value = None if given.withdraw or given.value is None else parse_value(kind, given.value)
    if value is None and not given.withdraw:
        return JudgementRefused("invalid", f"Choose one of: {', '.join(value_word(v) for v in kind.values)}", "value")
    reason = (given.reason or "").strip()
    if not reason:
        return JudgementRefused("invalid", "Give the reason for this judgement: it is kept with it in the audit trail", "reason")
    if len(reason) > REASON_LIMIT:
        return JudgementRefused("invalid", f"Keep the reason to {REASON_LIMIT:,} characters or fewer", "reason")
    expires_at, refusal = _expiry(kind, given.expires_on, now)
    if refusal:
        return refusal
    meeting = None
    if given.meeting_id is not None:
        meeting = (await session.exec(select(Meeting).where(Meeting.id == given.meeting_id, Meeting.org_id == org_id).with_for_update())).scalars().first()
        if meeting is None:
            return JudgementRefused("not_found", "That meeting is not one of this organisation's", "meeting")
        if meeting.status == "cancelled":
            return JudgementRefused("invalid", "This meeting was cancelled, so it cannot minute a judgement", "meeting")
        if meeting.version != given.meeting_version:
            return JudgementRefused("stale", "Someone else changed this meeting after you opened the page, so nothing was saved. "
                                    "Check the page and record the judgement again.", "meeting")
    # One writer of an organisation's judgements and ladders at a time: the superseded row is the
    # latest, and the ladder run below reads this judgement.
    await lock_for_transaction(session, LADDERS, [org_id])
    supersedes = await latest_row_id(session, org_id, given.subject_key, given.kind)
    if given.withdraw and not await current_judgements(session, org_id, at=now, subject_keys=[given.subject_key], kinds=[given.kind]):
        return JudgementRefused("invalid", f"There is no current '{kind.name}' about {name} to withdraw", "value")
    row = Judgement(
        org_id=org_id, kind=given.kind, subject_type=subject_type, subject_key=given.subject_key, subject_name=name,
        value=value, withdrawn=given.withdraw, reason=reason, recorded_by=principal.user_id, recorded_by_name=principal.name, recorded_role=roles[0],
        recorded_at=now, expires_at=expires_at, supersedes_id=supersedes, meeting_id=given.meeting_id,
        escalation_id=given.escalation_id, context={"kind_name": kind.name, **({"forum": kind.forum} if kind.forum else {})},
    )
    session.add(row)
    await session.flush()
    sentence = f"{kind.name} for {name} withdrawn" if given.withdraw else f"{kind.name}: {value_word(value)} for {name}"
    await record_event(
        session, action="judgement.withdrawn" if given.withdraw else "judgement.recorded", object_type="judgement", object_id=str(row.id), org_id=org_id,
        actor_user_id=principal.user_id, actor_role=roles[0], before={"supersedes": supersedes} if supersedes else None,
        after={"kind": given.kind, "subject": given.subject_key, "value": value, "reason": reason,
               "expires_at": expires_at.isoformat() if expires_at else None, "meeting": given.meeting_id, "escalation": given.escalation_id},
    )
    if meeting is not None:
        await _minute(session, meeting, principal, roles[0], f"Judgement recorded — {sentence}. Reason: {reason}", now)
    ladders = await run_ladders(session, org_id, at=now)
    moved = ladders.opened + ladders.moved + ladders.closed
    message = f"Judgement {'withdrawn' if given.withdraw else 'recorded'} ({sentence})." + (f" The ladders moved {moved} escalation(s)." if moved else " No escalation changed level.")
    return JudgementRecorded(row, supersedes, ladders, message)


async def _subject(session: AsyncSession, org_id: int, framework, kind: JudgementKindSpec, subject_key: str):  # type: ignore[no-untyped-def]
    subject_type = subject_key.partition(":")[0]
    if subject_type not in kind.subjects:
        return JudgementRefused("invalid", f"'{kind.name}' is recorded about {' or '.join(kind.subjects)} subjects, not this one", "subject"), "", ""
    found = await subject_name(session, org_id, framework, subject_key)
    if found is None:
        return JudgementRefused("not_found", f"This organisation has no such {subject_type}", "subject"), "", ""
    return None, found[0], found[1]


def _expiry(kind: JudgementKindSpec, expires_on: dt.date | None, now: dt.datetime) -> tuple[dt.datetime | None, JudgementRefused | None]:
    """When the judgement lapses: the start of the day given, or the kind's default; never in the past."""
    if expires_on is None:
        if kind.expires_after_days is None:
            return None, None
        return now + dt.timedelta(days=kind.expires_after_days), None
    if expires_on <= now.date():
        return None, JudgementRefused("invalid", "The date it expires must be in the future", "expires")
    return dt.datetime.combine(expires_on, dt.time(), dt.UTC), None


async def _minute(session: AsyncSession, meeting: Meeting, principal: Principal, role: str, words: str, now: dt.datetime) -> None:
    outcome = await record_decision(session, meeting, expected_version=meeting.version, decision=words,
                                    actor=Actor(principal.user_id, principal.name, role), now=now, rerun_ladders=False)
    if not isinstance(outcome, Saved):  # the row lock above makes this impossible; say so loudly if not
        raise RuntimeError(f"minuting the judgement failed: {outcome}")
