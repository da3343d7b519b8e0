"""The decisions behind the demo's stories, made before its assessments are derived.

An indicator whose ``demo`` block names a ``plan`` gets that improvement plan, in delivery since the
month it names, with its history (drafted, critiqued, agreed by each partner, for a SPIP formally
signed off and presented, handed over for delivery): an ``improving`` series recovers after it, and
a SPIP on a system indicator that has not improved takes the system's ladder up (STW "Performance
Improvement" steps 3-4). A ``step_change`` series gets its SPC limits recalculated from the step, as
a performance lead records it (Making Data Count). A judgement the ``demo`` block names is recorded
once the series is derived, as a person entitled to it records it, and moves the ladder as theirs
would. A second run adds nothing where a plan, a recalculation or a review already stands.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.auth.authz import Authorizer, Principal, load_principal_assignments, read_directory, resolve_access
from server.db.session import AccessContext, Database
from server.demo.users import DEMO_USERS
from server.tenants.spec import DemoPlanSpec, IndicatorSpec, TenantFile

SIGNING_ROLES = ("executive", "board_member")  # may sign a plan for their organisation (policies/policy.csv: sign_partner)
_KIND_WORDS = {"recovery": "recovery plan", "exception": "exception report action plan", "spip": "system performance improvement plan"}


def months_before(period: dt.date, months: int) -> dt.date:
    index = period.year * 12 + period.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def plan_partners(code: str, spec: IndicatorSpec) -> list[str]:
    """The organisations responsible for delivering the plan: a SPIP's are the members whose figures make the indicator."""
    if spec.from_members is not None:
        return sorted(spec.from_members.indicators)
    return [code]


async def generate_demo_decisions(session: AsyncSession, tenants: dict[str, TenantFile], *, latest: dt.date) -> int:
    """Add the demo's improvement plans and SPC recalculations (``latest``: the newest month of data). Returns how many."""
    org_ids = dict((await session.exec(text("select code, id from organisation"))).all())
    users = dict((await session.exec(text("select email, id from app_user"))).all())
    added = 0
    for code, tenant in tenants.items():
        for spec in tenant.indicators:
            if spec.demo is None:
                continue
            indicator_id = (await session.exec(text("select id from indicator where org_id = :org and code = :code"),
                                               params={"org": org_ids[code], "code": spec.code})).scalar_one()
            if spec.demo.plan is not None:
                added += await _plan(session, org_ids, users, code, spec, spec.demo.plan, indicator_id, latest)
            if spec.demo.story == "step_change":
                added += await _recalculation(session, org_ids[code], users, code, spec, indicator_id, latest)
    return added


