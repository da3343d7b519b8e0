"""Casbin decides; SQL resolves relationships; the result is the request's AccessContext.

The database is the source of truth for role assignments. When a request authenticates we read
the subject's assignments (one indexed query) and bring the enforcer's grouping rules for that
subject into line with them, so a grant or revocation made by another process is honoured on the
very next request without a watcher. Only the directory behind resolved access is cached per
process; the AccessWatcher empties that cache when any process commits a change to it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import casbin
from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Contract, HealthSystem, Organisation, Region, SystemMembership
from server.db.session import AccessContext

log = logging.getLogger(__name__)


def org_domain(code: str) -> str:
    return f"org:{code}"


def system_domain(code: str) -> str:
    return f"system:{code}"


def region_domain(code: str) -> str:
    return f"region:{code}"


NATIONAL_DOMAIN = "national"  # every organisation: held only by roles the policy lets read nationally


async def acting_domain(session: AsyncSession, org_id: int) -> str:
    """The Casbin domain an organisation's own business is decided in.

    A system's organisation (an ICS) is governed by roles held for the system, ``system:<code>``;
    any other organisation by roles held for it, ``org:<code>``.
    """
    system_code = (await session.exec(select(HealthSystem.code).where(HealthSystem.organisation_id == org_id))).scalar_one_or_none()
    if system_code:
        return system_domain(system_code)
    return org_domain((await session.exec(select(Organisation.code).where(Organisation.id == org_id))).scalar_one())


@dataclass(frozen=True)
class Assignment:
    role: str
    domain: str  # org:<code> or system:<code>


@dataclass
class Principal:
    """Who is asking: a person (session) or a tool (bearer token), with their role assignments."""

    subject: str  # user:<id> or token:<id>
    user_id: int
    name: str
    email: str
    assignments: tuple[Assignment, ...]
    via: str = "session"  # or "token"
    csrf_token: str | None = None
    home_org_code: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    read_after: int | None = field(default=None, compare=False)  # a token's last write (server/db/replica.py)

    def domains(self) -> list[str]:
        return sorted({a.domain for a in self.assignments})

    def roles_in(self, domain: str) -> list[str]:
        return sorted(a.role for a in self.assignments if a.domain == domain)


class Authorizer:
    def __init__(self, policies_dir: Path):
        self.enforcer = casbin.Enforcer(str(policies_dir / "model.conf"), str(policies_dir / "policy.csv"))
        # pycasbin logs every denied request at WARNING; here a denial is an ordinary answer (each
        # request asks several), and uvicorn's logging set-up re-enables the loggers Enforcer disabled.
        logging.getLogger("casbin.enforcer").setLevel(logging.ERROR)
        self._synced: dict[str, frozenset[tuple[str, str, str]]] = {}
        self.access_cache = AccessCache()

    def sync_subject(self, principal: Principal) -> None:
        """Bring the subject's grouping rules in line with its assignments (read from SQL this request).

        The enforcer is only ever changed here, so a record of what was last synced per subject
        replaces Casbin's filtered scan of every rule (16 ms at 20k assignments, measured in
        tests/benchmarks/bench_enforce.py): the usual request compares two small sets.
        """
        wanted = frozenset((principal.subject, a.role, a.domain) for a in principal.assignments)
        current = self._synced.get(principal.subject)
        if current == wanted:
            return
        if current is None:
            current = frozenset(tuple(rule) for rule in self.enforcer.get_filtered_grouping_policy(0, principal.subject))
        stale, missing = current - wanted, wanted - current
        if stale:
            self.enforcer.remove_grouping_policies([list(rule) for rule in stale])
        if missing:
            self.enforcer.add_grouping_policies([list(rule) for rule in missing])
        self._synced[principal.subject] = wanted

    def allows(self, principal: Principal | None, domain: str, obj: str, act: str) -> bool:
        if principal is None:
            return False
        return bool(self.enforcer.enforce(principal.subject, domain, obj, act))

    def roles_granting(self, obj: str, act: str) -> list[str]:
        return sorted({rule[0] for rule in self.enforcer.get_filtered_policy(2, obj, act)})

    def roles_entitled(self, principal: Principal | None, domain: str, obj: str, act: str, named: Collection[str]) -> list[str]:
        """The principal's roles in the domain that a tenant file names for this act and the policy also grants it."""
        if principal is None:
            return []
        granting = set(self.roles_granting(obj, act))
        return [role for role in principal.roles_in(domain) if role in named and role in granting]


@dataclass(frozen=True)
class FieldRefusal:
    """An expected refusal by a recording service: why (a reason word), in words, and the form field or argument at fault."""

    reason: str
    message: str
    field: str | None = None

    @property
    def status_code(self) -> int:
        return {"not_found": 404, "not_allowed": 403, "stale": 409}.get(self.reason, 400)


