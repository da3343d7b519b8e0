"""Load tenant files into the database: validated first, then written in one transaction, idempotently.

Upserts by natural key (organisation code, unit code, indicator code...), so loading twice changes
nothing and loading an edited file updates in place. Nothing is deleted: a unit or indicator
removed from a file keeps its history (measurements refer to it). The exception is a peer group's
declaration (a benchmarking agreement): one removed from its file is removed, so the consent it gave
is withdrawn as the file is loaded.

Set-based: every table is written with one statement for all files (one per tree depth for units),
its rows passed as column arrays (``unnest``) or, for the small tables, as one multi-row insert.
A statement per indicator made 210 files of 250 indicators take ten minutes.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import (
    Contract, Forum, HealthSystem, Organisation, Region, SystemMembership, TenantFramework,
)
from server.db.session import AccessContext, Database
from server.tenants.parse import TenantFileError, TenantFileProblem, parse_tenant_directory_with_files
from server.tenants.spec import TenantFile, UnitSpec


@dataclass(frozen=True)
class LoadSummary:
    organisations: int
    units: int
    indicators: int
    forums: int
    # Organisations whose roll-up boundaries (units' ``rolls_up``) changed: their stored figures need deriving again.
    rollup_changed: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Tenant:
    file: str
    spec: TenantFile
    org_id: int


def validate_tenants(directory: Path) -> dict[str, TenantFile]:
    """Parse every file and check what crosses files: system members, contract counterparties, facts."""
    return {code: tenant for code, (_, tenant) in _validated_files(directory).items()}


def _validated_files(directory: Path) -> dict[str, tuple[str, TenantFile]]:
    parsed = parse_tenant_directory_with_files(directory)
    problems: list[TenantFileProblem] = []
    region_names: dict[str, tuple[str, str]] = {}  # region code -> (name, first file naming it)
    for code, (file, tenant) in parsed.items():
        if tenant.system is not None:
            for index, member in enumerate(tenant.system.members):
                if member not in parsed:
                    problems.append(TenantFileProblem(file, f"system.members[{index}]", f"'{member}' has no tenant file"))
            problems.extend(_common_indicator_problems(tenant, file, parsed))
            if (region := tenant.system.region) is not None:
                name, first = region_names.setdefault(region.code, (region.name, file))
                if name != region.name:
                    problems.append(TenantFileProblem(
                        file, "system.region.name", f"region '{region.code}' is named '{name}' in {first}, not '{region.name}'"))
        for g_index, group in enumerate(tenant.peer_groups):
            for index, member in enumerate(group.members):
                if member not in parsed:
                    problems.append(TenantFileProblem(file, f"peer_groups[{g_index}].members[{index}]", f"'{member}' has no tenant file"))
        problems.extend(_fact_problems(tenant, file))
        problems.extend(_member_source_problems(tenant, file, parsed))
    if problems:
        raise TenantFileError(problems)
    return parsed


def _common_indicator_problems(tenant: TenantFile, file: str, parsed: dict[str, tuple[str, TenantFile]]) -> list[TenantFileProblem]:
    """Each member named in the system's common set declares every code in it (under its own name and domain)."""
    common = tenant.system.common_indicators if tenant.system else None
    if common is None:
        return []
    problems = []
    for m_index, member in enumerate(common.members):
        if member not in parsed:
            continue  # reported as a member without a tenant file
        member_file, member_spec = parsed[member]
        declared = {indicator.code for indicator in member_spec.indicators}
        for c_index, code in enumerate(common.codes):
            if code not in declared:
                problems.append(TenantFileProblem(
                    file, f"system.common_indicators.codes[{c_index}]",
                    f"'{code}' is common to the system's members, but {member_file} (system.common_indicators.members[{m_index}]) "
                    f"declares no indicator '{code}' under indicators"))
    return problems