async def _plan(session: AsyncSession, org_ids: dict[str, int], users: dict[str, int], code: str, spec: IndicatorSpec,
                plan: DemoPlanSpec, indicator_id: int, latest: dt.date) -> int:
    org_id = org_ids[code]
    if (await session.exec(text("select 1 from improvement_plan where org_id = :org and indicator_id = :indicator"),
                           params={"org": org_id, "indicator": indicator_id})).first():
        return 0
    partners = plan_partners(code, spec)
    partner_ids = sorted(org_ids[p] for p in partners)
    accountability = "sole" if len(partners) == 1 and plan.kind != "spip" else ("system" if plan.kind == "spip" and len(partners) > 2 else "joint")
    started = months_before(latest, plan.months_ago)  # STW step 3 counts the months since the plan started
    title = plan.title or f"{spec.name}: {_KIND_WORDS[plan.kind]}"
    plan_id = (await session.exec(text(
        """
        insert into improvement_plan (org_id, partner_org_ids, kind, title, status, accountability, indicator_id, sro, leads, narrative,
                                      delivered_this_month, planned_next_month, started_on, version, pmo_support, national_target, local_target)
        values (:org, :partners, :kind, :title, 'in_delivery', :accountability, :indicator, :sro, '{}', :narrative, :delivered, :next, :started, 1,
                :pmo, :national, :local)
        returning id
        """
    ), params={"org": org_id, "partners": partner_ids, "kind": plan.kind, "title": title, "accountability": accountability,
               "indicator": indicator_id, "sro": spec.owner or "Senior Responsible Owner", "started": started,
               "pmo": "full" if plan.kind == "spip" else "light", "national": _target_words(spec, "national"), "local": _target_words(spec, "local"),
               "narrative": f"{spec.name} has missed its target for consecutive months. The plan sets out the actions, the monthly "
                            "trajectory back to target and how the partners will report progress.",
               "delivered": "Actions reviewed at the monthly delivery meeting; validated figures reported against the trajectory.",
               "next": "Review the trajectory and the risks to recovery; agree any further support needed."})).scalar_one()
    await session.exec(text("insert into plan_partner (plan_id, org_id, owner_org_id) values (:plan, :partner, :org)"),
                       params=[{"plan": plan_id, "partner": partner, "org": org_id} for partner in partner_ids])
    at = dt.datetime.combine(months_before(started, 1), dt.time(10), tzinfo=dt.UTC)
    events: list[tuple[str, str | None, str, int | None]] = [("drafted", None, "draft", None), ("critique", "draft", "critiqued", None)]
    for partner in partners:
        signer = next((d for d in DEMO_USERS if any(role in SIGNING_ROLES and domain == f"org:{partner}" for role, domain in d.roles)), None)
        if signer is None or signer.email not in users:
            continue
        role = next(role for role, domain in signer.roles if role in SIGNING_ROLES and domain == f"org:{partner}")
        await session.exec(text(
            "insert into plan_agreement (plan_id, org_id, owner_org_id, user_id, role, plan_version, agreed_at)"
            " values (:plan, :partner, :org, :user, :role, 1, :at)"
        ), params={"plan": plan_id, "partner": org_ids[partner], "org": org_id, "user": users[signer.email], "role": role,
                   "at": at + dt.timedelta(days=7)})
        events.append(("partner_agreed", "critiqued", "critiqued", org_ids[partner]))
    events.append(("all_partners_agreed", "critiqued", "agreed", None))
    if plan.kind == "spip":
        events += [("sign_off", "agreed", "signed_off", None), ("present", "signed_off", "presented", None),
                   ("start_delivery", "presented", "in_delivery", None)]
    else:
        events.append(("start_delivery", "agreed", "in_delivery", None))
    await session.exec(text(
        "insert into plan_event (plan_id, owner_org_id, event, from_status, to_status, actor_name, acting_for_org_id, details, plan_version, at)"
        " values (:plan, :org, :event, :from_status, :to_status, 'Demo data', :acting_for, cast(:details as jsonb), 1, :at)"
    ), params=[{"plan": plan_id, "org": org_id, "event": event, "from_status": before, "to_status": after, "acting_for": acting_for,
                "details": json.dumps({"partners": partners, "kind": plan.kind} if event == "drafted" else {}),
                "at": at + dt.timedelta(days=3 * index)} for index, (event, before, after, acting_for) in enumerate(events)])
    return 1


def _target_words(spec: IndicatorSpec, kind: str) -> str | None:
    target = next((t for t in spec.targets if t.kind == kind and t.unit is None), None)
    if target is None:
        return None
    value = f"{target.value:.0%}" if spec.unit == "percent" else f"{target.value:,g}"
    return f"{value} ({target.description})" if target.description else value


async def _recalculation(session: AsyncSession, org_id: int, users: dict[str, int], code: str, spec: IndicatorSpec, indicator_id: int,
                         latest: dt.date) -> int:
    """Limits recalculated at the organisation level from the step (the series' first month at its new level)."""
    step = months_before(latest, (spec.demo.turned_months_ago or 12) - 1)  # type: ignore[union-attr]
    root = (await session.exec(text("select id from org_unit where org_id = :org and parent_id is null"), params={"org": org_id})).scalar_one()
    if (await session.exec(text("select 1 from spc_recalculation where org_id = :org and indicator_id = :indicator"),
                           params={"org": org_id, "indicator": indicator_id})).first():
        return 0
    recorder = next((users[d.email] for d in DEMO_USERS if d.email in users and d.home == code
                     and any(role in ("performance_manager", "planning_performance_lead") for role, _ in d.roles)), None)
    await session.exec(text(
        "insert into spc_recalculation (org_id, indicator_id, unit_id, period, reason, recorded_by)"
        " values (:org, :indicator, :unit, :period, :reason, :user)"
    ), params={"org": org_id, "indicator": indicator_id, "unit": root, "period": step, "user": recorder,
               "reason": f"A sustained shift from {step:%B %Y} with a known cause (the service was redesigned that month): "
                         "the limits describe the process since."})
    return 1