@dataclass(frozen=True)
class Directory:
    """Organisation and system codes and ids, and who belongs to which system: small, read per request."""

    org_ids: dict[str, int]
    system_members: dict[str, list[str]]  # system code -> member organisation codes (incl. the system's own org)
    contracts: dict[str, list[str]]  # commissioner code -> provider codes
    region_systems: dict[str, list[str]] = field(default_factory=dict)  # region code -> its systems' codes


async def read_directory(session: AsyncSession) -> Directory:
    org_ids = {code: org_id for code, org_id in (await session.exec(select(Organisation.code, Organisation.id))).all()}
    code_of = {org_id: code for code, org_id in org_ids.items()}
    members: dict[str, list[str]] = {}
    rows = await session.exec(
        select(HealthSystem.code, HealthSystem.organisation_id, SystemMembership.organisation_id)
        .join(SystemMembership, SystemMembership.system_id == HealthSystem.id, isouter=True)
    )
    for system_code, system_org_id, member_id in rows.all():
        codes = members.setdefault(system_code, [code_of[system_org_id]])
        if member_id is not None and code_of[member_id] not in codes:
            codes.append(code_of[member_id])
    contracts: dict[str, list[str]] = {}
    for commissioner_id, provider_id in (await session.exec(select(Contract.commissioner_id, Contract.provider_id))).all():
        contracts.setdefault(code_of[commissioner_id], []).append(code_of[provider_id])
    region_systems: dict[str, list[str]] = {}
    for region_code, system_code in (await session.exec(
        select(Region.code, HealthSystem.code).join(HealthSystem, HealthSystem.region_id == Region.id).order_by(HealthSystem.code)
    )).all():
        region_systems.setdefault(region_code, []).append(system_code)
    return Directory(org_ids=org_ids, system_members=members, contracts=contracts, region_systems=region_systems)


def resolve_access(authorizer: Authorizer, principal: Principal | None, directory: Directory) -> AccessContext:
    """The organisations this principal may read in full, write, and read contractually."""
    if principal is None:
        return AccessContext()
    read: set[int] = set()
    write: set[int] = set()
    contract: set[int] = set()
    for domain in principal.domains():
        kind, _, code = domain.partition(":")
        if kind == "org" and code in directory.org_ids:
            if authorizer.allows(principal, domain, "organisation", "read"):
                read.add(directory.org_ids[code])
            if any(authorizer.allows(principal, domain, obj, act) for obj, act in _WRITE_PERMISSIONS):
                write.add(directory.org_ids[code])
            if authorizer.allows(principal, domain, "contractual_indicators", "read"):
                contract.update(directory.org_ids[p] for p in directory.contracts.get(code, []))
        elif kind == "system" and authorizer.allows(principal, domain, "system", "read"):
            members = directory.system_members.get(code, [])
            read.update(directory.org_ids[m] for m in members)
            # System roles act on the system's own organisation (its SPIPs, forums, escalations),
            # never on a member's rows: members[0] is the system's organisation.
            if members and any(authorizer.allows(principal, domain, obj, act) for obj, act in _SYSTEM_WRITE_PERMISSIONS):
                write.add(directory.org_ids[members[0]])
        # Region and national roles read only (issue 9): every member of the region's systems, or everyone.
        elif kind == "region" and authorizer.allows(principal, domain, "region", "read"):
            systems = directory.region_systems.get(code, [])
            read.update(directory.org_ids[m] for system in systems for m in directory.system_members.get(system, []))
        elif domain == NATIONAL_DOMAIN and authorizer.allows(principal, domain, "national", "read"):
            read.update(directory.org_ids.values())
    return AccessContext(
        read_org_ids=frozenset(read), write_org_ids=frozenset(write),
        contract_org_ids=frozenset(contract - read), user_id=principal.user_id,
    )


_DIRECTORY_FINGERPRINT = text(
    """
    select (select count(*) || ':' || coalesce(sum(hashtext(id || ':' || code)), 0) from organisation)
        || '/' || (select count(*) || ':' || coalesce(sum(hashtext(id || ':' || code || ':' || organisation_id || ':' || coalesce(region_id, 0))), 0) from health_system)
        || '/' || (select count(*) || ':' || coalesce(sum(hashtext(id || ':' || code)), 0) from region)
        || '/' || (select count(*) || ':' || coalesce(sum(hashtext(system_id || ':' || organisation_id)), 0) from system_membership)
        || '/' || (select count(*) || ':' || coalesce(sum(hashtext(commissioner_id || ':' || provider_id)), 0) from contract)
    """
)


