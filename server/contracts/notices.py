"""Contract performance notices (Sheffield 3.3: the Contract Management Board issues "performance and
contract notices to providers when key performance targets are not achieved"): the one service behind
the contract pages and GraphQL.

Lifecycle: raised -> issued -> remedial action plan agreed -> closed, and withdrawn from any open
step. Who may take each step is the Casbin policy's ``contract_notice`` actions (raise, issue,
agree_plan, close, withdraw) in the commissioner's domain. Every step is one row of the notice's
history (``contract_notice_event``, append-only), one audit event, and a re-run of the
commissioner's ladders in the same transaction: the provider route reads the notices. A stale form
(the notice moved since it was read) is refused, never applied twice. Services never commit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.auth.authz import Authorizer, Principal, acting_domain
from server.contracts.register import ContractView, contract_of
from server.escalation.engine import whole_months_between

OBJECT = "contract_notice"
UK = ZoneInfo("Europe/London")
TEXT_LIMIT = 4000
TITLE_LIMIT = 200
OPEN = ("raised", "issued", "plan_agreed")
STATUS_WORDS = {"raised": "Raised", "issued": "Issued to the provider", "plan_agreed": "Remedial action plan agreed",
                "closed": "Closed", "withdrawn": "Withdrawn"}
RefusalReason = Literal["not_found", "not_allowed", "invalid", "wrong_status", "changed"]
StepName = Literal["issue", "agree_plan", "close", "withdraw"]


@dataclass(frozen=True)
class Step:
    name: StepName
    from_statuses: tuple[str, ...]
    to_status: str
    words: str  # the button
    note_required: bool


STEPS: dict[str, Step] = {
    "issue": Step("issue", ("raised",), "issued", "Issue the notice to the provider", False),
    "agree_plan": Step("agree_plan", ("issued",), "plan_agreed", "Record the remedial action plan as agreed", False),
    # Closed when the provider has recovered (or the plan is delivered); withdrawn when raised in error.
    "close": Step("close", ("plan_agreed",), "closed", "Close the notice", True),
    "withdraw": Step("withdraw", OPEN, "withdrawn", "Withdraw the notice", True),
}


@dataclass(frozen=True)
class NoticeEventView:
    event: str
    from_status: str | None
    to_status: str
    note: str | None
    actor_name: str
    actor_role: str | None
    at: dt.datetime


@dataclass(frozen=True)
class NoticeView:
    id: int
    org_id: int
    provider_code: str
    provider_name: str
    kind: str
    title: str
    reason: str
    indicator_codes: tuple[str, ...]
    status: str
    remedial_plan: str | None
    remedial_plan_due: dt.date | None
    raised_at: dt.datetime
    issued_at: dt.datetime | None
    plan_agreed_at: dt.datetime | None
    ended_at: dt.datetime | None
    version: int
    events: tuple[NoticeEventView, ...] = ()

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def next_steps(self) -> list[Step]:
        return [step for step in STEPS.values() if self.status in step.from_statuses]


@dataclass(frozen=True)
class NoticeInput:
    title: str
    reason: str
    indicator_codes: tuple[str, ...] = ()
    kind: str = "performance"


@dataclass(frozen=True)
class StepInput:
    step: str
    expected_version: int
    note: str = ""
    remedial_plan: str = ""
    remedial_plan_due: dt.date | None = None


@dataclass(frozen=True)
class NoticeSaved:
    notice: NoticeView
    role: str
    message: str


@dataclass(frozen=True)
class NoticeRefused:
    reason: RefusalReason
    message: str
    field: str | None = None

    @property
    def status_code(self) -> int:
        return {"not_found": 404, "not_allowed": 403, "changed": 409, "wrong_status": 409}.get(self.reason, 400)


def acting_role(authorizer: Authorizer, principal: Principal | None, domain: str, action: str) -> str | None:
    """The principal's first role here that the policy lets take this action on a notice, if any."""
    if principal is None or not authorizer.allows(principal, domain, OBJECT, action):
        return None
    granting = set(authorizer.roles_granting(OBJECT, action))
    return next((role for role in principal.roles_in(domain) if role in granting), None)


def allowed_actions(authorizer: Authorizer, principal: Principal | None, domain: str) -> frozenset[str]:
    return frozenset(a for a in ("raise", *STEPS) if acting_role(authorizer, principal, domain, a) is not None)