async def grant_demo_autonomy(database: Database, authorizer: Authorizer, *, today: dt.date | None = None) -> int:
    """Hold the accountability review of every division whose sustained performance earns more autonomy than
    it has (ULHT 6: the review agrees the level), through the same service the earned autonomy page uses,
    as a demo account entitled to record it. Run after the ladders; returns the reviews recorded."""
    from server.autonomy.framework import autonomy_framework
    from server.autonomy.review import ReviewInput, ReviewRecorded, record_review
    from server.autonomy.store import division_autonomy
    from server.tenants.load import framework_of

    today = today or dt.date.today()
    async with database.session() as session:
        org_ids = dict((await session.exec(text("select code, id from organisation"))).all())
        users = {row[0]: row[1:] for row in (await session.exec(text("select email, id, name from app_user"))).all()}
    recorded = 0
    for code, org_id in org_ids.items():
        async with database.session(AccessContext.for_orgs([org_id])) as session:
            autonomy = autonomy_framework(await framework_of(session, org_id))
        reviewer = None if autonomy is None else next((d for d in DEMO_USERS if d.email in users and any(
            role in autonomy.spec.review.roles and domain == f"org:{code}" for role, domain in d.roles)), None)
        if autonomy is None or reviewer is None:
            continue
        user_id, name = users[reviewer.email]
        # The review is recorded in the reviewer's name (row-level security checks the recorder is the user acting).
        async with database.session(AccessContext.for_orgs([org_id], write=True, user_id=user_id)) as session:
            awaiting = [d for d in await division_autonomy(session, org_id, autonomy) if d.awaiting_review and d.last_review is None]
            principal = await _demo_principal(session, authorizer, user_id, name, reviewer.email)
            for division in awaiting:
                months = division.explanation.get("facts", {}).get("months_sustained")  # type: ignore[union-attr]
                notes = (f"{division.unit_name} has met every criterion for {months} months in a row. The review agrees the "
                         f"level its performance earns, '{autonomy.level_name(division.earned_level)}', and the powers it brings.")
                outcome = await record_review(session, authorizer, principal, org_id=org_id, given=ReviewInput(
                    unit=division.unit_code, held_on=today, autonomy_level=division.earned_level, escalation_level=None, notes=notes))
                if not isinstance(outcome, ReviewRecorded):
                    raise RuntimeError(f"demo accountability review of {division.unit_code}: {outcome.message}")
                recorded += 1
    return recorded


async def record_demo_judgements(database: Database, authorizer: Authorizer, tenants: dict[str, TenantFile], *,
                                 now: dt.datetime | None = None) -> int:
    """Record the judgements indicators' ``demo`` blocks name, through the judgement service (the ladders run
    with each), in the name of a demo account holding one of the kind's roles. Run after the derivation."""
    from server.judgements.record import (
        JudgementInput,
        JudgementRecorded,
        record_judgement,
    )

    org_ids, systems, users = await _demo_directory(database)
    recorded = 0
    for code, tenant in tenants.items():
        org_id = org_ids[code]
        domains = {f"org:{code}"} | ({f"system:{systems[org_id]}"} if org_id in systems else set())
        for spec in tenant.indicators:
            for kind_code, value in (spec.demo.judgements if spec.demo else {}).items():
                kind = tenant.judgements[kind_code]
                person = next((d for d in DEMO_USERS if d.email in users and any(
                    role in kind.roles and domain in domains for role, domain in d.roles)), None)
                if person is None:
                    raise RuntimeError(f"demo judgement {kind_code} on {code} {spec.code}: no demo account holds {kind.roles}")
                user_id, name = users[person.email]
                async with database.session(AccessContext.for_orgs([org_id], write=True, user_id=user_id)) as session:
                    if (await session.exec(text("select 1 from judgement where org_id = :org and kind = :kind and subject_key = :subject"),
                                           params={"org": org_id, "kind": kind_code, "subject": f"indicator:{spec.code}"})).first():
                        continue
                    principal = await _demo_principal(session, authorizer, user_id, name, person.email)
                    outcome = await record_judgement(session, authorizer, principal, org_id=org_id, now=now, given=JudgementInput(
                        kind=kind_code, subject_key=f"indicator:{spec.code}", value=value,
                        reason=f"{kind.name}: {'yes' if value is True else 'no' if value is False else value}, on the evidence in the "
                               "delivery group's report and the latest validated figures."))
                    if not isinstance(outcome, JudgementRecorded):
                        raise RuntimeError(f"demo judgement {kind_code} on {code} {spec.code}: {outcome.message}")
                recorded += 1
    return recorded