def _member_source_problems(tenant: TenantFile, file: str, parsed: dict[str, tuple[str, TenantFile]]) -> list[TenantFileProblem]:
    """A system indicator computed from members' figures names indicators that exist and are the same measure."""
    problems = []
    for index, indicator in enumerate(tenant.indicators):
        if indicator.from_members is None:
            continue
        for member, code in indicator.from_members.indicators.items():
            path = f"indicators[{index}].from_members.indicators.{member}"
            source = next((i for i in parsed[member][1].indicators if i.code == code), None) if member in parsed else None
            if source is None:
                problems.append(TenantFileProblem(file, path, f"'{member}' declares no indicator '{code}'"))
                continue
            different = [f"{field} '{getattr(source, field)}' (not '{getattr(indicator, field)}')"
                         for field in ("unit", "polarity", "frequency") if getattr(source, field) != getattr(indicator, field)]
            combine = indicator.from_members.combine
            if combine in ("sum", "rate") and source.rollup != combine:
                different.append(f"rollup '{source.rollup}' (combine '{combine}' needs '{combine}')")
            if different:
                problems.append(TenantFileProblem(file, path, f"{member}'s {code} is not the same measure: its " + ", ".join(different)))
    return problems


def _fact_problems(tenant: TenantFile, file: str) -> list[TenantFileProblem]:
    from server.escalation.validation import validate_tenant_conditions
    from server.judgements.kinds import recording_roles, validate_judgements

    from server.autonomy.validation import validate_earned_autonomy
    from server.maturity.validation import validate_maturity

    return [*validate_judgements(tenant, file, recording_roles=recording_roles()), *validate_tenant_conditions(tenant, file),
            *validate_maturity(tenant, file), *validate_earned_autonomy(tenant, file)]


async def load_tenants(database: Database, directory: Path) -> LoadSummary:
    files = _validated_files(directory)
    # Organisations, systems and counterparties first: they are directory rows without RLS,
    # and their ids define the access context for everything else.
    async with database.session() as session:
        org_ids = await _upsert_organisations(session, [tenant for _, tenant in files.values()])
    tenants = [_Tenant(file, tenant, org_ids[code]) for code, (file, tenant) in files.items()]
    access = AccessContext.for_orgs(org_ids.values(), write=True)
    async with database.session(access) as session:
        units, rollup_changed = await _load_structure(session, tenants)
        indicators = await _load_indicators(session, tenants)
        forums = await _load_forums(session, tenants)
        await _load_contracts(session, tenants, org_ids)
        await _load_programmes(session, tenants)
        await _store_frameworks(session, tenants)
        await _store_peer_groups(session, tenants, org_ids)
        await _load_systems(session, tenants, org_ids)
    return LoadSummary(organisations=len(tenants), units=units, indicators=indicators, forums=forums, rollup_changed=rollup_changed)


# ---------------------------------------------------------------------------------------------
# Set-based statements
# ---------------------------------------------------------------------------------------------
def _unnest_upsert(
    table: str, columns: Sequence[tuple[str, str]], conflict: str, update: Sequence[str], returning: str, *, only_changed: bool = False,
) -> Any:
    """``insert ... select from unnest(column arrays) on conflict ... do update``: one statement, any row count.

    ``columns`` pairs a column with its PostgreSQL type; ``jsonb`` travels as text and is cast.
    ``only_changed`` leaves identical rows untouched (then RETURNING omits them).
    """
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"cast(:{name} as {'text' if kind == 'jsonb' else kind}[])" for name, kind in columns)
    chosen = ", ".join(f"{name}::jsonb" if kind == "jsonb" else name for name, kind in columns)
    action = f"do update set {', '.join(f'{name} = excluded.{name}' for name in update)}" if update else "do nothing"
    if update and only_changed:
        action += f" where ({', '.join(f'{table}.{name}' for name in update)}) is distinct from ({', '.join(f'excluded.{name}' for name in update)})"
    return text(
        f"insert into {table} ({names}) select {chosen} from unnest({arrays}) as batch({names})"
        f" on conflict {conflict} {action}" + (f" returning {returning}" if returning else "")
    )


