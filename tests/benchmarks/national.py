"""The national-scale data set the GraphQL and write-path benchmarks share, built once and reused.

    .venv/bin/python tests/benchmarks/national.py [--orgs 210] [--indicators 250] [--months 60]
        [--data-dir /tmp/accord-national] [--rebuild]

Scale: ``--orgs`` organisations in ``--orgs / 5`` systems, each an ICB-like system organisation
(``kind: system``) and four trusts; every organisation reports the same ``--indicators`` national
indicators (shared codes, shared targets, so system positions and cross-organisation comparisons
mean something) at its single unit for ``--months`` months, ending last month. Each organisation x
indicator series follows one of a few shapes (consistently passing, consistently failing, hit and
miss, improving, deteriorating, no target), so ratings, SPC verdicts and ladders see a realistic mix.

Built through Accord's own path, each phase timed: tenant files (YAML, in the data directory's
``tenants/``) -> ``load_tenants`` -> ``record_measurements`` per organisation (no derivation) ->
one ``recompute_all``. The embedded PostgreSQL lives in ``<data-dir>/pgdata`` (database
``accord``, so ``ACCORD_DATA_DIR=<data-dir> accord serve`` finds it too); ``<data-dir>/national.json``
records the parameters and timings once a build completes, and a later run with the same
parameters reuses it. A run with other parameters rebuilds.

Benchmarks call ``open_national()`` (or ``national_database()``). Not a test: it prints numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import SecretStr
from sqlalchemy import delete, select, text

from server.db.server import EmbeddedPostgres
from server.db.session import AccessContext, Database
from server.settings import Settings

DEFAULT_DATA_DIR = Path("/tmp/accord-national")
MARKER = "national.json"  # written when a build completes: its scale and phase timings
BUILDING = "national.building"  # present while a build runs: an interrupted build is started again
TRUSTS_PER_SYSTEM = 4
BENCH_PASSWORD = "national-benchmark-password"
# Accounts the benchmarks act as; their tokens and sessions are issued afresh by open_national.
TOOL_EMAIL = "national-tool@accord.example"
READER_EMAIL = "national-reader@accord.example"

log = logging.getLogger("accord.national")


@dataclass(frozen=True)
class Scale:
    orgs: int = 210
    indicators: int = 250
    months: int = 60

    @property
    def systems(self) -> int:
        return max(1, self.orgs // (TRUSTS_PER_SYSTEM + 1))

    @property
    def organisations(self) -> int:
        """The organisations actually built: whole systems of one system organisation and four trusts."""
        return self.systems * (TRUSTS_PER_SYSTEM + 1)

    @property
    def measurements(self) -> int:
        return self.organisations * self.indicators * self.months


# ---------------------------------------------------------------------------------------------
# The national indicator catalogue: shared codes, definitions and targets
# ---------------------------------------------------------------------------------------------
DOMAINS = (
    ("uec", "UEC", "Urgent and emergency care"),
    ("elective", "ELE", "Elective care and diagnostics"),
    ("cancer", "CAN", "Cancer"),
    ("mental_health", "MHE", "Mental health"),
    ("quality", "QUA", "Quality and safety"),
    ("workforce", "WFO", "Workforce"),
    ("finance", "FIN", "Finance"),
)

# (unit, polarity, rollup, target range, typical level when there is no target)
_KINDS = (
    ("percent", "higher_is_better", "rate", (0.75, 0.95)),  # e.g. seen within 4 hours
    ("percent", "lower_is_better", "rate", (0.03, 0.15)),  # e.g. readmitted within 30 days
    ("count", "lower_is_better", "sum", (20.0, 400.0)),  # e.g. 12-hour waits
    ("minutes", "lower_is_better", "max", (18.0, 120.0)),  # e.g. mean ambulance response
    ("days", "lower_is_better", "none", (5.0, 40.0)),  # e.g. median wait for a first appointment
    ("count", "neutral", "sum", (500.0, 5000.0)),  # activity: reported, not rated
)


@dataclass(frozen=True)
class NationalIndicator:
    code: str
    name: str
    domain: str
    unit: str
    polarity: str
    rollup: str
    level: float  # the national target, or the typical level of an unrated indicator
    key: bool


def national_indicators(count: int) -> list[NationalIndicator]:
    """The same catalogue for every organisation: code, kind and target depend only on the position."""
    rng = np.random.default_rng(20261201)
    indicators = []
    for index in range(count):
        domain, prefix, domain_name = DOMAINS[index % len(DOMAINS)]
        unit, polarity, rollup, (low, high) = _KINDS[(index // len(DOMAINS)) % len(_KINDS)]
        level = float(rng.uniform(low, high))
        level = round(level, 2) if unit == "percent" else float(round(level))
        number = index // len(DOMAINS) + 1
        indicators.append(NationalIndicator(
            code=f"{prefix}{number:03d}", name=f"{domain_name} measure {number} ({unit}, {polarity.replace('_', ' ')})",
            domain=domain, unit=unit, polarity=polarity, rollup=rollup, level=level, key=index < 4 * len(DOMAINS),
        ))
    return indicators


# ---------------------------------------------------------------------------------------------
# Tenant files
# ---------------------------------------------------------------------------------------------
def system_code(system: int) -> str:
    return f"NS{system:02d}"


def trust_code(system: int, trust: int) -> str:
    return f"NT{system:02d}{trust}"


def organisation_codes(scale: Scale) -> list[str]:
    """System organisation first, then its trusts, system by system."""
    codes = []
    for system in range(1, scale.systems + 1):
        codes.append(system_code(system))
        codes.extend(trust_code(system, trust) for trust in range(1, TRUSTS_PER_SYSTEM + 1))
    return codes


def write_tenant_files(directory: Path, scale: Scale, last_period: dt.date) -> int:
    """One YAML file per organisation, in the format of tenants/*.yaml. Returns the number written."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.yaml"):
        stale.unlink()
    catalogue = national_indicators(scale.indicators)
    trajectory_periods = months_ending(last_period, 12)
    for system in range(1, scale.systems + 1):
        members = [trust_code(system, trust) for trust in range(1, TRUSTS_PER_SYSTEM + 1)]
        code = system_code(system)
        tenant = _tenant(code, f"National Benchmark ICS {system:02d}", "system", catalogue, trajectory_periods=[])
        tenant["system"] = {"code": code, "name": f"National Benchmark ICS {system:02d}", "members": members}
        _write(directory / f"{code.lower()}.yaml", tenant)
        for trust, member in enumerate(members, start=1):
            tenant = _tenant(member, f"National Benchmark Trust {system:02d}-{trust}", "trust", catalogue, trajectory_periods)
            _write(directory / f"{member.lower()}.yaml", tenant)
    return scale.organisations


def _tenant(code: str, name: str, kind: str, catalogue: list[NationalIndicator], trajectory_periods: list[dt.date]) -> dict:
    indicators = []
    for position, indicator in enumerate(catalogue):
        spec: dict = {
            "code": indicator.code, "name": indicator.name, "unit": indicator.unit, "polarity": indicator.polarity,
            "rollup": indicator.rollup, "domain": indicator.domain, "source": "national", "key": indicator.key,
        }
        if indicator.polarity != "neutral":
            spec["targets"] = [{"kind": "national", "value": indicator.level}]
            # Trusts agree a trajectory for their first key indicators (the plan on a page).
            if trajectory_periods and position < 5:
                spec["trajectory"] = [
                    {"period": period, "value": indicator.level} for period in trajectory_periods
                ]
        indicators.append(spec)
    return {
        "organisation": {"code": code, "name": name, "short_name": code, "kind": kind},
        "tiers": ["organisation"],
        "units": [{"code": code, "name": name, "tier": "organisation"}],
        "domains": [{"code": domain, "name": domain_name} for domain, _, domain_name in DOMAINS],
        "indicators": indicators,
        "forums": [
            {"code": "BOARD", "name": "Board", "tier": "oversight", "chair": "Chair", "frequency": "bi-monthly"},
            {"code": "QPC", "name": "Quality and Performance Committee", "tier": "assurance", "chair": "Non-executive Director",
             "frequency": "monthly", "reports_to": "BOARD"},
        ],
        "assessment": {"rag": {"amber_band": 0.02}},
        "escalation": {"ladders": [{
            "code": "spc", "name": "SPC-led escalation", "applies_to": "indicator", "levels": [
                {"level": 0, "code": "assured", "name": "Assured"},
                {"level": 1, "code": "watch", "name": "Special cause of concern", "forum": "QPC",
                 "when": {"fact": "spc_variation", "value": "special_cause_concerning"}},
                {"level": 2, "code": "recovery", "name": "Consistently failing", "forum": "BOARD",
                 "when": {"all": [{"fact": "spc_assurance", "value": "consistently_failing"}, {"fact": "rag", "value": "red"}]}},
            ],
        }]},
    }


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes shared values (the same date in many trajectories) in full, as a person would, not as anchors."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _write(path: Path, tenant: dict) -> None:
    path.write_text(yaml.dump(tenant, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=200), encoding="utf-8")


def months_ending(last: dt.date, count: int) -> list[dt.date]:
    months = []
    year, month = last.year, last.month
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def last_complete_month(today: dt.date | None = None) -> dt.date:
    first = (today or dt.date.today()).replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
# Shapes of a series against its target, with their shares: how far from target, in fractions of it.
SHAPES = ("passing", "failing", "hit_and_miss", "improving", "deteriorating")
SHAPE_SHARES = (0.40, 0.20, 0.25, 0.08, 0.07)


def organisation_measurements(org_index: int, org_code: str, catalogue: list[NationalIndicator], periods: list[dt.date]) -> list:
    """Every indicator x period for one organisation at its unit, drawn deterministically."""
    from server.measurements.record import MeasurementItem

    rng = np.random.default_rng(org_index)
    months = len(periods)
    shape = rng.choice(len(SHAPES), size=len(catalogue), p=SHAPE_SHARES)
    ramp = np.linspace(-1.0, 1.0, months)
    offset = np.select(
        [shape[:, None] == 0, shape[:, None] == 1, shape[:, None] == 2, shape[:, None] == 3],
        [np.full((1, months), 0.08), np.full((1, months), -0.08), np.zeros((1, months)), 0.08 * ramp[None, :]],
        -0.08 * ramp[None, :],
    )
    seasonal = 0.02 * np.sin(2 * np.pi * (np.array([p.month for p in periods]) - 1) / 12)[None, :]
    noise = rng.normal(0.0, 0.025, size=(len(catalogue), months))
    size = float(rng.uniform(0.5, 2.0))  # organisation size: scales counts and denominators
    items = []
    for row, indicator in enumerate(catalogue):
        sign = {"higher_is_better": 1.0, "lower_is_better": -1.0, "neutral": 0.0}[indicator.polarity]
        relative = 1.0 + sign * offset[row] + seasonal[0] + noise[row] * (1.0 if sign else 2.0)
        values = indicator.level * relative
        if indicator.unit == "percent":
            denominator = np.maximum(50, np.round(rng.normal(4000 * size, 300 * size, months)))
            numerator = np.round(np.clip(values, 0.001, 0.999) * denominator)
            items.extend(
                MeasurementItem(indicator.code, org_code, period, numerator=float(n), denominator=float(d))
                for period, n, d in zip(periods, numerator, denominator)
            )
        else:
            scaled = np.maximum(0.0, values * (size if indicator.unit == "count" else 1.0))
            rounded = np.round(scaled) if indicator.unit == "count" else np.round(scaled, 1)
            items.extend(MeasurementItem(indicator.code, org_code, period, value=float(v)) for period, v in zip(periods, rounded))
    return items


# ---------------------------------------------------------------------------------------------
# Building and opening
# ---------------------------------------------------------------------------------------------
class PhaseTimer:
    """Times each phase of the build and prints it as it ends.

    Wall time, and the CPU time beside it: this process's, and, given the data directory, the
    embedded PostgreSQL's (its processes, read from /proc as ``CpuClock`` does). On a shared
    machine the wall time of a CPU-bound phase says as much about the neighbours as about Accord;
    the CPU seconds say what the phase costs.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self.phases: dict[str, float] = {}
        self.data_dir = data_dir

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        clock = CpuClock(self.data_dir) if self.data_dir is not None else None
        start, cpu, workers = time.perf_counter(), time.process_time(), _children_cpu()
        yield
        self.phases[name] = time.perf_counter() - start
        self.phases[f"{name}, CPU of this process"] = here = time.process_time() - cpu
        # Worker processes (recompute_all spreads organisations over the cores), counted once they have exited.
        self.phases[f"{name}, CPU of workers"] = worker_cpu = _children_cpu() - workers
        postgres = clock.postgres_seconds() if clock is not None else None
        postgres_part = ""
        if postgres is not None:
            self.phases[f"{name}, CPU of PostgreSQL"] = postgres
            postgres_part = f" + PostgreSQL {postgres:.2f} s"
        self.phases[f"{name}, load"] = load = os.getloadavg()[0]
        worker_part = f" + workers {worker_cpu:.2f} s" if worker_cpu else ""
        print(f"  {name:<44} {self.phases[name]:9.2f} s  (CPU here {here:.2f} s{worker_part}{postgres_part},"
              f" machine load {load:.1f} on {os.cpu_count()} cores)", flush=True)


class CpuClock:
    """Wall time beside the CPU that the work used: this process, its worker processes (counted when
    they have exited) and the embedded PostgreSQL's processes (read from /proc, Linux only). On a
    shared 2-core machine the wall time says as much about the neighbours as about Accord; the CPU
    seconds say what the work costs, and their sum over the cores is the wall time of an idle machine.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.wall, self.here, self.workers, self.postgres = time.perf_counter(), time.process_time(), _children_cpu(), self._postgres()

    def report(self) -> str:
        postgres = self._postgres()
        postgres_part = "" if postgres is None or self.postgres is None else f" + PostgreSQL {postgres - self.postgres:.1f} s"
        return (f"{time.perf_counter() - self.wall:.1f} s wall; CPU: this process {time.process_time() - self.here:.1f} s"
                f" + workers {_children_cpu() - self.workers:.1f} s{postgres_part}; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    def postgres_seconds(self) -> float | None:
        """PostgreSQL's CPU seconds since this clock started (None when /proc cannot tell)."""
        postgres = self._postgres()
        return None if postgres is None or self.postgres is None else postgres - self.postgres

    def _postgres(self) -> float | None:
        try:
            postmaster = int((self.data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
            tick, total = os.sysconf("SC_CLK_TCK"), 0
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        fields = (Path("/proc") / entry / "stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue  # the process ended meanwhile
                    if int(entry) == postmaster:  # its own CPU and that of the backends that have exited
                        total += sum(int(field) for field in fields[11:15])
                    elif int(fields[1]) == postmaster:
                        total += int(fields[11]) + int(fields[12])
            return total / tick
        except (OSError, ValueError):
            return None


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


async def build_national(
    database: Database, tenants_dir: Path, scale: Scale, data_dir: Path | None = None,
    before_recording: Callable[[Database], Awaitable[None]] | None = None,
) -> dict[str, float]:
    """Generate, load, record and recompute the whole data set into an empty, migrated database.

    Returns each phase's seconds; ``record rows/s`` counts only the time inside ``record_measurements``
    transactions, not drawing the values. Given ``data_dir`` (the embedded PostgreSQL's), each
    phase's PostgreSQL CPU seconds too. ``before_recording`` runs once the tenants and accounts are
    loaded, while the measurement table is still empty (the load benchmark's COPY floors).
    """
    from server.assessment_store.recompute import recompute_all
    from server.tenants.load import load_tenants, organisation_ids

    timer = PhaseTimer(data_dir)
    last_period = last_complete_month()
    periods = months_ending(last_period, scale.months)
    print(f"building {scale.organisations} organisations in {scale.systems} systems x {scale.indicators} indicators"
          f" x {scale.months} months ({scale.measurements:,} measurements), tenant files in {tenants_dir}", flush=True)
    with timer.phase(f"write {scale.organisations} tenant files"):
        write_tenant_files(tenants_dir, scale, last_period)
    with timer.phase(LOAD_PHASE):
        summary = await load_tenants(database, tenants_dir)
    per_indicator = timer.phases[LOAD_PHASE] / max(1, summary.indicators) * 1000
    print(f"    {summary.organisations} organisations, {summary.indicators:,} indicators: {per_indicator:.3f} ms per indicator"
          " (goal: 210 x 250 in under 30 s)", flush=True)
    with timer.phase("reload the same files (nothing changes)"):
        await load_tenants(database, tenants_dir)
    async with database.session() as session:
        ids = await organisation_ids(session)
    with timer.phase("accounts and role assignments"):
        await _create_accounts(database, scale, ids)
    if before_recording is not None:
        await before_recording(database)
    catalogue = national_indicators(scale.indicators)
    with timer.phase(RECORD_ALL_PHASE):
        recording, recording_cpu = await _record_all(database, scale, ids, catalogue, periods)
    timer.phases[RECORD_PHASE] = recording
    timer.phases[RECORD_CPU] = recording_cpu
    timer.phases[RECORD_RATE] = scale.measurements / recording
    print(f"    {scale.measurements:,} rows in {recording:.1f} s inside record_measurements:"
          f" {timer.phases[RECORD_RATE]:,.0f} rows/s (CPU here {recording_cpu:.1f} s)", flush=True)
    # After a bulk load, as an operator would (autovacuum gets there later). The tables a recompute
    # reads (measurement among them) are analysed by recompute_all itself, inside the recompute's
    # time (stale statistics cost a national trust's recompute 0.86 s of PostgreSQL CPU, fresh 0.35 s).
    with timer.phase(ANALYZE_PHASE):
        async with database.owner_engine.begin() as connection:
            await connection.execute(text("analyze measurement_revision"))
    with timer.phase(RECOMPUTE_PHASE):
        stored = await recompute_all(database)
    print(f"    {stored:,} assessment rows (goal: 3.13M measurements in under 60 s)", flush=True)
    return timer.phases


LOAD_PHASE = "load tenant files (load_tenants)"
RECORD_PHASE = "record_measurements, seconds"
RECORD_RATE = "record_measurements, rows/s"
RECORD_CPU = "record_measurements, CPU of this process"
RECORD_ALL_PHASE = "record measurements, including drawing them"
RECOMPUTE_PHASE = "full recompute (recompute_all)"
ANALYZE_PHASE = "statistics after the bulk load (ANALYZE)"


async def _record_all(
    database: Database, scale: Scale, ids: dict[str, int], catalogue: list[NationalIndicator], periods: list[dt.date],
) -> tuple[float, float]:
    """Each organisation's history in its own transaction, recorded without derivation. Returns the
    seconds inside record_measurements and this process's CPU seconds there (drawing the values left out)."""
    from server.measurements.record import record_measurements

    recording = recording_cpu = 0.0
    for index, code in enumerate(organisation_codes(scale)):
        items = organisation_measurements(index, code, catalogue, periods)
        start, cpu = time.perf_counter(), time.process_time()
        async with database.session(AccessContext.for_orgs([ids[code]], write=True)) as session:
            outcome = await record_measurements(
                session, org_id=ids[code], user_id=None, items=items, source="national-benchmark", reason="benchmark history",
            )
        recording += time.perf_counter() - start
        recording_cpu += time.process_time() - cpu
        if not outcome.ok:
            raise RuntimeError(f"{code}: {'; '.join(str(p) for p in outcome.problems[:5])}")
        if index % 10 == 9:
            print(f"    ... {index + 1} organisations recorded, {recording:.1f} s", flush=True)
    return recording, recording_cpu


async def _create_accounts(database: Database, scale: Scale, ids: dict[str, int]) -> None:
    """A tool account (system role in the first system, organisation roles in its first trust) and a
    national reader holding ``viewer`` in every organisation (tokens cannot span organisations yet)."""
    from server.auth.passwords import hash_password
    from server.db.models import AppUser, HealthSystem, RoleAssignment

    async with database.session() as session:
        password = hash_password(BENCH_PASSWORD)
        tool = AppUser(email=TOOL_EMAIL, name="National benchmark tool", password_hash=password)
        reader = AppUser(email=READER_EMAIL, name="National benchmark reader", password_hash=password)
        session.add_all([tool, reader])
        await session.flush()
        first_system = (await session.exec(select(HealthSystem.id).where(HealthSystem.code == system_code(1)))).scalar_one()
        first_trust = ids[trust_code(1, 1)]
        session.add_all([
            RoleAssignment(user_id=tool.id, role="system_viewer", system_id=first_system),
            RoleAssignment(user_id=tool.id, role="external_tool", org_id=first_trust),
            RoleAssignment(user_id=tool.id, role="performance_manager", org_id=first_trust),
        ])
        session.add_all(RoleAssignment(user_id=reader.id, role="viewer", org_id=ids[code]) for code in organisation_codes(scale))


async def issue_credentials(database: Database, settings: Settings) -> dict[str, str]:
    """Fresh credentials for this run (valid two days; earlier ones stay valid): bearer tokens and a reader session.

    ``system``: system_viewer for the first system (its organisation and four trusts);
    ``organisation``: external_tool for the first trust; ``submitter``: performance_manager there;
    ``national_session`` / ``national_csrf``: a session cookie (``accord_session``) and its CSRF token
    for the reader with ``viewer`` in every organisation, since a token is scoped to one organisation
    or system.
    """
    from server.auth.sessions import attempt_login
    from server.auth.tokens import issue_token
    from server.db.models import ApiToken, AppUser, HealthSystem, Organisation, WebSession

    async with database.session() as session:
        tool = (await session.exec(select(AppUser).where(AppUser.email == TOOL_EMAIL))).scalars().one()
        reader = (await session.exec(select(AppUser).where(AppUser.email == READER_EMAIL))).scalars().one()
        # Other benchmarks may be running on credentials issued earlier: only expired ones go.
        now = dt.datetime.now(dt.UTC)
        await session.exec(delete(ApiToken).where(ApiToken.user_id == tool.id, ApiToken.expires_at < now))
        await session.exec(delete(WebSession).where(WebSession.user_id == reader.id, WebSession.created_at < now - dt.timedelta(days=1)))
        system_id = (await session.exec(select(HealthSystem.id).where(HealthSystem.code == system_code(1)))).scalar_one()
        trust_id = (await session.exec(select(Organisation.id).where(Organisation.code == trust_code(1, 1)))).scalar_one()
        lifetime = dt.timedelta(days=2)
        system = await issue_token(session, name="national-system", user_id=tool.id, roles=["system_viewer"], system_id=system_id, lifetime=lifetime)
        organisation = await issue_token(session, name="national-org", user_id=tool.id, roles=["external_tool"], org_id=trust_id, lifetime=lifetime)
        submitter = await issue_token(session, name="national-submitter", user_id=tool.id, roles=["performance_manager"], org_id=trust_id, lifetime=lifetime)
        # The reader signs in as a person would (the session is what a browser's cookie names).
        login = await attempt_login(session, settings, email=READER_EMAIL, password=BENCH_PASSWORD, ip=None, previous_token=None)
        if login.session_token is None:
            raise RuntimeError(f"{READER_EMAIL} could not sign in (throttled: {login.throttled})")
        await session.flush()
        csrf = (await session.exec(
            select(WebSession.csrf_token).where(WebSession.user_id == reader.id).order_by(WebSession.created_at.desc()).limit(1)
        )).scalar_one()
    return {
        "system": system.secret, "organisation": organisation.secret, "submitter": submitter.secret,
        "national_session": login.session_token, "national_csrf": csrf,
    }


def _marker(data_dir: Path) -> dict | None:
    path = data_dir / MARKER
    return json.loads(path.read_text()) if path.exists() else None


def national_settings(data_dir: Path, owner_url: str, app_url: str) -> Settings:
    """Settings that point a server (in this process or another) at the built database."""
    return Settings(
        environment="development", data_dir=data_dir, tenants_dir=data_dir / "tenants",
        database_url=SecretStr(owner_url), app_database_url=SecretStr(app_url),
    )


async def open_national(
    *, orgs: int = 210, indicators: int = 250, months: int = 60, data_dir: Path = DEFAULT_DATA_DIR,
    rebuild: bool = False, pool_size: int = 10,
) -> tuple[Database, dict[str, str], Settings]:
    """The national data set, built first if this data directory does not hold this scale.

    Returns the database (application role, row-level security on), fresh credentials (see
    ``issue_credentials``) and settings whose database URLs reach the same server, for an app
    built in-process or a server started in another process. The embedded PostgreSQL keeps
    running afterwards; ``stop_national(data_dir)`` stops it (or use ``national_database()``).
    """
    from server.db import migrate

    scale = Scale(orgs, indicators, months)
    wanted = asdict(scale)
    building = data_dir / BUILDING
    await _wait_for_running_build(building)
    marker = _marker(data_dir)
    embedded = EmbeddedPostgres(data_dir)
    if not rebuild and marker is None and not building.exists() and (data_dir / "pgdata").exists():
        raise RuntimeError(f"{data_dir} holds a database that national.py did not build; choose another --data-dir or --rebuild")
    if rebuild or building.exists() or (marker is not None and marker.get("scale") != wanted):
        print(f"rebuilding: {data_dir} holds {marker and marker.get('scale')}, wanted {wanted}", flush=True)
        (data_dir / MARKER).unlink(missing_ok=True)
        embedded.start()
        embedded.drop_database("accord")
        marker = None
    urls = embedded.start()
    database = Database(urls, pool_size=pool_size)
    await migrate.upgrade(database.owner_engine)
    if marker is None:
        building.write_text(json.dumps({"scale": wanted, "pid": os.getpid()}))
        phases = await build_national(database, data_dir / "tenants", scale, data_dir)
        (data_dir / MARKER).write_text(json.dumps({"scale": wanted, "built_at": dt.datetime.now(dt.UTC).isoformat(), "phases": phases}, indent=2))
        building.unlink()
    settings = national_settings(data_dir, urls.owner, urls.app)
    return database, await issue_credentials(database, settings), settings


async def _wait_for_running_build(building: Path) -> None:
    """Another process building this data directory is waited for; a build whose process is gone
    was interrupted, and is started again."""
    while building.exists():
        pid = json.loads(building.read_text() or "{}").get("pid")
        if not pid or not _process_alive(pid) or pid == os.getpid():
            return
        print(f"waiting for the build running in process {pid} ...", flush=True)
        await asyncio.sleep(15)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_national(data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Stop the embedded PostgreSQL that open_national left running."""
    embedded = EmbeddedPostgres(data_dir)
    embedded.start()
    embedded.stop()


@asynccontextmanager
async def national_database(**parameters) -> AsyncIterator[tuple[Database, dict[str, str], Settings]]:  # type: ignore[no-untyped-def]
    """open_national as a context: disposes the engines and stops the server at the end."""
    database, credentials, settings = await open_national(**parameters)
    try:
        yield database, credentials, settings
    finally:
        await database.dispose()
        stop_national(parameters.get("data_dir", DEFAULT_DATA_DIR))


async def data_summary(database: Database) -> dict[str, dict[str, int]]:
    """Rows per main table and the mix of latest ratings, read with access to every organisation."""
    from server.tenants.load import organisation_ids

    async with database.session() as session:
        ids = await organisation_ids(session)
    async with database.session(AccessContext.for_orgs(ids.values())) as session:
        rows = {}
        for table in ("indicator", "target", "trajectory", "measurement", "measurement_revision", "assessment", "escalation"):
            rows[table] = (await session.exec(text(f"select count(*) from {table}"))).scalar_one()
        summary = {"rows": rows}
        for column in ("rag", "variation", "assurance"):
            result = await session.exec(text(f"select {column}, count(*) from assessment where is_latest group by 1 order by 1"))
            summary[f"latest {column}"] = dict(result.all())
    return summary


async def main(arguments: argparse.Namespace) -> None:
    start = time.perf_counter()
    async with national_database(
        orgs=arguments.orgs, indicators=arguments.indicators, months=arguments.months, data_dir=arguments.data_dir,
        rebuild=arguments.rebuild,
    ) as (database, credentials, settings):
        marker = _marker(arguments.data_dir)
        print(f"ready in {time.perf_counter() - start:.1f} s; built {marker['built_at']} with phases (s):")
        for name, seconds in marker["phases"].items():
            print(f"  {name:<44} {seconds:9.2f}")
        for name, counts in (await data_summary(database)).items():
            print(f"{name}:", ", ".join(f"{key} {count:,}" for key, count in counts.items()))
        print("credentials:", ", ".join(sorted(credentials)))


def add_scale_arguments(parser: argparse.ArgumentParser, data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """``--orgs --indicators --months --data-dir``, national scale by default, for every script using the data set."""
    parser.add_argument("--orgs", type=int, default=210, help="organisations, in systems of one system organisation and four trusts")
    parser.add_argument("--indicators", type=int, default=250)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--data-dir", type=Path, default=data_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--rebuild", action="store_true", help="drop and build again even when the parameters match")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main(parser.parse_args()))
