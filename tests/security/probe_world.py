"""The world the cross-tenant probe runs in: who calls, what each organisation owns, how to tell a
leak (an organisation's identifying text in a response) and a write (its rows changed).

Callers are derived from ``policies/policy.csv`` and ``tenants/*.yaml``, so a new role or tenant
is probed without anyone remembering to add it:

* anonymous; a bearer token scoped to an organisation; one scoped to a system;
* every role in the policy, held alone, each in a different seed organisation (org roles rotate
  over the tenants, system roles are held for each system);
* in every seed organisation, one person holding *every* organisation role there (and, for a
  system's own organisation, every system role too).

Why not every role alone in every organisation (~100 callers x ~60 requests, ~2 minutes at ~18 ms
a request)? The policy only ever allows (``some(where allow)``), so what any role can reach, the
person holding every role in that organisation can reach too; the single-role callers keep code
that branches on one particular role honest. Together they cover every role in every
organisation in about a third of the time.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import delete, select, text

from server.auth.authz import Assignment, Principal, read_directory, resolve_access
from server.auth.tokens import issue_token
from server.db.models import Action, ApiToken, AppUser, Escalation, Forum, HealthSystem, ImprovementPlan, Indicator, Meeting, Organisation, OrgUnit, RoleAssignment, SpcRecalculation, SystemMembership
from server.db.session import AccessContext
from server.settings import PROJECT_ROOT
from tests.security.people import create_person, remove_people

PROBE_SYSTEM = "PRB"  # a system none of the callers belongs to, holding every tenant outside a real system
PROBE_SYSTEM_ORG = "PRB-SYS"
MARKER = "PROBE-SECRET"  # in the title of every object the probe creates, so their leaks are caught too


def _policy_roles() -> dict[str, str]:
    """role -> 'org' | 'system', from the policy file (a system role is one that reads its system)."""
    rows = [
        [cell.strip() for cell in line.split(",")]
        for line in (PROJECT_ROOT / "policies" / "policy.csv").read_text().splitlines() if line.startswith("p,")
    ]
    roles = {row[1] for row in rows}
    return {role: "system" if ["system", "read"] in [row[3:5] for row in rows if row[1] == role] else "org" for role in sorted(roles)}


def _tenants() -> dict[str, str | None]:
    """organisation code -> the system code it represents (None for the rest), from tenants/*.yaml."""
    tenants: dict[str, str | None] = {}
    for path in sorted(Path(PROJECT_ROOT / "tenants").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        tenants[document["organisation"]["code"]] = (document.get("system") or {}).get("code")
    return tenants


POLICY_ROLES = _policy_roles()
TENANTS = _tenants()
SYSTEMS = {system: code for code, system in TENANTS.items() if system}  # system code -> its organisation


@dataclass(frozen=True)
class Caller:
    name: str  # the test id: "anonymous", "viewer@RXW", "every-role@RWD", "token@system:STW"
    kind: str  # "anonymous", "session" or "token"
    home: str | None = None  # the organisation whose objects are this caller's own
    roles: tuple[tuple[str, str], ...] = ()  # (role, domain) the person holds
    token_domain: str | None = None

    @property
    def email(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", ".", self.name.lower()).strip(".")
        return f"probe.{slug}@probe.example"


def member_email_of(code: str) -> str:
    """An account of the organisation that never calls: forms aimed at it (a login, a grant) cannot lock a caller out."""
    return f"probe.member.{code.lower()}@probe.example"


def callers() -> list[Caller]:
    org_roles = [role for role, scope in POLICY_ROLES.items() if scope == "org"]
    system_roles = [role for role, scope in POLICY_ROLES.items() if scope == "system"]
    codes = sorted(TENANTS)
    found = [
        Caller("anonymous", "anonymous"),
        Caller("token@org:RXW", "token", "RXW", (("performance_manager", "org:RXW"), ("data_submitter", "org:RXW")), "org:RXW"),
    ]
    for system, organisation in sorted(SYSTEMS.items()):
        found.append(Caller(f"token@system:{system}", "token", organisation, (("system_planning_lead", f"system:{system}"),), f"system:{system}"))
    for index, role in enumerate(org_roles):
        code = codes[index % len(codes)]
        found.append(Caller(f"{role}@{code}", "session", code, ((role, f"org:{code}"),)))
    for system, organisation in sorted(SYSTEMS.items()):
        found.extend(Caller(f"{role}@system:{system}", "session", organisation, ((role, f"system:{system}"),)) for role in system_roles)
    for code in codes:
        held = tuple((role, f"org:{code}") for role in org_roles)
        if system := TENANTS[code]:
            held += tuple((role, f"system:{system}") for role in system_roles)
        found.append(Caller(f"every-role@{code}", "session", code, held))
    return found


@dataclass
class OrgObjects:
    """One organisation's things a probe can point at: what the registry's factories hand out."""

    code: str
    id: int
    system_code: str  # its system, or the probe system for organisations outside one
    member_email: str  # an account of this organisation
    indicator_code: str
    unit_code: str
    plan_id: int
    plan_action_id: int
    meeting_id: int
    meeting_action_id: int
    escalation_id: int
    recalculation_id: int
    assignment_id: int
    token_id: int
    programme_code: str  # a programme record (Sheffield 3.1), with one milestone and one risk
    programme_milestone_id: int
    programme_risk_id: int
    leak_strings: frozenset[str] = frozenset()  # its content: names, titles, descriptions no one else has
    name_strings: frozenset[str] = frozenset()  # its own name and short name (directory data)


@dataclass
class World:
    orgs: dict[str, OrgObjects]
    org_ids: dict[str, int]
    readable: dict[str, frozenset[int]]  # caller name -> organisation ids it may read (fully or contractually)
    boilerplate: str  # text every page carries: never evidence of a leak
    contracts: list[tuple[int, int]] = field(default_factory=list)  # (commissioner id, provider id)
    # Plans shared across organisations: (owner id, partner ids, the plan's own texts, the name and
    # code of the indicator it recovers, and who agreed it for each partner). A partner sees the whole
    # plan by design (DOMAIN 4.6), so these and its owner's and co-partners' names are shared data for
    # every caller who can read the owner or any partner.
    shared_plans: list[tuple[int, frozenset[int], frozenset[str]]] = field(default_factory=list)
    ownership: dict[str, str] = field(default_factory=dict)  # table -> SQL predicate on :org

    def target_for(self, caller: Caller, index: int) -> OrgObjects:
        """A tenant this caller may not read at all, different callers spread over the candidates."""
        readable = self.readable.get(caller.name, frozenset())
        candidates = sorted(code for code in self.orgs if self.org_ids[code] not in readable and code != caller.home)
        assert candidates, f"{caller.name} can read every tenant: nothing to probe"
        return self.orgs[candidates[index % len(candidates)]]

    def leak_strings(self, caller: Caller) -> frozenset[str]:
        """Identifying text of every tenant this caller may not read (other than its own home), and of
        the probe system. Contracts are published directory data, so the *names* of a readable
        organisation's contract counterparties are not evidence; their content still is."""
        readable = self.readable.get(caller.name, frozenset())
        counterparties = {p for c, p in self.contracts if c in readable} | {c for c, p in self.contracts if p in readable}
        shared_texts: set[str] = set()
        for owner, partners, texts in self.shared_plans:
            if owner in readable or partners & readable:
                counterparties |= {owner, *partners}
                shared_texts |= texts
        strings: set[str] = {f"Probe Integrated Care System {MARKER}", f"Probe system {MARKER}"}
        for objects in self.orgs.values():
            if objects.id in readable or objects.code == caller.home:
                continue
            strings |= objects.leak_strings - shared_texts
            if objects.id not in counterparties:
                strings |= objects.name_strings
        return frozenset(strings)


# Columns whose text identifies an organisation's content; values are kept only when no other
# organisation's text contains them, so shared names ("Cancer", "Trust Board") are not evidence.
IDENTIFYING_COLUMNS = ("name", "short_name", "title", "description", "definition", "narrative", "sro")


async def build_world(database, authorizer, all_callers: list[Caller]) -> World:  # type: ignore[no-untyped-def]
    async with database.session() as session:
        org_ids = dict((await session.exec(select(Organisation.code, Organisation.id))).all())
    missing = sorted(set(TENANTS) - set(org_ids))
    assert not missing, f"tenants not loaded: {missing}"
    await _create_probe_system(database, org_ids)
    async with database.session() as session:
        org_ids = dict((await session.exec(select(Organisation.code, Organisation.id))).all())
    for caller in all_callers:
        if caller.kind != "anonymous":
            await create_person(database, caller.email, home=caller.home, roles=caller.roles, name=f"Probe {caller.name}")
    for code in TENANTS:
        await create_person(database, member_email_of(code), home=code, roles=[("viewer", f"org:{code}")], name=f"Probe member of {code}")
    orgs = {code: await _org_objects(database, code, org_ids) for code in sorted(TENANTS)}
    world = World(orgs=orgs, org_ids=org_ids, readable={}, boilerplate="")
    async with database.session() as session:
        world.contracts = [tuple(row) for row in (await session.exec(text("select commissioner_id, provider_id from contract"))).all()]
    async with database.session(AccessContext(read_org_ids=frozenset(org_ids.values()))) as session:
        # The whole plan: its own texts, the indicator it recovers and the people who agreed it for their organisations.
        world.shared_plans = [
            (owner, frozenset(partners), frozenset(t for t in [*texts, *signers] if t))
            for owner, partners, signers, *texts in (await session.exec(text(
                "select p.org_id, p.partner_org_ids, array(select u.name from plan_agreement g join app_user u on u.id = g.user_id"
                " where g.plan_id = p.id), p.title, p.sro, p.programme, p.narrative, p.national_target, p.local_target, i.name, i.code"
                " from improvement_plan p left join indicator i on i.id = p.indicator_id"))).all()
        ]
    world.ownership = await _ownership_predicates(database)
    await _add_leak_strings(database, world)
    async with database.session() as session:
        directory = await read_directory(session)
    for caller in all_callers:
        if caller.kind == "anonymous":
            continue
        held = tuple(Assignment(role, domain) for role, domain in caller.roles if caller.token_domain in (None, domain))
        principal = Principal(subject=f"probe:{caller.name}", user_id=0, name=caller.name, email=caller.email, assignments=held)
        authorizer.sync_subject(principal)
        access = resolve_access(authorizer, principal, directory)
        authorizer.sync_subject(Principal(subject=principal.subject, user_id=0, name="", email="", assignments=()))
        world.readable[caller.name] = access.read_org_ids | access.contract_org_ids
    return world


async def tear_down_world(database, world: World, all_callers: list[Caller]) -> None:  # type: ignore[no-untyped-def]
    every = AccessContext.for_orgs(world.org_ids.values(), write=True)
    async with database.session(every) as session:
        for objects in world.orgs.values():
            await session.exec(delete(Action).where(Action.id.in_([objects.plan_action_id, objects.meeting_action_id])))
            await session.exec(delete(ImprovementPlan).where(ImprovementPlan.id == objects.plan_id))
            await session.exec(delete(Meeting).where(Meeting.id == objects.meeting_id))
            await session.exec(delete(Escalation).where(Escalation.id == objects.escalation_id, Escalation.ladder_code == "probe"))
        await session.exec(delete(ApiToken).where(ApiToken.id.in_([o.token_id for o in world.orgs.values()])))
        # Nobody deletes a programme record (row-level security has no delete policy, for the owner too): the
        # probe's are closed, which takes them off the programme ladder; a later probe reopens them.
        await session.exec(text("update programme set status = 'closed' where code = any(:codes)"),
                           params={"codes": [o.programme_code for o in world.orgs.values()]})
    # Nobody may delete a recalculation decision through the application's role; the owner may.
    async with database.owner_engine.begin() as connection:
        await connection.execute(delete(SpcRecalculation).where(SpcRecalculation.id.in_([o.recalculation_id for o in world.orgs.values()])))
    await remove_people(database, [caller.email for caller in all_callers if caller.kind != "anonymous"] + [member_email_of(code) for code in TENANTS])
    async with database.session() as session:
        system_id = (await session.exec(select(HealthSystem.id).where(HealthSystem.code == PROBE_SYSTEM))).scalar_one()
        await session.exec(delete(SystemMembership).where(SystemMembership.system_id == system_id))
        await session.exec(delete(HealthSystem).where(HealthSystem.id == system_id))
        await session.exec(delete(Organisation).where(Organisation.code == PROBE_SYSTEM_ORG))


async def fingerprint(database, world: World, org_id: int) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(row count, newest row version) of everything the organisation owns, per table.

    Every insert or update writes a row version stamped with a transaction id newer than any
    before it (``xmin``), and a delete lowers the count, so any write shows — cheaply enough to
    take before and after every caller.
    """
    parts = [
        f"select '{table}' as t, count(*) as n, coalesce(max(x.xmin::text::bigint), 0) as v from {table} x where {predicate}"
        for table, predicate in sorted(world.ownership.items())
    ]
    every = AccessContext(read_org_ids=frozenset(world.org_ids.values()), contract_org_ids=frozenset(world.org_ids.values()))
    async with database.session(every) as session:
        rows = await session.exec(text(" union all ".join(parts)), params={"org": org_id})
        return {table: (count, version) for table, count, version in rows.all()}


async def _ownership_predicates(database) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """How each table's rows belong to an organisation, found from the schema (so new tables are covered)."""
    async with database.session() as session:
        columns = (await session.exec(text(
            "select table_name, column_name from information_schema.columns where table_schema = 'public'"
            # a view's rows are its tables' (measurement_history: measurement and its revisions), probed there
            " and table_name not in (select table_name from information_schema.views where table_schema = 'public')"))).all()
    by_table: dict[str, set[str]] = {}
    for table, column in columns:
        by_table.setdefault(table, set()).add(column)
    predicates: dict[str, str] = {}
    owner_columns = ("org_id", "home_org_id", "owner_org_id", "commissioner_id", "provider_id", "organisation_id")
    system_of_org = "(select s.id from health_system s where s.organisation_id = :org)"
    for table, names in sorted(by_table.items()):
        clauses = [f"x.{column} = :org" for column in owner_columns if column in names]
        if "system_id" in names:
            clauses.append(f"x.system_id = any(array{system_of_org})")
        if "plan_id" in names and not clauses:
            clauses.append("x.plan_id in (select p.id from improvement_plan p where p.org_id = :org)")
        if "meeting_id" in names and not clauses:
            clauses.append("x.meeting_id in (select m.id from meeting m where m.org_id = :org)")
        if table == "organisation":
            clauses.append("x.id = :org")
        if clauses:
            predicates[table] = " or ".join(clauses)
    return predicates


async def _create_probe_system(database, org_ids: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    async with database.session() as session:
        if (await session.exec(select(HealthSystem.id).where(HealthSystem.code == PROBE_SYSTEM))).first():
            return
        organisation = Organisation(code=PROBE_SYSTEM_ORG, name=f"Probe Integrated Care System {MARKER}", kind="system", is_tenant=False)
        session.add(organisation)
        await session.flush()
        system = HealthSystem(code=PROBE_SYSTEM, name=f"Probe system {MARKER}", organisation_id=organisation.id)
        session.add(system)
        await session.flush()
        in_a_system = {code for code, system_code in TENANTS.items() if system_code} | {
            member for members in await _real_members(session) for member in members}
        for code in sorted(TENANTS):
            if code not in in_a_system:
                session.add(SystemMembership(system_id=system.id, organisation_id=org_ids[code]))


async def _real_members(session) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows = await session.exec(
        select(HealthSystem.code, Organisation.code).join(SystemMembership, SystemMembership.system_id == HealthSystem.id)
        .join(Organisation, Organisation.id == SystemMembership.organisation_id).where(HealthSystem.code != PROBE_SYSTEM))
    members: dict[str, list[str]] = {}
    for system, member in rows.all():
        members.setdefault(system, []).append(member)
    return list(members.values())


async def _org_objects(database, code: str, org_ids: dict[str, int]) -> OrgObjects:  # type: ignore[no-untyped-def]
    org_id = org_ids[code]
    member_email = member_email_of(code)
    async with database.session() as session:
        system_code = (await session.exec(
            select(HealthSystem.code).join(SystemMembership, SystemMembership.system_id == HealthSystem.id, isouter=True)
            .where((HealthSystem.organisation_id == org_id) | (SystemMembership.organisation_id == org_id)).order_by(HealthSystem.code)
        )).scalars().first()
        member_id = (await session.exec(select(AppUser.id).where(AppUser.email == member_email))).scalar_one()
        assignment_id = (await session.exec(
            select(RoleAssignment.id).where(RoleAssignment.user_id == member_id, RoleAssignment.org_id == org_id).order_by(RoleAssignment.id)
        )).scalars().first()
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        indicator_code = (await session.exec(select(Indicator.code).where(Indicator.org_id == org_id).order_by(Indicator.position))).scalars().first()
        unit_code = (await session.exec(
            select(OrgUnit.code).where(OrgUnit.org_id == org_id, ~OrgUnit.id.in_(select(OrgUnit.parent_id).where(OrgUnit.parent_id.is_not(None))))
            .order_by(OrgUnit.code))).scalars().first()
        forum_id = (await session.exec(select(Forum.id).where(Forum.org_id == org_id).order_by(Forum.id))).scalars().first()
        assert indicator_code and unit_code and forum_id, f"{code} has no indicator, unit or forum to probe with"
        plan = ImprovementPlan(org_id=org_id, title=f"Recovery plan {MARKER} {code}", sro=f"Probe SRO {code}")
        meeting = Meeting(org_id=org_id, forum_id=forum_id, scheduled_for=dt.date(2031, 1, 6), subject_key=f"probe:{code}")
        session.add_all([plan, meeting])
        await session.flush()
        plan_action = Action(org_id=org_id, plan_id=plan.id, description=f"Plan action {MARKER} {code}", owner="Probe owner", due_date=dt.date(2031, 1, 1))
        meeting_action = Action(org_id=org_id, meeting_id=meeting.id, description=f"Meeting action {MARKER} {code}", owner="Probe owner", due_date=dt.date(2031, 1, 1))
        session.add_all([plan_action, meeting_action])
        await session.flush()
        token = await issue_token(session, name=f"Probe token {code}", user_id=member_id, roles=["viewer"], org_id=org_id)
        escalation_id = await _escalation_of(session, org_id, code)
        # A live recalculation after every stored period: it starts no segment, but its id can be probed.
        indicator_id = (await session.exec(select(Indicator.id).where(Indicator.org_id == org_id, Indicator.code == indicator_code))).scalar_one()
        root_id = (await session.exec(select(OrgUnit.id).where(OrgUnit.org_id == org_id, OrgUnit.parent_id.is_(None)))).scalar_one()
        recalculation = SpcRecalculation(org_id=org_id, indicator_id=indicator_id, unit_id=root_id, period=dt.date(2031, 1, 1),
                                         reason=f"Recalculation {MARKER} {code}")
        session.add(recalculation)
        await session.flush()
        programme_code, milestone_id, risk_id = await _programme_of(session, org_id, code)
    return OrgObjects(
        code=code, id=org_id, system_code=system_code or PROBE_SYSTEM, member_email=member_email, indicator_code=indicator_code,
        unit_code=unit_code, plan_id=plan.id, plan_action_id=plan_action.id, meeting_id=meeting.id, meeting_action_id=meeting_action.id,
        escalation_id=escalation_id, recalculation_id=recalculation.id, assignment_id=assignment_id, token_id=token.token.id,
        programme_code=programme_code, programme_milestone_id=milestone_id, programme_risk_id=risk_id,
    )


async def _programme_of(session, org_id: int, code: str) -> tuple[str, int, int]:  # type: ignore[no-untyped-def]
    """A programme record of the organisation's own (a code no other organisation has), a milestone due
    long after the demo and a low risk: nothing it holds raises an exception."""
    programme_code = f"PROBE-{code}"
    params = {"org": org_id, "code": programme_code, "name": f"Programme {MARKER} {code}"}
    programme_id = (await session.exec(text(
        "insert into programme (org_id, code, name, sro_name) values (:org, :code, :name, 'Probe SRO')"
        " on conflict (org_id, code) do update set status = 'active' returning id"), params=params)).scalar_one()
    milestone_id = (await session.exec(text(
        "insert into programme_milestone (org_id, programme_id, title, due_on) values (:org, :id, :title, '2031-01-01') returning id"
    ), params={"org": org_id, "id": programme_id, "title": f"Milestone {MARKER} {code}"})).scalar_one()
    risk_id = (await session.exec(text(
        "insert into programme_risk (org_id, programme_id, description, likelihood, impact, owner, raised_on)"
        " values (:org, :id, :description, 1, 1, 'Probe owner', '2026-01-01') returning id"
    ), params={"org": org_id, "id": programme_id, "description": f"Risk {MARKER} {code}"})).scalar_one()
    return programme_code, milestone_id, risk_id


async def _escalation_of(session, org_id: int, code: str) -> int:  # type: ignore[no-untyped-def]
    """An escalation of the organisation: one its ladder raised, or (if none) one made for the probe."""
    existing = (await session.exec(select(Escalation.id).where(Escalation.org_id == org_id).order_by(Escalation.id))).scalars().first()
    if existing is not None:
        return existing
    escalation = Escalation(
        org_id=org_id, ladder_code="probe", subject_type="organisation", subject_key=f"probe:{code}",
        subject_name=f"Escalation {MARKER} {code}", level=1, level_code="probe", level_name="Probe level",
        explanation={"text": f"Raised for the probe {MARKER} {code}", "source": "probe", "facts": {}},
    )
    session.add(escalation)
    await session.flush()
    return escalation.id


async def _add_leak_strings(database, world: World) -> None:  # type: ignore[no-untyped-def]
    """Candidates are identifying columns and long indicator codes; a candidate found anywhere in
    another organisation's text (any text column) or in the templates is not evidence of a leak."""
    every = AccessContext(read_org_ids=frozenset(world.org_ids.values()))
    candidates: dict[int, set[str]] = {}
    corpus: dict[int, list[str]] = {}
    async with database.session(every) as session:
        text_columns = (await session.exec(text(
            "select table_name, column_name from information_schema.columns where table_schema = 'public'"
            " and data_type in ('text', 'character varying') order by table_name, ordinal_position"))).all()
        by_table: dict[str, list[str]] = {}
        for table, column in text_columns:
            by_table.setdefault(table, []).append(column)
        for table, predicate in world.ownership.items():
            columns = by_table.get(table, [])
            if not columns:
                continue
            for org_id in world.org_ids.values():
                rows = (await session.exec(text(f"select {', '.join(columns)} from {table} x where {predicate}"), params={"org": org_id})).all()
                for row in rows:
                    for column, value in zip(columns, row):
                        if value is None:
                            continue
                        corpus.setdefault(org_id, []).append(str(value))
                        if column in IDENTIFYING_COLUMNS and table != "organisation":
                            candidates.setdefault(org_id, set()).add(str(value))
        for objects in world.orgs.values():
            codes = (await session.exec(select(Indicator.code).where(Indicator.org_id == objects.id))).scalars().all()
            candidates.setdefault(objects.id, set()).update(c for c in codes if len(c) >= 5)
            names = (await session.exec(select(Organisation.name, Organisation.short_name).where(Organisation.id == objects.id))).one()
            objects.name_strings = frozenset(n for n in names if n and len(n) >= 8)
    templates = "\n".join(path.read_text() for path in (PROJECT_ROOT / "templates").rglob("*.html"))
    for objects in world.orgs.values():
        others = "\n".join(v for org_id, texts in corpus.items() if org_id != objects.id for v in texts)
        objects.leak_strings = frozenset(
            v for v in candidates.get(objects.id, set())
            if len(v) >= 8 and re.search(r"[A-Za-z]", v) and v not in others and v not in templates
        )
