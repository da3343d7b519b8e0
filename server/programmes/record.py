"""Record a programme's progress: the one set of services behind the programme page and GraphQL.

Who may (Sheffield 3.1, the PMO's Programme Management Framework): the Casbin policy lets a role
``record`` on a ``programme`` (the PMO and programme leads: milestones achieved, QIPP realised,
risks) and ``manage`` one (the PMO: the record itself, its milestones and its monthly QIPP plan).
Each change is audited, and the organisation's ladders re-run in the same transaction, so the
programme's escalation (PMO -> PMDG -> IPDB -> CET) moves with it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import LADDERS, lock_for_transaction
from server.audit.trail import record_event
from server.auth.authz import Authorizer, Principal, acting_domain
from server.escalation_store.run import RunSummary, run_ladders
from server.notifications.recipients import named_people_holding
from server.programmes.facts import add_months, financial_year_start, month_start

UK = ZoneInfo("Europe/London")
TEXT_LIMIT = 2000
MONEY_LIMIT = Decimal("1000000000")  # a month's saving above £1bn is a typing error
RefusalReason = Literal["not_found", "not_allowed", "stale", "invalid"]
Action = Literal["record", "manage", "create"]
STATUSES = ("active", "paused", "closed")
# The policy's word for whom a programme may have as its Senior Responsible Owner (Sheffield 3.1: an
# executive director is accountable for each programme): holders of a role that may ``sponsor`` one.
SPONSOR = "sponsor"
CODE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,40}")
RESERVED_CODES = ("new",)  # /programmes/new is the form


@dataclass(frozen=True)
class ProgrammeSaved:
    programme_code: str
    message: str
    ladders: RunSummary


@dataclass(frozen=True)
class ProgrammeRefused:
    reason: RefusalReason
    message: str
    field: str | None = None  # the form field (or GraphQL argument) at fault

    @property
    def status_code(self) -> int:
        return {"not_found": 404, "not_allowed": 403, "stale": 409}.get(self.reason, 400)


ProgrammeOutcome = ProgrammeSaved | ProgrammeRefused


@dataclass(frozen=True)
class RiskInput:
    description: str
    likelihood: int | None
    impact: int | None
    owner: str
    mitigation: str = ""
    status: str = "open"
    risk_id: int | None = None  # None: a new risk
    version: int | None = None  # the version the person saw, for an existing risk


@dataclass(frozen=True)
class ProgrammeInput:
    name: str
    sro_user_id: int | None  # None: the Senior Responsible Owner stays as recorded
    status: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    version: int | None


@dataclass(frozen=True)
class NewProgrammeInput:
    code: str
    name: str
    sro_user_id: int | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    qipp_target: Decimal | None  # the saving planned for the financial year it starts in, in pounds


@dataclass(frozen=True)
class Sponsor:
    """A person who may be a programme's Senior Responsible Owner."""

    user_id: int
    name: str


def may(authorizer: Authorizer, principal: Principal | None, domain: str, action: Action) -> bool:
    return authorizer.allows(principal, domain, "programme", action)


_WHO_MAY = {"manage": ("keep this programme's record", "the PMO"), "record": ("record this programme's progress", "the PMO and programme leads"),
            "create": ("create a programme", "the PMO")}


def _acting_role(authorizer: Authorizer, principal: Principal, domain: str, action: Action) -> str | ProgrammeRefused:
    """The role the person makes this change in, or the refusal naming who may."""
    granting = set(authorizer.roles_granting("programme", action))
    roles = [role for role in principal.roles_in(domain) if role in granting]
    if not roles or not may(authorizer, principal, domain, action):
        what, who = _WHO_MAY[action]
        return ProgrammeRefused("not_allowed", f"Your role does not allow you to {what} ({who} may)")
    return roles[0]


async def sro_candidates(session: AsyncSession, authorizer: Authorizer, org_id: int) -> list[Sponsor]:
    """The organisation's people who may be a programme's Senior Responsible Owner, by name."""
    return (await sro_candidates_of_orgs(session, authorizer, [org_id]))[org_id]