class AccessCache:
    """Each principal's resolved access, computed once and reused until its roles or the directory change.

    Resolving access asks Casbin a handful of questions per organisation a principal holds roles in
    (a national reader: 210 organisations, over a thousand enforce calls, tens of ms). The answer
    depends only on the principal's assignments (read from SQL on every request, so a grant or
    revocation is in the key at once), the static policy, and the directory (organisations,
    systems, memberships, contracts). While an :class:`AccessWatcher` listens, a change to the
    directory arrives as a notification after its commit and empties the cache; otherwise the
    directory is checked on every request with one statement that fingerprints its tables.
    """

    def __init__(self, max_entries: int = 10_000):
        self.max_entries = max_entries
        self._fingerprint: str | None = None
        self._directory: Directory | None = None
        self._access: dict[tuple[str, tuple[Assignment, ...]], AccessContext] = {}
        self.notified = False  # True while a watcher listens: changes then arrive as notifications
        self._generation = 0  # bumped by every invalidation: a directory read before it is not kept

    def invalidate(self) -> None:
        self._generation += 1
        self._directory = self._fingerprint = None
        self._access.clear()

    async def resolve(self, session: AsyncSession, authorizer: "Authorizer", principal: Principal) -> tuple[AccessContext, Directory]:
        directory = self._directory
        generation = self._generation
        if directory is None or not self.notified:
            fingerprint = None if self.notified else (await session.exec(_DIRECTORY_FINGERPRINT)).scalar_one()
            if directory is None or fingerprint != self._fingerprint:
                directory = await read_directory(session)
                if generation != self._generation:  # invalidated while reading: use it for this request only
                    return resolve_access(authorizer, principal, directory), directory
                self._directory, self._fingerprint = directory, fingerprint
                self._access.clear()
        key = (principal.subject, principal.assignments)
        access = self._access.get(key)
        if access is None:
            if len(self._access) >= self.max_entries:
                self._access.clear()
            access = self._access[key] = resolve_access(authorizer, principal, directory)
        return access, directory


# Triggers (migration 0008) notify this channel at the commit of any change to the directory tables.
ACCESS_CHANNEL = "accord_access"


class AccessWatcher:
    """Empties an AccessCache when another process (or this one) commits a directory change.

    Listens on a connection of its own (not the pool's), checks it every ``check_seconds`` and
    reconnects after a failure; the cache falls back to the per-request fingerprint while it is
    not listening, and is emptied on every (re)connection, so nothing missed in between is kept.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], cache: AccessCache, *,
                 check_seconds: float = 30.0, retry_seconds: float = 2.0):
        self._connect = connect
        self.cache = cache
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self, wait_seconds: float = 5.0) -> None:
        """Start listening; wait up to ``wait_seconds`` for the first connection (serving starts either way)."""
        self._task = asyncio.create_task(self._run(), name="accord-access-watcher")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await self._connect()
                closed = asyncio.Event()
                connection.add_termination_listener(lambda _connection: closed.set())
                await connection.add_listener(ACCESS_CHANNEL, self._heard)
                self.cache.invalidate()
                self.cache.notified = True
                self._listening.set()
                while not closed.is_set():
                    try:
                        await asyncio.wait_for(closed.wait(), self.check_seconds)
                    except TimeoutError:
                        await connection.fetchval("select 1", timeout=self.check_seconds)
                log.warning("access watcher: connection closed; reconnecting")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("access watcher: %s; access is checked per request until it reconnects", error)
            finally:
                self.cache.notified = False
                self._listening.clear()
                if connection is not None and not connection.is_closed():
                    connection.terminate()
            await asyncio.sleep(self.retry_seconds)

    def _heard(self, connection: object, pid: int, channel: str, payload: str) -> None:
        log.info("access watcher: %s changed (process %d): access cache emptied", payload, pid)
        self.cache.invalidate()


# Any of these in an organisation lets the request's transaction write that organisation's rows;
# which rows and how is still decided action by action in the service layer.
_WRITE_PERMISSIONS = (
    ("measurement", "submit"), ("measurement", "validate"), ("escalation", "manage"), ("escalation", "acknowledge"),
    ("improvement_plan", "edit"), ("improvement_plan", "sign_partner"), ("meeting", "manage"), ("judgement", "record"),
    ("maturity_assessment", "record"), ("spc_recalculation", "record"), ("spc_recalculation", "withdraw"), ("commentary", "write"),
    ("programme", "record"), ("programme", "manage"),
)


_SYSTEM_WRITE_PERMISSIONS = (
    ("improvement_plan", "draft"), ("improvement_plan", "edit"), ("improvement_plan", "critique"),
    ("improvement_plan", "sign_off_formal"), ("improvement_plan", "present"), ("improvement_plan", "oversee"),
    ("escalation", "acknowledge"), ("escalation", "decide_assurance"), ("meeting", "manage"), ("judgement", "record"),
    ("maturity_assessment", "record"),
)


async def load_principal_assignments(session: AsyncSession, user_id: int) -> tuple[Assignment, ...]:
    rows = await session.exec(
        text(
            "select ra.role, coalesce('org:' || o.code, 'system:' || s.code, 'region:' || r.code, case when ra.national then 'national' end)"
            " from role_assignment ra left join organisation o on o.id = ra.org_id left join health_system s on s.id = ra.system_id"
            " left join region r on r.id = ra.region_id"
            " where ra.user_id = :user_id"
        ),
        params={"user_id": user_id},
    )
    return tuple(Assignment(role, domain) for role, domain in rows.all())