async def record_demo_maturity(database: Database, authorizer: Authorizer, tenants: dict[str, TenantFile], *,
                               now: dt.datetime | None = None) -> int:
    """Record the maturity self-assessments the files' ``demo.maturity`` blocks name, through the maturity
    service the page uses (the ladders run with each), in the name of a demo account holding one of the
    framework's ``maturity.roles`` for the organisation (a system's own: for the system). A scope that
    already has an assessment is left as it stands. Returns how many were recorded."""
    from server.maturity.framework import maturity_framework
    from server.maturity.history import latest_assessment_id
    from server.maturity.record import MaturityInput, MaturityRecorded, record_maturity

    org_ids, systems, users = await _demo_directory(database)
    recorded = 0
    for code, tenant in tenants.items():
        if tenant.demo is None or not tenant.demo.maturity:
            continue
        org_id = org_ids[code]
        async with database.session(AccessContext.for_orgs([org_id])) as session:
            framework = await maturity_framework(session, org_id)
        if framework is None:
            raise RuntimeError(f"demo maturity of {code}: its framework declares no maturity levels")
        domain = f"system:{systems[org_id]}" if org_id in systems else f"org:{code}"
        assessor = next((d for d in DEMO_USERS if d.email in users and any(
            role in framework.spec.roles and where == domain for role, where in d.roles)), None)
        if assessor is None:
            raise RuntimeError(f"demo maturity of {code}: no demo account holds {framework.spec.roles} for {domain}")
        user_id, name = users[assessor.email]
        # The assessor's access as a request resolves it: the ladders the service re-runs read what they
        # may read (a commissioner's contract subjects read its providers' figures).
        async with database.session() as session:
            principal = await _demo_principal(session, authorizer, user_id, name, assessor.email)
            access = resolve_access(authorizer, principal, await read_directory(session))
        async with database.session(access) as session:
            for assessment in tenant.demo.maturity:
                if await latest_assessment_id(session, org_id, assessment.programme) is not None:
                    continue
                outcome = await record_maturity(session, authorizer, principal, org_id=org_id, now=now, given=MaturityInput(
                    level=assessment.level, evidence=assessment.evidence, programme=assessment.programme))
                if not isinstance(outcome, MaturityRecorded):
                    raise RuntimeError(f"demo maturity of {code} {assessment.programme or ''}: {outcome.message}")
                recorded += 1
    return recorded


async def _demo_directory(database: Database) -> tuple[dict[str, int], dict[int, str], dict[str, tuple[int, str]]]:
    """Organisation ids by code, system codes by their organisation's id, and (id, name) of each account by email."""
    async with database.session() as session:
        org_ids = dict((await session.exec(text("select code, id from organisation"))).all())
        systems = dict((await session.exec(text("select organisation_id, code from health_system"))).all())
        users = {row[0]: (row[1], row[2]) for row in (await session.exec(text("select email, id, name from app_user"))).all()}
    return org_ids, systems, users


async def _demo_principal(session: AsyncSession, authorizer: Authorizer, user_id: int, name: str, email: str) -> Principal:
    """A demo account acting as a request would resolve it: its role assignments read, the enforcer in step."""
    principal = Principal(subject=f"user:{user_id}", user_id=user_id, name=name, email=email,
                          assignments=await load_principal_assignments(session, user_id))
    authorizer.sync_subject(principal)
    return principal