async def sro_candidates_of_orgs(session: AsyncSession, authorizer: Authorizer, org_ids: list[int]) -> dict[int, list[Sponsor]]:
    """Per organisation, in one statement: active holders (for the organisation, or for the system it is) of a
    role the policy lets ``sponsor`` a programme."""
    found = await named_people_holding(session, org_ids, authorizer.roles_granting("programme", SPONSOR))
    return {org_id: [Sponsor(user_id, name) for user_id, name in people] for org_id, people in found.items()}


async def _programme(session: AsyncSession, authorizer: Authorizer, principal: Principal, org_id: int, code: str,
                     action: Action) -> tuple[int, str, str] | ProgrammeRefused:
    """The programme's id and name, locked for this change, and the role it is made in, once the person may make it."""
    role = _acting_role(authorizer, principal, await acting_domain(session, org_id), action)
    if isinstance(role, ProgrammeRefused):
        return role
    # One writer of an organisation's ladders at a time: the run below reads this change.
    await lock_for_transaction(session, LADDERS, [org_id])
    row = (await session.exec(text("select id, name from programme where org_id = :org and code = :code for update"),
                              params={"org": org_id, "code": code})).first()
    if row is None:
        return ProgrammeRefused("not_found", "This organisation has no programme with that code", "programme")
    return row[0], row[1], role


async def _done(session: AsyncSession, org_id: int, code: str, message: str, now: dt.datetime) -> ProgrammeSaved:
    ladders = await run_ladders(session, org_id, at=now)
    moved = ladders.opened + ladders.moved + ladders.closed
    return ProgrammeSaved(code, message + (f" The ladders moved {moved} escalation(s)." if moved else " No escalation changed level."), ladders)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(UK).date()


async def record_milestone_achieved(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, programme_code: str, milestone_id: int,
    achieved_on: dt.date | None, now: dt.datetime | None = None,
) -> ProgrammeOutcome:
    """A milestone achieved on a day (today or earlier): it no longer counts as overdue from then."""
    now = now or dt.datetime.now(dt.UTC)
    found = await _programme(session, authorizer, principal, org_id, programme_code, "record")
    if isinstance(found, ProgrammeRefused):
        return found
    programme_id, name, role = found
    if achieved_on is None:
        return ProgrammeRefused("invalid", "Enter the date the milestone was achieved", "achieved_on")
    if achieved_on > _today(now):
        return ProgrammeRefused("invalid", "The date achieved must be today or in the past", "achieved_on")
    milestone = (await session.exec(text(
        "select title, status, due_on from programme_milestone where org_id = :org and programme_id = :programme and id = :id for update"
    ), params={"org": org_id, "programme": programme_id, "id": milestone_id})).first()
    if milestone is None:
        return ProgrammeRefused("not_found", "That milestone is not one of this programme's", "milestone")
    title, status, due_on = milestone
    if status != "planned":
        return ProgrammeRefused("invalid", f"'{title}' is already {status}", "milestone")
    await session.exec(text(
        "update programme_milestone set status = 'achieved', achieved_on = :day, recorded_by = :user, version = version + 1, updated_at = now()"
        " where org_id = :org and id = :id"
    ), params={"day": achieved_on, "user": principal.user_id, "org": org_id, "id": milestone_id})
    await record_event(session, action="programme.milestone_achieved", object_type="programme_milestone", object_id=str(milestone_id),
                       org_id=org_id, actor_user_id=principal.user_id, actor_role=role, before={"status": status},
                       after={"programme": programme_code, "title": title, "due_on": due_on.isoformat(), "achieved_on": achieved_on.isoformat()})
    late = f", {(achieved_on - due_on).days} days late" if achieved_on > due_on else ""
    return await _done(session, org_id, programme_code, f"Milestone '{title}' of {name} recorded as achieved on {achieved_on:%d %B %Y}{late}.", now)


async def add_milestone(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, programme_code: str, title: str,
    due_on: dt.date | None, now: dt.datetime | None = None,
) -> ProgrammeOutcome:
    now = now or dt.datetime.now(dt.UTC)
    found = await _programme(session, authorizer, principal, org_id, programme_code, "manage")
    if isinstance(found, ProgrammeRefused):
        return found
    programme_id, name, role = found
    title = (title or "").strip()
    if not title or len(title) > 300:
        return ProgrammeRefused("invalid", "Enter the milestone, in 300 characters or fewer", "title")
    if due_on is None:
        return ProgrammeRefused("invalid", "Enter the date the milestone is due", "due_on")
    milestone_id = (await session.exec(text(
        "insert into programme_milestone (org_id, programme_id, title, due_on, recorded_by) values (:org, :programme, :title, :due, :user)"
        " returning id"), params={"org": org_id, "programme": programme_id, "title": title, "due": due_on, "user": principal.user_id})).scalar_one()
    await record_event(session, action="programme.milestone_added", object_type="programme_milestone", object_id=str(milestone_id),
                       org_id=org_id, actor_user_id=principal.user_id, actor_role=role,
                       after={"programme": programme_code, "title": title, "due_on": due_on.isoformat()})
    return await _done(session, org_id, programme_code, f"Milestone '{title}' added to {name}, due {due_on:%d %B %Y}.", now)