async def raise_notice(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, provider_code: str, given: NoticeInput,
    indicator_choices: tuple[str, ...], now: dt.datetime | None = None,
) -> NoticeSaved | NoticeRefused:
    """Raise a notice against a provider this organisation contracts with (``indicator_choices``: the codes it may name)."""
    now = now or dt.datetime.now(dt.UTC)
    contract = await contract_of(session, org_id, provider_code)
    if contract is None:
        return NoticeRefused("not_found", f"This organisation has no contract with '{provider_code}'", "provider")
    role = acting_role(authorizer, principal, await acting_domain(session, org_id), "raise")
    if role is None:
        return NoticeRefused("not_allowed", "Your role does not allow you to raise a contract performance notice here")
    title, reason = given.title.strip(), given.reason.strip()
    if given.kind not in ("performance", "contract"):
        return NoticeRefused("invalid", "Choose a performance notice or a contract notice", "kind")
    if not title:
        return NoticeRefused("invalid", "Enter a title: what the notice is about", "title")
    if len(title) > TITLE_LIMIT:
        return NoticeRefused("invalid", f"The title must be {TITLE_LIMIT} characters or fewer", "title")
    if not reason:
        return NoticeRefused("invalid", "Enter the reason: the targets missed and the evidence", "reason")
    if len(reason) > TEXT_LIMIT:
        return NoticeRefused("invalid", f"The reason must be {TEXT_LIMIT:,} characters or fewer", "reason")
    unknown = [code for code in given.indicator_codes if code not in indicator_choices]
    if unknown:
        return NoticeRefused("invalid", "Choose indicators of this contract", "indicators")
    await lock_for_transaction(session, LADDERS, [org_id])
    notice_id = (await session.exec(text(
        """
        insert into contract_notice (org_id, provider_id, kind, title, reason, indicator_codes, status, raised_at, raised_by)
        values (:org, :provider, :kind, :title, :reason, :codes, 'raised', :now, :user) returning id
        """
    ), params={"org": org_id, "provider": contract.provider_id, "kind": given.kind, "title": title, "reason": reason,
               "codes": list(dict.fromkeys(given.indicator_codes)), "now": now, "user": principal.user_id})).scalar_one()
    await _history(session, org_id, notice_id, "raised", None, "raised", reason, principal, role, now)
    await record_event(session, action="contract_notice.raised", object_type=OBJECT, object_id=str(notice_id), org_id=org_id,
                       actor_user_id=principal.user_id, actor_role=role,
                       after={"provider": contract.provider_code, "title": title, "indicators": list(given.indicator_codes)})
    notice = await notice_by_id(session, org_id, notice_id)
    return NoticeSaved(notice, role, f"Notice raised against {contract.provider_name}.")  # type: ignore[arg-type]


async def take_step(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, notice_id: int, given: StepInput,
    now: dt.datetime | None = None,
) -> NoticeSaved | NoticeRefused:
    """Move a notice one step on (issue, agree the remedial plan, close, withdraw), recording who, when and why."""
    from server.escalation_store.run import run_ladders  # the ladders read notices: imported late to keep the modules apart

    now = now or dt.datetime.now(dt.UTC)
    notice = await notice_by_id(session, org_id, notice_id, with_events=False)
    if notice is None:
        return NoticeRefused("not_found", "No such notice here", "notice")
    step = STEPS.get(given.step)
    if step is None:
        return NoticeRefused("invalid", "Choose a step: issue, agree_plan, close or withdraw", "step")
    role = acting_role(authorizer, principal, await acting_domain(session, org_id), step.name)
    if role is None:
        return NoticeRefused("not_allowed", f"Your role does not allow you to {step.words[0].lower() + step.words[1:]}")
    if notice.status not in step.from_statuses:
        return NoticeRefused("wrong_status", f"The notice is {notice.status_words.lower()}: it cannot be {step.to_status.replace('_', ' ')} now")
    note, plan = given.note.strip(), given.remedial_plan.strip()
    if len(note) > TEXT_LIMIT or len(plan) > TEXT_LIMIT:
        return NoticeRefused("invalid", f"Keep the text to {TEXT_LIMIT:,} characters or fewer", "remedial_plan" if len(plan) > TEXT_LIMIT else "note")
    if step.note_required and not note:
        return NoticeRefused("invalid", "Give the reason: it is kept with the notice's history", "note")
    if step.name == "agree_plan":
        if not plan:
            return NoticeRefused("invalid", "Enter the remedial action plan agreed with the provider", "remedial_plan")
        if given.remedial_plan_due is None:
            return NoticeRefused("invalid", "Enter the date by which the plan is to be delivered", "remedial_plan_due")
        if given.remedial_plan_due < now.astimezone(UK).date():
            return NoticeRefused("invalid", "The delivery date must be today or later", "remedial_plan_due")
    await lock_for_transaction(session, LADDERS, [org_id])
    stamp = {"issue": "issued_at", "agree_plan": "plan_agreed_at"}.get(step.name, "ended_at")
    plan_columns = ", remedial_plan = :plan, remedial_plan_due = :due" if step.name == "agree_plan" else ""
    moved = (await session.exec(text(
        f"""
        update contract_notice set status = :to, {stamp} = :now, version = version + 1{plan_columns}
        where org_id = :org and id = :id and version = :version and status = any(:from_statuses) returning id
        """
    ), params={"to": step.to_status, "now": now, "org": org_id, "id": notice_id, "version": given.expected_version,
               "from_statuses": list(step.from_statuses), "plan": plan, "due": given.remedial_plan_due})).scalar_one_or_none()
    if moved is None:
        return NoticeRefused("changed", "Someone changed this notice since you opened it: look at it again before you act")
    await _history(session, org_id, notice_id, step.name, notice.status, step.to_status, plan or note or None, principal, role, now)
    after: dict[str, object] = {"status": step.to_status}
    if step.name == "agree_plan":
        after.update(remedial_plan=plan, due=given.remedial_plan_due.isoformat())  # type: ignore[union-attr]
    if note:
        after["note"] = note
    await record_event(session, action=f"contract_notice.{step.name}", object_type=OBJECT, object_id=str(notice_id), org_id=org_id,
                       actor_user_id=principal.user_id, actor_role=role, before={"status": notice.status}, after=after)
    await run_ladders(session, org_id, at=now)
    saved = await notice_by_id(session, org_id, notice_id)
    return NoticeSaved(saved, role, f"{notice.title}: {STATUS_WORDS[step.to_status].lower()}.")  # type: ignore[arg-type]