def _arrays(columns: Sequence[tuple[str, str]], rows: Sequence[tuple]) -> dict[str, list]:
    return {name: [row[index] for row in rows] for index, (name, _) in enumerate(columns)}


async def _upsert_many(
    session: AsyncSession, model: type[SQLModel], rows: list[dict], *, conflict: dict[str, Any],
    update: Sequence[str] | None = None, returning: Sequence[Any] = (),
) -> list:
    """A multi-row insert for the small tables (forums, contracts, systems), chunked under the bind limit.

    ``update`` names the columns an existing row takes from the file (default: all given; empty: none).
    """
    if not rows:
        return []
    per_statement = max(1, 30000 // len(rows[0]))
    returned: list = []
    for start in range(0, len(rows), per_statement):
        statement = insert(model).values(rows[start:start + per_statement])
        names = rows[0].keys() if update is None else update
        if names:
            statement = statement.on_conflict_do_update(**conflict, set_={name: statement.excluded[name] for name in names})
        else:
            statement = statement.on_conflict_do_nothing(**conflict)
        if returning:
            returned.extend((await session.exec(statement.returning(*returning))).all())
        else:
            await session.exec(statement)
    return returned


# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------
_ORGANISATION_COLUMNS = (("code", "text"), ("name", "text"), ("kind", "text"), ("nation", "text"), ("short_name", "text"), ("is_tenant", "bool"))
_UPSERT_TENANT_ORGANISATIONS = _unnest_upsert(
    "organisation", _ORGANISATION_COLUMNS, "(code)", [name for name, _ in _ORGANISATION_COLUMNS], "code, id"
)
# A counterparty only: known by code and name, never overwriting a tenant (DOMAIN 4.1). The no-op
# update makes RETURNING give the id of a row that already exists.
_UPSERT_COUNTERPARTIES = _unnest_upsert("organisation", _ORGANISATION_COLUMNS, "(code)", ["code"], "code, id")


async def _upsert_organisations(session: AsyncSession, tenants: Sequence[TenantFile]) -> dict[str, int]:
    rows = [(t.organisation.code, t.organisation.name, t.organisation.kind, t.organisation.nation, t.organisation.short_name, True) for t in tenants]
    ids: dict[str, int] = {}
    if rows:
        result = await session.exec(_UPSERT_TENANT_ORGANISATIONS, params=_arrays(_ORGANISATION_COLUMNS, rows))
        ids.update(dict(result.all()))
    counterparties: dict[str, tuple] = {}
    for tenant in tenants:
        for contract in tenant.contracts:
            if contract.provider not in ids and contract.provider not in counterparties:
                counterparties[contract.provider] = (
                    contract.provider, contract.provider_name or contract.provider, "trust", "England", None, False
                )
    if counterparties:
        result = await session.exec(_UPSERT_COUNTERPARTIES, params=_arrays(_ORGANISATION_COLUMNS, list(counterparties.values())))
        ids.update(dict(result.all()))
    return ids


# ---------------------------------------------------------------------------------------------
# Structure: tiers and the unit tree
# ---------------------------------------------------------------------------------------------
_TIER_COLUMNS = (("org_id", "int"), ("depth", "int"), ("name", "text"))
_UPSERT_TIERS = _unnest_upsert("unit_tier", _TIER_COLUMNS, "(org_id, depth)", ["name"], "")
_UNIT_COLUMNS = (("org_id", "int"), ("code", "text"), ("name", "text"), ("depth", "int"), ("parent_id", "int"), ("path", "text"))
_UPSERT_UNITS = _unnest_upsert(
    "org_unit", _UNIT_COLUMNS, "on constraint org_unit_code_unique", ["name", "depth", "parent_id"], "org_id, code, id"
)
# The path and the roll-up boundary (migration 0023); answers the organisations whose boundary moved.
_SET_UNIT_PATHS = text(
    "update org_unit set path = batch.path, rolls_up = batch.rolls_up, rollup_top_path = batch.top"
    " from unnest(cast(:ids as int[]), cast(:paths as text[]), cast(:rolls_up as boolean[]), cast(:tops as text[]))"
    " as batch(id, path, rolls_up, top), org_unit before"
    " where org_unit.id = batch.id and before.id = org_unit.id"
    " and (org_unit.path, org_unit.rolls_up, org_unit.rollup_top_path) is distinct from (batch.path, batch.rolls_up, batch.top)"
    " returning org_unit.org_id, before.rollup_top_path is distinct from batch.top"
)


async def _load_structure(session: AsyncSession, tenants: Sequence[_Tenant]) -> tuple[int, frozenset[int]]:
    """Tiers and units; answers the units written and the organisations whose roll-up boundary moved."""
    tiers = [(t.org_id, depth, name) for t in tenants for depth, name in enumerate(t.spec.tiers)]
    if tiers:
        await session.exec(_UPSERT_TIERS, params=_arrays(_TIER_COLUMNS, tiers))
    # One statement per depth: a unit's parent must have its id before the unit is written.
    levels: list[list[tuple[int, UnitSpec, str | None]]] = []

    def collect(org_id: int, unit: UnitSpec, depth: int, parent_code: str | None) -> None:
        if len(levels) <= depth:
            levels.append([])
        levels[depth].append((org_id, unit, parent_code))
        for child in unit.children:
            collect(org_id, child, depth + 1, unit.code)

    for tenant in tenants:
        for root in tenant.spec.units:
            collect(tenant.org_id, root, 0, None)
    unit_ids: dict[tuple[int, str], int] = {}
    paths: dict[tuple[int, str], str] = {}
    tops: dict[tuple[int, str], str] = {}  # rollup_top_path: the deepest path at or above the unit that does not roll up
    rolls_up: dict[tuple[int, str], bool] = {}
    for depth, level in enumerate(levels):
        rows = []
        for org_id, unit, parent_code in level:
            parent = None if parent_code is None else (org_id, parent_code)
            # Until the path update below, a new unit carries its parent's path (it has no id yet).
            rows.append((org_id, unit.code, unit.name, depth, unit_ids[parent] if parent else None, paths[parent] if parent else "/"))
        result = await session.exec(_UPSERT_UNITS, params=_arrays(_UNIT_COLUMNS, rows))
        unit_ids.update({(org_id, code): unit_id for org_id, code, unit_id in result.all()})
        for org_id, unit, parent_code in level:
            key = (org_id, unit.code)
            parent_path = paths[(org_id, parent_code)] if parent_code is not None else "/"
            paths[key] = f"{parent_path}{unit_ids[key]}/"
            rolls_up[key] = unit.rolls_up
            tops[key] = paths[key] if not unit.rolls_up else tops[(org_id, parent_code)] if parent_code is not None else ""
    if not paths:
        return 0, frozenset()
    moved = (await session.exec(_SET_UNIT_PATHS, params={
        "ids": [unit_ids[key] for key in paths], "paths": list(paths.values()), "rolls_up": list(rolls_up.values()), "tops": list(tops.values()),
    })).all()
    return len(paths), frozenset(org_id for org_id, boundary_moved in moved if boundary_moved)


# ---------------------------------------------------------------------------------------------
# Domains, indicators, targets and organisation-level trajectories
# ---------------------------------------------------------------------------------------------
_DOMAIN_COLUMNS = (("org_id", "int"), ("code", "text"), ("name", "text"), ("description", "text"), ("position", "int"))
_UPSERT_DOMAINS = _unnest_upsert(
    "domain", _DOMAIN_COLUMNS, "on constraint domain_code_unique", ["name", "description", "position"], "org_id, code, id"
)
_INDICATOR_COLUMNS = (
    ("org_id", "int"), ("code", "text"), ("name", "text"), ("definition", "text"), ("unit", "text"), ("polarity", "text"),
    ("rollup", "text"), ("frequency", "text"), ("domain_id", "int"), ("cohort", "text"), ("source", "text"), ("is_key", "bool"),
    ("kitemark", "jsonb"), ("owner", "text"), ("position", "int"), ("from_members", "jsonb"), ("outturn", "jsonb"),
)
# Reloading an unchanged file rewrites no indicator, target or trajectory row.
_UPSERT_INDICATORS = _unnest_upsert(
    "indicator", _INDICATOR_COLUMNS, "on constraint indicator_code_unique",
    [name for name, _ in _INDICATOR_COLUMNS if name not in ("org_id", "code")], "", only_changed=True,
)
_INDICATOR_IDS = text("select org_id, code, id from indicator where org_id = any(cast(:org_ids as int[]))")
_TARGET_COLUMNS = (
    ("org_id", "int"), ("indicator_id", "int"), ("unit_id", "int"), ("kind", "text"), ("value", "numeric(18, 6)"),
    ("valid_from", "date"), ("valid_to", "date"), ("description", "text"),
)
_UNIT_IDS = text("select org_id, code, id from org_unit where org_id = any(cast(:org_ids as int[]))")
_TRAJECTORY_COLUMNS = (("org_id", "int"), ("indicator_id", "int"), ("period", "date"), ("value", "numeric(18, 6)"))


def _replace_rows(table: str, columns: Sequence[tuple[str, str]], keys: Sequence[str], scope: str) -> tuple[Any, Any]:
    """Two statements making a table's rows for the given indicators exactly the file's: delete the
    rows the file no longer has, then insert the ones not yet stored. Unchanged rows stay as they are.

    ``keys`` are never null and compared with ``=``, so PostgreSQL can hash the anti-joins (the
    other columns' ``is not distinct from`` cannot be hashed: alone it would compare every pair).
    """
    names = [name for name, _ in columns]
    wanted = (
        f"unnest({', '.join(f'cast(:{name} as {kind}[])' for name, kind in columns)}) as wanted({', '.join(names)})"
    )
    same = " and ".join(
        f"wanted.{name} = {table}.{name}" if name in keys else f"wanted.{name} is not distinct from {table}.{name}" for name in names
    )
    delete_unwanted = text(
        f"delete from {table} where indicator_id = any(cast(:ids as int[])) and {scope}"
        f" and not exists (select 1 from {wanted} where {same})"
    )
    insert_missing = text(
        f"insert into {table} ({', '.join(names)}) select {', '.join(f'wanted.{name}' for name in names)} from {wanted}"
        f" where not exists (select 1 from {table} where {table}.indicator_id = wanted.indicator_id and {scope} and {same})"
    )
    return delete_unwanted, insert_missing


_DELETE_TARGETS, _INSERT_TARGETS = _replace_rows("target", _TARGET_COLUMNS, ("org_id", "indicator_id", "kind"), "true")
# Only organisation-level trajectories are the file's: a unit's trajectory belongs to its plan.
_DELETE_TRAJECTORIES, _INSERT_TRAJECTORIES = _replace_rows(
    "trajectory", _TRAJECTORY_COLUMNS, ("org_id", "indicator_id", "period"), "trajectory.unit_id is null"
)


async def _load_indicators(session: AsyncSession, tenants: Sequence[_Tenant]) -> int:
    domains = [
        (t.org_id, domain.code, domain.name, domain.description, position)
        for t in tenants for position, domain in enumerate(t.spec.domains)
    ]
    domain_ids: dict[tuple[int, str], int] = {}
    if domains:
        result = await session.exec(_UPSERT_DOMAINS, params=_arrays(_DOMAIN_COLUMNS, domains))
        domain_ids = {(org_id, code): domain_id for org_id, code, domain_id in result.all()}
    rows = [
        (
            t.org_id, spec.code, spec.name, spec.definition, spec.unit, spec.polarity, spec.rollup, spec.frequency,
            domain_ids[(t.org_id, spec.domain)], spec.cohort, spec.source, spec.key,
            spec.kitemark.model_dump_json(exclude_none=True) if spec.kitemark else "{}", spec.owner, position,
            spec.from_members.model_dump_json() if spec.from_members else None, spec.outturn.model_dump_json() if spec.outturn else None,
        )
        for t in tenants for position, spec in enumerate(t.spec.indicators)
    ]
    if not rows:
        return 0
    await session.exec(_UPSERT_INDICATORS, params=_arrays(_INDICATOR_COLUMNS, rows))
    result = await session.exec(_INDICATOR_IDS, params={"org_ids": [t.org_id for t in tenants]})
    stored = {(org_id, code): indicator_id for org_id, code, indicator_id in result.all()}
    indicator_ids = [stored[(t.org_id, spec.code)] for t in tenants for spec in t.spec.indicators]
    targets, trajectories = [], []
    unit_ids: dict[tuple[int, str], int] = {}
    if any(target.unit for t in tenants for spec in t.spec.indicators for target in spec.targets):
        result = await session.exec(_UNIT_IDS, params={"org_ids": [t.org_id for t in tenants]})
        unit_ids = {(org_id, code): unit_id for org_id, code, unit_id in result.all()}
    for (tenant, spec), indicator_id in zip(((t, spec) for t in tenants for spec in t.spec.indicators), indicator_ids):
        targets.extend(
            (tenant.org_id, indicator_id, unit_ids[(tenant.org_id, target.unit)] if target.unit else None, target.kind,
             Decimal(str(target.value)), target.valid_from, target.valid_to, target.description)
            for target in spec.targets
        )
        trajectories.extend((tenant.org_id, indicator_id, point.period, Decimal(str(point.value))) for point in spec.trajectory)
    # Targets and organisation-level trajectories are the file's to own: replace them.
    for (delete_unwanted, insert_missing), columns, wanted in (
        ((_DELETE_TARGETS, _INSERT_TARGETS), _TARGET_COLUMNS, targets),
        ((_DELETE_TRAJECTORIES, _INSERT_TRAJECTORIES), _TRAJECTORY_COLUMNS, trajectories),
    ):
        params = {"ids": indicator_ids, **_arrays(columns, wanted)}
        await session.exec(delete_unwanted, params=params)
        if wanted:
            await session.exec(insert_missing, params=_arrays(columns, wanted))
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Forums, contracts, systems and the stored framework
# ---------------------------------------------------------------------------------------------
async def _load_forums(session: AsyncSession, tenants: Sequence[_Tenant]) -> int:
    rows = [
        {
            "org_id": t.org_id, "code": spec.code, "name": spec.name, "tier": spec.tier, "chair": spec.chair,
            "members": list(spec.members), "frequency": spec.frequency, "quorum": spec.quorum,
            "attendance_threshold": spec.attendance_threshold, "reports_to": spec.reports_to,
            "pack_deadlines_days": dict(spec.pack_deadlines_days),
        }
        for t in tenants for spec in t.spec.forums
    ]
    await _upsert_many(session, Forum, rows, conflict={"constraint": "forum_code_unique"})
    return len(rows)


async def _load_contracts(session: AsyncSession, tenants: Sequence[_Tenant], org_ids: dict[str, int]) -> None:
    # One row per pair: a file listing a provider twice keeps its last entry, as row-by-row upserts did.
    rows = {
        (t.org_id, org_ids[spec.provider]): {
            "commissioner_id": t.org_id, "provider_id": org_ids[spec.provider],
            "annual_value": Decimal(str(spec.annual_value)), "services": list(spec.services),
            "strategically_important": spec.strategically_important, "start_date": spec.start, "end_date": spec.end,
        }
        for t in tenants for spec in t.spec.contracts
    }
    await _upsert_many(session, Contract, list(rows.values()), conflict={"constraint": "contract_one_per_pair"})


# A declared programme is added once; from then on it is edited in the app (server/programmes), so a
# reload never overwrites its name, SRO or status.
_PROGRAMME_COLUMNS = (("org_id", "int"), ("code", "text"), ("name", "text"), ("unit_code", "text"), ("sro_name", "text"))
_INSERT_DECLARED_PROGRAMMES = text(
    "insert into programme (org_id, code, name, unit_id, sro_name, declared)"
    " select batch.org_id, batch.code, batch.name, u.id, batch.sro_name, true"
    " from unnest(cast(:org_id as int[]), cast(:code as text[]), cast(:name as text[]), cast(:unit_code as text[]), cast(:sro_name as text[]))"
    " as batch(org_id, code, name, unit_code, sro_name)"
    " left join org_unit u on u.org_id = batch.org_id and u.code = batch.unit_code"
    " on conflict (org_id, code) do nothing"
)


async def _load_programmes(session: AsyncSession, tenants: Sequence[_Tenant]) -> None:
    rows = [(t.org_id, spec.code, spec.name, spec.unit, spec.sro) for t in tenants for spec in t.spec.programmes]
    if rows:
        await session.exec(_INSERT_DECLARED_PROGRAMMES, params=_arrays(_PROGRAMME_COLUMNS, rows))


async def _load_systems(session: AsyncSession, tenants: Sequence[_Tenant], org_ids: dict[str, int]) -> None:
    # One row per system code: were two files to declare the same system, the last would win, as before.
    declared = list({t.spec.system.code: t.spec for t in tenants if t.spec.system is not None}.values())
    regions = {t.system.region.code: t.system.region.name for t in declared if t.system and t.system.region}
    region_ids = dict(await _upsert_many(
        session, Region, [{"code": code, "name": name} for code, name in regions.items()], conflict={"index_elements": ["code"]},
        update=["name"], returning=(Region.code, Region.id),
    ))
    rows = [
        {"code": t.system.code, "name": t.system.name, "organisation_id": org_ids[t.organisation.code],
         "region_id": region_ids[t.system.region.code] if t.system.region else None}
        for t in declared if t.system
    ]
    returned = await _upsert_many(
        session, HealthSystem, rows, conflict={"index_elements": ["code"]}, update=["name", "region_id"],
        returning=(HealthSystem.code, HealthSystem.id),
    )
    system_ids = dict(returned)
    if not system_ids:
        return
    await session.exec(delete(SystemMembership).where(SystemMembership.system_id.in_(system_ids.values())))
    members = [
        {"system_id": system_ids[t.system.code], "organisation_id": org_ids[member]}
        for t in declared if t.system for member in dict.fromkeys(t.system.members)
    ]
    await _upsert_many(session, SystemMembership, members, conflict={"index_elements": ["system_id", "organisation_id"]}, update=())


_FRAMEWORK_COLUMNS = (("org_id", "int"), ("file_name", "text"), ("spec", "jsonb"))
_UPSERT_FRAMEWORKS = text(
    "insert into tenant_framework (org_id, file_name, spec)"
    " select org_id, file_name, spec::jsonb from unnest(cast(:org_id as int[]), cast(:file_name as text[]), cast(:spec as text[]))"
    " as batch(org_id, file_name, spec)"
    " on conflict (org_id) do update set file_name = excluded.file_name, spec = excluded.spec, loaded_at = excluded.loaded_at"
    " where tenant_framework.spec <> excluded.spec"
)


async def _store_frameworks(session: AsyncSession, tenants: Sequence[_Tenant]) -> None:
    """Keep each validated file itself: escalation, cadence and assessment run from this copy."""
    rows = [(t.org_id, t.file, _with_system_maturity(t.spec, tenants).model_dump_json(by_alias=True, exclude_none=True)) for t in tenants]
    if rows:
        await session.exec(_UPSERT_FRAMEWORKS, params=_arrays(_FRAMEWORK_COLUMNS, rows))


_PEER_GROUP_COLUMNS = (("org_id", "int"), ("group_code", "text"), ("name", "text"), ("position", "int"), ("member_ids", "jsonb"),
                       ("shares", "jsonb"), ("source", "text"))
_UPSERT_PEER_GROUPS = text(
    "insert into peer_group_declaration (org_id, group_code, name, position, member_ids, shares, source)"
    " select org_id, group_code, name, position,"
    "  array(select cast(m as int) from jsonb_array_elements_text(cast(member_ids as jsonb)) m),"
    "  array(select jsonb_array_elements_text(cast(shares as jsonb))), source"
    " from unnest(cast(:org_id as int[]), cast(:group_code as text[]), cast(:name as text[]), cast(:position as int[]),"
    "  cast(:member_ids as text[]), cast(:shares as text[]), cast(:source as text[]))"
    " as batch(org_id, group_code, name, position, member_ids, shares, source)"
    " on conflict (org_id, group_code) do update set name = excluded.name, position = excluded.position,"
    "  member_ids = excluded.member_ids, shares = excluded.shares, source = excluded.source"
    " where (peer_group_declaration.name, peer_group_declaration.position, peer_group_declaration.member_ids,"
    "  peer_group_declaration.shares, peer_group_declaration.source)"
    "  is distinct from (excluded.name, excluded.position, excluded.member_ids, excluded.shares, excluded.source)"
)
# A declaration no longer in its file is an agreement withdrawn.
_WITHDRAW_PEER_GROUPS = text(
    "delete from peer_group_declaration d where d.org_id = any(cast(:loaded as int[]))"
    " and (d.org_id, d.group_code) not in (select * from unnest(cast(:org_id as int[]), cast(:group_code as text[])))"
)


async def _store_peer_groups(session: AsyncSession, tenants: Sequence[_Tenant], org_ids: dict[str, int]) -> None:
    """Each file's peer groups, with the codes it shares in each: what benchmark_peers (0025) reads to
    let one organisation see another's benchmark only when both files agree."""
    rows = [(t.org_id, group.code, group.name, position, json.dumps([org_ids[member] for member in group.members]), json.dumps(group.shares),
             group.source)
            for t in tenants for position, group in enumerate(t.spec.peer_groups)]
    declared = _arrays(_PEER_GROUP_COLUMNS, rows)
    await session.exec(_WITHDRAW_PEER_GROUPS, params={"loaded": [t.org_id for t in tenants], "org_id": declared["org_id"],
                                                       "group_code": declared["group_code"]})
    if rows:
        await session.exec(_UPSERT_PEER_GROUPS, params=declared)


def _with_system_maturity(spec: TenantFile, tenants: Sequence[_Tenant]) -> TenantFile:
    """A member that declares no maturity levels assesses against its system's (STW's members), so its
    stored framework carries them: a member's people cannot read the system's stored file."""
    if spec.maturity is not None:
        return spec
    system = next((t.spec for t in tenants if t.spec.system and t.spec.maturity and spec.organisation.code in t.spec.system.members), None)
    if system is None:
        return spec
    return spec.model_copy(update={"maturity": system.maturity.model_copy(update={"inherited_from": system.organisation.code})})  # type: ignore[union-attr]


async def framework_of(session: AsyncSession, org_id: int) -> TenantFile | None:
    row = await session.get(TenantFramework, org_id)
    if row is None:
        return None
    # Read and validated once per transaction: a save asks for it from each step (derive, ladders,
    # divisions, judgements), and validating a 250-indicator file costs ~10 ms. Holding the row keeps
    # it in the session's (weak) identity map, so asking again sends no statement; the same stored
    # spec object means the same file, and a reloaded row brings a new one.
    # Across transactions, a process keeps the last file it validated for each organisation and uses
    # it again while the stored spec is equal (comparing costs far less than validating).
    validated = session.info.setdefault("tenant_frameworks", {})
    _, spec, framework = validated.get(org_id, (None, None, None))
    if spec is not row.spec:
        known_spec, framework = _VALIDATED.get(org_id, (None, None))
        if framework is None or known_spec != row.spec:
            framework = TenantFile.model_validate(row.spec)
            _VALIDATED[org_id] = (row.spec, framework)
        validated[org_id] = (row, row.spec, framework)
    return framework


_VALIDATED: dict[int, tuple[dict, TenantFile]] = {}  # type: ignore[type-arg]


async def organisation_ids(session: AsyncSession) -> dict[str, int]:
    rows = await session.exec(select(Organisation.code, Organisation.id))
    return {code: org_id for code, org_id in rows.all()}