def parse_money(value: object) -> Decimal | None:
    """Pounds as typed ('£12,500.50', '12500'); None when not an amount."""
    cleaned = str(value or "").strip().replace(",", "").replace("£", "")
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    # Too large to be a month's saving: kept as typed, so the service refuses it by its range.
    return amount if abs(amount) >= MONEY_LIMIT else amount.quantize(Decimal("0.01"))


async def record_qipp(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, programme_code: str, month: dt.date | None,
    realised: Decimal | None = None, planned: Decimal | None = None, now: dt.datetime | None = None,
) -> ProgrammeOutcome:
    """A month's QIPP saving realised (the PMO and programme leads), or its plan (the PMO)."""
    now = now or dt.datetime.now(dt.UTC)
    found = await _programme(session, authorizer, principal, org_id, programme_code, "manage" if planned is not None else "record")
    if isinstance(found, ProgrammeRefused):
        return found
    programme_id, name, role = found
    if month is None:
        return ProgrammeRefused("invalid", "Choose the month", "month")
    month = month_start(month)
    for field, amount in (("realised", realised), ("planned", planned)):
        if amount is not None and not (0 <= amount < MONEY_LIMIT):
            return ProgrammeRefused("invalid", "Enter an amount in pounds from £0 to £1,000,000,000", field)
    if realised is None and planned is None:
        return ProgrammeRefused("invalid", "Enter the QIPP saving realised in the month, in pounds", "realised")
    if realised is not None and month >= month_start(_today(now)):
        return ProgrammeRefused("invalid", "A saving is recorded for a whole month once it has ended", "month")
    before = (await session.exec(text(
        "select planned, realised from programme_benefit where org_id = :org and programme_id = :programme and month = :month for update"
    ), params={"org": org_id, "programme": programme_id, "month": month})).first()
    if before is None and planned is None:
        return ProgrammeRefused("invalid", f"{name} has no QIPP plan for {month:%B %Y}: the PMO sets the plan first", "month")
    await session.exec(text(
        "insert into programme_benefit (org_id, programme_id, month, planned, realised, realised_recorded_by, realised_recorded_at)"
        " values (:org, :programme, :month, :planned, cast(:realised as numeric),"
        "         case when cast(:realised as numeric) is null then null else cast(:user as integer) end,"
        "         case when cast(:realised as numeric) is null then null else now() end)"
        " on conflict (org_id, programme_id, month) do update set"
        "   planned = coalesce(cast(:new_planned as numeric), programme_benefit.planned),"
        "   realised = coalesce(excluded.realised, programme_benefit.realised),"
        "   realised_recorded_by = coalesce(excluded.realised_recorded_by, programme_benefit.realised_recorded_by),"
        "   realised_recorded_at = coalesce(excluded.realised_recorded_at, programme_benefit.realised_recorded_at)"
    ), params={"org": org_id, "programme": programme_id, "month": month, "planned": planned if planned is not None else Decimal(0),
               "new_planned": planned, "realised": realised, "user": principal.user_id})
    await record_event(session, action="programme.qipp_recorded", object_type="programme_benefit", object_id=f"{programme_id}:{month.isoformat()}",
                       org_id=org_id, actor_user_id=principal.user_id, actor_role=role,
                       before={"planned": str(before[0]), "realised": None if before[1] is None else str(before[1])} if before else None,
                       after={"programme": programme_code, "month": month.isoformat(), "planned": None if planned is None else str(planned),
                              "realised": None if realised is None else str(realised)})
    said = ", ".join(part for part in (f"£{realised:,.0f} realised" if realised is not None else "",
                                       f"£{planned:,.0f} planned" if planned is not None else "") if part)
    return await _done(session, org_id, programme_code, f"QIPP for {name}, {month:%B %Y}: {said}.", now)