async def _history(session: AsyncSession, org_id: int, notice_id: int, event: str, from_status: str | None, to_status: str,
                   note: str | None, principal: Principal, role: str, now: dt.datetime) -> None:
    await session.exec(text(
        """
        insert into contract_notice_event (org_id, notice_id, event, from_status, to_status, note, actor_user_id, actor_name, actor_role, at)
        values (:org, :notice, :event, :from_status, :to_status, :note, :user, :name, :role, :now)
        """
    ), params={"org": org_id, "notice": notice_id, "event": event, "from_status": from_status, "to_status": to_status, "note": note,
               "user": principal.user_id, "name": principal.name, "role": role, "now": now})


_NOTICE_COLUMNS = """n.id, n.org_id, p.code, p.name, n.kind, n.title, n.reason, n.indicator_codes, n.status, n.remedial_plan,
    n.remedial_plan_due, n.raised_at, n.issued_at, n.plan_agreed_at, n.ended_at, n.version"""


def _notice(row: tuple, events: tuple[NoticeEventView, ...] = ()) -> NoticeView:  # type: ignore[type-arg]
    (id_, org_id, code, name, kind, title, reason, codes, status, plan, due, raised, issued, agreed, ended, version) = row
    return NoticeView(id_, org_id, code, name, kind, title, reason, tuple(codes or ()), status, plan, due, raised, issued, agreed, ended,
                      version, events)


async def notices_of(session: AsyncSession, org_id: int, *, provider_id: int | None = None, open_only: bool = False) -> list[NoticeView]:
    """The organisation's notices (one contract's, or all), open ones first, newest first: one statement."""
    rows = (await session.exec(text(
        f"""
        select {_NOTICE_COLUMNS} from contract_notice n join organisation p on p.id = n.provider_id
        where n.org_id = :org and (cast(:provider as integer) is null or n.provider_id = :provider)
          and (not :open_only or n.status = any(:open))
        order by n.status = any(:open) desc, n.raised_at desc, n.id desc
        """
    ), params={"org": org_id, "provider": provider_id, "open_only": open_only, "open": list(OPEN)})).all()
    return [_notice(tuple(row)) for row in rows]


async def notice_by_id(session: AsyncSession, org_id: int, notice_id: int, *, with_events: bool = True) -> NoticeView | None:
    """One notice with its history, oldest step first: two statements."""
    row = (await session.exec(text(
        f"select {_NOTICE_COLUMNS} from contract_notice n join organisation p on p.id = n.provider_id where n.org_id = :org and n.id = :id"
    ), params={"org": org_id, "id": notice_id})).first()
    if row is None:
        return None
    events: tuple[NoticeEventView, ...] = ()
    if with_events:
        events = tuple(NoticeEventView(*event) for event in (await session.exec(text(
            "select event, from_status, to_status, note, actor_name, actor_role, at from contract_notice_event"
            " where org_id = :org and notice_id = :id order by at, id"
        ), params={"org": org_id, "id": notice_id})).all())
    return _notice(tuple(row), events)


@dataclass(frozen=True)
class NoticeFacts:
    """What the provider route reads from a contract's open notices: the most advanced one counts."""

    issued: bool
    months_since_issued: int
    plan_agreed_on: dt.date | None
    reference: dict[str, object]


async def notice_facts(session: AsyncSession, org_id: int, *, at: dt.datetime) -> dict[int, NoticeFacts]:
    """Per provider, its open notice's facts: one statement."""
    rows = (await session.exec(text(
        """
        select distinct on (provider_id) provider_id, id, title, status, issued_at, plan_agreed_at from contract_notice
        where org_id = :org and status = any(:open)
        order by provider_id, (status = 'issued') desc, (status = 'plan_agreed') desc, issued_at nulls last, id
        """
    ), params={"org": org_id, "open": list(OPEN)})).all()
    facts = {}
    for provider_id, notice_id, title, status, issued_at, plan_agreed_at in rows:
        issued = status in ("issued", "plan_agreed")
        facts[provider_id] = NoticeFacts(
            issued=issued, months_since_issued=whole_months_between(issued_at, at) if issued_at else 0,
            plan_agreed_on=plan_agreed_at.astimezone(UK).date() if plan_agreed_at else None,
            reference={"id": notice_id, "title": title, "status": status},
        )
    return facts


def indicator_choices(contract: ContractView, provider_codes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The indicators a notice about this contract may name: those recorded for it and the provider's own contractual ones."""
    return tuple(dict.fromkeys((*contract.indicators, *provider_codes)))