async def save_risk(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, programme_code: str, given: RiskInput,
    now: dt.datetime | None = None,
) -> ProgrammeOutcome:
    """Add a risk to the programme, or update one (its score, owner, mitigation, or close it)."""
    now = now or dt.datetime.now(dt.UTC)
    found = await _programme(session, authorizer, principal, org_id, programme_code, "record")
    if isinstance(found, ProgrammeRefused):
        return found
    programme_id, name, role = found
    description, owner, mitigation = (given.description or "").strip(), (given.owner or "").strip(), (given.mitigation or "").strip()
    if not description or len(description) > TEXT_LIMIT:
        return ProgrammeRefused("invalid", f"Describe the risk, in {TEXT_LIMIT:,} characters or fewer", "description")
    for field, score in (("likelihood", given.likelihood), ("impact", given.impact)):
        if score is None or not 1 <= score <= 5:
            return ProgrammeRefused("invalid", f"Choose the {field} from 1 (rare or negligible) to 5 (almost certain or catastrophic)", field)
    if not owner or len(owner) > 200:
        return ProgrammeRefused("invalid", "Name the risk's owner", "owner")
    if len(mitigation) > TEXT_LIMIT:
        return ProgrammeRefused("invalid", f"Keep the mitigation to {TEXT_LIMIT:,} characters or fewer", "mitigation")
    if given.status not in ("open", "closed"):
        return ProgrammeRefused("invalid", "Choose open or closed", "status")
    today = _today(now)
    after = {"programme": programme_code, "description": description, "likelihood": given.likelihood, "impact": given.impact,
             "score": given.likelihood * given.impact, "owner": owner, "mitigation": mitigation, "status": given.status}  # type: ignore[operator]
    if given.risk_id is None:
        risk_id = (await session.exec(text(
            "insert into programme_risk (org_id, programme_id, description, likelihood, impact, owner, mitigation, status, raised_on, closed_on)"
            " values (:org, :programme, :description, :likelihood, :impact, :owner, :mitigation, cast(:status as varchar), :today,"
            "         case when cast(:status as varchar) = 'closed' then cast(:today as date) end) returning id"
        ), params={"org": org_id, "programme": programme_id, "description": description, "likelihood": given.likelihood,
                   "impact": given.impact, "owner": owner, "mitigation": mitigation, "status": given.status, "today": today})).scalar_one()
        await record_event(session, action="programme.risk_added", object_type="programme_risk", object_id=str(risk_id), org_id=org_id,
                           actor_user_id=principal.user_id, actor_role=role, after=after)
        return await _done(session, org_id, programme_code, f"Risk added to {name} (score {after['score']}).", now)
    current = (await session.exec(text(
        "select description, likelihood, impact, owner, mitigation, status, version from programme_risk"
        " where org_id = :org and programme_id = :programme and id = :id for update"
    ), params={"org": org_id, "programme": programme_id, "id": given.risk_id})).first()
    if current is None:
        return ProgrammeRefused("not_found", "That risk is not one of this programme's", "risk")
    if given.version is not None and given.version != current[6]:
        return ProgrammeRefused("stale", "Someone else changed this risk after you opened the page, so nothing was saved. "
                                "Check the risk and save it again.", "risk")
    await session.exec(text(
        "update programme_risk set description = :description, likelihood = :likelihood, impact = :impact, owner = :owner,"
        " mitigation = :mitigation, status = cast(:status as varchar),"
        " closed_on = case when cast(:status as varchar) = 'closed' then coalesce(closed_on, cast(:today as date)) end,"
        " version = version + 1, updated_at = now() where org_id = :org and id = :id"
    ), params={"org": org_id, "id": given.risk_id, "description": description, "likelihood": given.likelihood, "impact": given.impact,
               "owner": owner, "mitigation": mitigation, "status": given.status, "today": today})
    before = dict(zip(("description", "likelihood", "impact", "owner", "mitigation", "status"), current[:6]))
    await record_event(session, action="programme.risk_updated", object_type="programme_risk", object_id=str(given.risk_id), org_id=org_id,
                       actor_user_id=principal.user_id, actor_role=role, before=before, after=after)
    word = "closed" if given.status == "closed" and before["status"] != "closed" else "updated"
    return await _done(session, org_id, programme_code, f"Risk of {name} {word} (score {after['score']}).", now)


async def _sponsor(session: AsyncSession, authorizer: Authorizer, org_id: int, user_id: int | None) -> Sponsor | ProgrammeRefused:
    """The person chosen as Senior Responsible Owner, once they are one of those who may be."""
    chosen = next((person for person in await sro_candidates(session, authorizer, org_id) if person.user_id == user_id), None)
    if chosen is None:
        return ProgrammeRefused("invalid", "Choose the Senior Responsible Owner from the organisation's people who may hold the role", "sro")
    return chosen


async def edit_programme(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, programme_code: str, given: ProgrammeInput,
    now: dt.datetime | None = None,
) -> ProgrammeOutcome:
    """The PMO keeps the record itself: name, Senior Responsible Owner (one of those who may be), status and dates."""
    now = now or dt.datetime.now(dt.UTC)
    found = await _programme(session, authorizer, principal, org_id, programme_code, "manage")
    if isinstance(found, ProgrammeRefused):
        return found
    programme_id, _, role = found
    name = (given.name or "").strip()
    if not name or len(name) > 200:
        return ProgrammeRefused("invalid", "Enter the programme's name, in 200 characters or fewer", "name")
    if given.status not in STATUSES:
        return ProgrammeRefused("invalid", "Choose active, paused or closed", "status")
    if given.starts_on and given.ends_on and given.ends_on < given.starts_on:
        return ProgrammeRefused("invalid", "The end date must be on or after the start date", "ends_on")
    current = (await session.exec(text(
        "select name, sro_name, status, starts_on, ends_on, version, sro_user_id from programme where org_id = :org and id = :id"
    ), params={"org": org_id, "id": programme_id})).one()
    if given.version is not None and given.version != current[5]:
        return ProgrammeRefused("stale", "Someone else changed this programme after you opened the page, so nothing was saved.", "programme")
    sro_user_id, sro = current[6], current[1]
    if given.sro_user_id is not None and given.sro_user_id != current[6]:
        chosen = await _sponsor(session, authorizer, org_id, given.sro_user_id)
        if isinstance(chosen, ProgrammeRefused):
            return chosen
        sro_user_id, sro = chosen.user_id, chosen.name
    if given.status == "closed" and current[2] != "closed":
        # A closed programme leaves the ladder; an exception open on it is the forum's to close, not the PMO's.
        forum = (await session.exec(text(
            "select level_name from escalation where org_id = :org and subject_key = :key and status <> 'closed' order by level desc limit 1"
        ), params={"org": org_id, "key": f"programme:{programme_code}"})).scalar_one_or_none()
        if forum is not None:
            return ProgrammeRefused("invalid", f"The programme's exception is open with the {forum}: it closes the escalation "
                                    "(on the escalation page) before the programme is closed", "status")
    await session.exec(text(
        "update programme set name = :name, sro_user_id = :sro_user, sro_name = :sro, status = :status, starts_on = :starts, ends_on = :ends,"
        " version = version + 1, updated_at = now() where org_id = :org and id = :id"
    ), params={"name": name, "sro_user": sro_user_id, "sro": sro, "status": given.status, "starts": given.starts_on, "ends": given.ends_on,
               "org": org_id, "id": programme_id})
    iso = (lambda day: day.isoformat() if day else None)
    await record_event(session, action="programme.edited", object_type="programme", object_id=str(programme_id), org_id=org_id,
                       actor_user_id=principal.user_id, actor_role=role,
                       before={"name": current[0], "sro": current[1], "sro_user_id": current[6], "status": current[2],
                               "starts_on": iso(current[3]), "ends_on": iso(current[4])},
                       after={"name": name, "sro": sro, "sro_user_id": sro_user_id, "status": given.status,
                              "starts_on": iso(given.starts_on), "ends_on": iso(given.ends_on)})
    return await _done(session, org_id, programme_code, f"{name} saved.", now)


def qipp_plan(target: Decimal, starts_on: dt.date, ends_on: dt.date | None) -> list[tuple[dt.date, Decimal]]:
    """The year's QIPP target as a monthly plan: spread evenly over the months the programme runs in the
    financial year it starts in (the pennies left over on the last month), for the PMO to reshape month by month."""
    first = month_start(starts_on)
    year_end = add_months(financial_year_start(first), 11)
    last = min(year_end, month_start(ends_on)) if ends_on else year_end
    months = [add_months(first, i) for i in range((last.year - first.year) * 12 + last.month - first.month + 1)]
    share = (target / len(months)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [(month, share) for month in months[:-1]] + [(months[-1], target - share * (len(months) - 1))]


async def create_programme(
    session: AsyncSession, authorizer: Authorizer, principal: Principal, *, org_id: int, given: NewProgrammeInput, now: dt.datetime | None = None,
) -> ProgrammeOutcome:
    """The PMO opens a programme record (Sheffield 3.1): its code and name, its Senior Responsible Owner (one of
    the organisation's people who may be), when it runs, and the QIPP saving it must deliver in its first
    financial year, planned month by month. Audited; the ladders run, so it is on the programme route at once."""
    now = now or dt.datetime.now(dt.UTC)
    role = _acting_role(authorizer, principal, await acting_domain(session, org_id), "create")
    if isinstance(role, ProgrammeRefused):
        return role
    code, name = (given.code or "").strip(), (given.name or "").strip()
    if not name or len(name) > 200:
        return ProgrammeRefused("invalid", "Enter the programme's name, in 200 characters or fewer", "name")
    if not CODE_PATTERN.fullmatch(code) or code.lower() in RESERVED_CODES:
        return ProgrammeRefused("invalid", "Enter a short code of letters, digits, dots, dashes or underscores (up to 40), like UEC", "code")
    if given.sro_user_id is None:
        return ProgrammeRefused("invalid", "Choose the Senior Responsible Owner", "sro")
    chosen = await _sponsor(session, authorizer, org_id, given.sro_user_id)
    if isinstance(chosen, ProgrammeRefused):
        return chosen
    if given.starts_on is None:
        return ProgrammeRefused("invalid", "Enter the date the programme starts", "starts_on")
    if given.ends_on is not None and given.ends_on < given.starts_on:
        return ProgrammeRefused("invalid", "The end date must be on or after the start date", "ends_on")
    if given.qipp_target is None or not (0 <= given.qipp_target < MONEY_LIMIT):
        return ProgrammeRefused("invalid", "Enter the QIPP saving to deliver in the financial year, in pounds (0 if none)", "qipp_target")
    await lock_for_transaction(session, LADDERS, [org_id])
    if (await session.exec(text("select 1 from programme where org_id = :org and code = :code"), params={"org": org_id, "code": code})).first():
        return ProgrammeRefused("invalid", f"This organisation already has a programme with the code {code}", "code")
    programme_id = (await session.exec(text(
        "insert into programme (org_id, code, name, sro_user_id, sro_name, starts_on, ends_on)"
        " values (:org, :code, :name, :sro_user, :sro, :starts, :ends) returning id"
    ), params={"org": org_id, "code": code, "name": name, "sro_user": chosen.user_id, "sro": chosen.name, "starts": given.starts_on,
               "ends": given.ends_on})).scalar_one()
    plan = qipp_plan(given.qipp_target, given.starts_on, given.ends_on)
    await session.exec(text(
        "insert into programme_benefit (org_id, programme_id, month, planned)"
        " select :org, :programme, month, planned from unnest(cast(:months as date[]), cast(:planned as numeric[])) as plan(month, planned)"
    ), params={"org": org_id, "programme": programme_id, "months": [month for month, _ in plan], "planned": [amount for _, amount in plan]})
    await record_event(session, action="programme.created", object_type="programme", object_id=str(programme_id), org_id=org_id,
                       actor_user_id=principal.user_id, actor_role=role,
                       after={"programme": code, "name": name, "sro": chosen.name, "sro_user_id": chosen.user_id,
                              "starts_on": given.starts_on.isoformat(), "ends_on": given.ends_on.isoformat() if given.ends_on else None,
                              "qipp_target": str(given.qipp_target), "qipp_months": [month.isoformat() for month, _ in plan]})
    return await _done(session, org_id, code, f"{name} created, {chosen.name} its Senior Responsible Owner, with a QIPP plan of "
                       f"£{given.qipp_target:,.0f} from {plan[0][0]:%B %Y} to {plan[-1][0]:%B %Y}.", now)
