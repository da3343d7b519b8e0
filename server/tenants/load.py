"""Load tenant files into the database: validated first, then written in one transaction, idempotently.

Upserts by natural key (organisation code, unit code, indicator code...), so loading twice changes
nothing and loading an edited file updates in place. Nothing is deleted: a unit or indicator
removed from a file keeps its history (measurements refer to it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import (
    Contract, Domain, Forum, HealthSystem, Indicator, Organisation, OrgUnit, SystemMembership, Target,
    TenantFramework, Trajectory, UnitTier,
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


def validate_tenants(directory: Path) -> dict[str, TenantFile]:
    """Parse every file and check what crosses files: system members, contract counterparties, facts."""
    parsed = parse_tenant_directory_with_files(directory)
    tenants = {code: tenant for code, (_, tenant) in parsed.items()}
    file_of = {code: file for code, (file, _) in parsed.items()}
    problems: list[TenantFileProblem] = []
    for code, tenant in tenants.items():
        if tenant.system is not None:
            for index, member in enumerate(tenant.system.members):
                if member not in tenants:
                    problems.append(TenantFileProblem(file_of[code], f"system.members[{index}]", f"'{member}' has no tenant file"))
        problems.extend(_fact_problems(tenant, file_of[code]))
    if problems:
        raise TenantFileError(problems)
    return tenants


def _fact_problems(tenant: TenantFile, file: str) -> list[TenantFileProblem]:
    from server.escalation.validation import validate_tenant_conditions

    return list(validate_tenant_conditions(tenant, file))


async def load_tenants(database: Database, directory: Path) -> LoadSummary:
    tenants = validate_tenants(directory)
    file_of = {code: file for code, (file, _) in parse_tenant_directory_with_files(directory).items()}
    # Organisations, systems and counterparties first: they are directory rows without RLS,
    # and their ids define the access context for everything else.
    async with database.session() as session:
        org_ids = await _upsert_organisations(session, tenants.values())
    access = AccessContext.for_orgs(org_ids.values(), write=True)
    async with database.session(access) as session:
        counts = [0, 0, 0]
        for tenant in tenants.values():
            org_id = org_ids[tenant.organisation.code]
            counts[0] += await _load_structure(session, org_id, tenant)
            counts[1] += await _load_indicators(session, org_id, tenant)
            counts[2] += await _load_forums(session, org_id, tenant)
            await _load_contracts(session, org_id, tenant, org_ids)
            await _store_framework(session, org_id, file_of[tenant.organisation.code], tenant)
        await _load_systems(session, tenants.values(), org_ids)
    return LoadSummary(organisations=len(tenants), units=counts[0], indicators=counts[1], forums=counts[2])


async def _upsert_organisations(session: AsyncSession, tenants: Sequence[TenantFile]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for tenant in tenants:
        spec = tenant.organisation
        ids[spec.code] = await _upsert_org(session, spec.code, spec.name, spec.kind, spec.nation, spec.short_name, True)
    for tenant in tenants:
        for contract in tenant.contracts:
            if contract.provider not in ids:
                # A counterparty only: known by code and name, not a tenant (DOMAIN 4.1).
                ids[contract.provider] = await _upsert_org(
                    session, contract.provider, contract.provider_name or contract.provider, "trust", "England", None, False
                )
    return ids


async def _upsert_org(session: AsyncSession, code: str, name: str, kind: str, nation: str, short_name: str | None, is_tenant: bool) -> int:
    values = {"code": code, "name": name, "kind": kind, "nation": nation, "short_name": short_name, "is_tenant": is_tenant}
    update = dict(values) if is_tenant else {"code": code}  # a counterparty never overwrites a tenant
    statement = insert(Organisation).values(**values).on_conflict_do_update(index_elements=["code"], set_=update)
    result = await session.exec(statement.returning(Organisation.id))
    return result.scalar_one()


async def _load_structure(session: AsyncSession, org_id: int, tenant: TenantFile) -> int:
    for depth, name in enumerate(tenant.tiers):
        await session.exec(
            insert(UnitTier).values(org_id=org_id, depth=depth, name=name)
            .on_conflict_do_update(index_elements=["org_id", "depth"], set_={"name": name})
        )
    count = 0

    async def upsert(unit: UnitSpec, depth: int, parent_id: int | None, parent_path: str) -> None:
        nonlocal count
        statement = insert(OrgUnit).values(
            org_id=org_id, code=unit.code, name=unit.name, depth=depth, parent_id=parent_id, path=parent_path
        ).on_conflict_do_update(
            constraint="org_unit_code_unique", set_={"name": unit.name, "depth": depth, "parent_id": parent_id}
        )
        unit_id = (await session.exec(statement.returning(OrgUnit.id))).scalar_one()
        path = f"{parent_path}{unit_id}/"
        await session.exec(OrgUnit.__table__.update().where(OrgUnit.id == unit_id).values(path=path))
        count += 1
        for child in unit.children:
            await upsert(child, depth + 1, unit_id, path)

    for root in tenant.units:
        await upsert(root, 0, None, "/")
    return count


async def _load_indicators(session: AsyncSession, org_id: int, tenant: TenantFile) -> int:
    domain_ids: dict[str, int] = {}
    for position, domain in enumerate(tenant.domains):
        statement = insert(Domain).values(
            org_id=org_id, code=domain.code, name=domain.name, description=domain.description, position=position
        ).on_conflict_do_update(
            constraint="domain_code_unique", set_={"name": domain.name, "description": domain.description, "position": position}
        )
        domain_ids[domain.code] = (await session.exec(statement.returning(Domain.id))).scalar_one()
    for position, spec in enumerate(tenant.indicators):
        values = {
            "org_id": org_id, "code": spec.code, "name": spec.name, "definition": spec.definition, "unit": spec.unit,
            "polarity": spec.polarity, "rollup": spec.rollup, "frequency": spec.frequency,
            "domain_id": domain_ids[spec.domain], "cohort": spec.cohort, "source": spec.source, "is_key": spec.key,
            "kitemark": spec.kitemark.model_dump(mode="json"), "owner": spec.owner, "position": position,
        }
        statement = insert(Indicator).values(**values).on_conflict_do_update(constraint="indicator_code_unique", set_=values)
        indicator_id = (await session.exec(statement.returning(Indicator.id))).scalar_one()
        # Targets and organisation-level trajectories are the file's to own: replace them.
        await session.exec(delete(Target).where(Target.indicator_id == indicator_id))
        for target in spec.targets:
            session.add(Target(
                org_id=org_id, indicator_id=indicator_id, kind=target.kind, value=Decimal(str(target.value)),
                valid_from=target.valid_from, valid_to=target.valid_to, description=target.description,
            ))
        await session.exec(delete(Trajectory).where(Trajectory.indicator_id == indicator_id, Trajectory.unit_id.is_(None)))
        for point in spec.trajectory:
            session.add(Trajectory(org_id=org_id, indicator_id=indicator_id, period=point.period, value=Decimal(str(point.value))))
    await session.flush()
    return len(tenant.indicators)


async def _load_forums(session: AsyncSession, org_id: int, tenant: TenantFile) -> int:
    for spec in tenant.forums:
        values = {
            "org_id": org_id, "code": spec.code, "name": spec.name, "tier": spec.tier, "chair": spec.chair,
            "members": list(spec.members), "frequency": spec.frequency, "quorum": spec.quorum,
            "attendance_threshold": spec.attendance_threshold, "reports_to": spec.reports_to,
            "pack_deadlines_days": dict(spec.pack_deadlines_days),
        }
        await session.exec(insert(Forum).values(**values).on_conflict_do_update(constraint="forum_code_unique", set_=values))
    return len(tenant.forums)


async def _load_contracts(session: AsyncSession, org_id: int, tenant: TenantFile, org_ids: dict[str, int]) -> None:
    for spec in tenant.contracts:
        values = {
            "commissioner_id": org_id, "provider_id": org_ids[spec.provider],
            "annual_value": Decimal(str(spec.annual_value)), "services": list(spec.services),
            "strategically_important": spec.strategically_important, "start_date": spec.start, "end_date": spec.end,
        }
        await session.exec(insert(Contract).values(**values).on_conflict_do_update(constraint="contract_one_per_pair", set_=values))


async def _load_systems(session: AsyncSession, tenants: Sequence[TenantFile], org_ids: dict[str, int]) -> None:
    for tenant in tenants:
        if tenant.system is None:
            continue
        spec = tenant.system
        statement = insert(HealthSystem).values(
            code=spec.code, name=spec.name, organisation_id=org_ids[tenant.organisation.code]
        ).on_conflict_do_update(index_elements=["code"], set_={"name": spec.name})
        system_id = (await session.exec(statement.returning(HealthSystem.id))).scalar_one()
        await session.exec(delete(SystemMembership).where(SystemMembership.system_id == system_id))
        for member in spec.members:
            session.add(SystemMembership(system_id=system_id, organisation_id=org_ids[member]))
    await session.flush()


async def _store_framework(session: AsyncSession, org_id: int, file_name: str, tenant: TenantFile) -> None:
    """Keep the validated file itself: escalation, cadence and assessment run from this copy."""
    spec = tenant.model_dump(mode="json", by_alias=True, exclude_none=True)
    values = {"org_id": org_id, "file_name": file_name, "spec": spec}
    statement = insert(TenantFramework).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["org_id"], set_={"file_name": file_name, "spec": spec, "loaded_at": statement.excluded.loaded_at},
        where=TenantFramework.spec != statement.excluded.spec,
    )
    await session.exec(statement)


async def framework_of(session: AsyncSession, org_id: int) -> TenantFile | None:
    row = await session.get(TenantFramework, org_id)
    return None if row is None else TenantFile.model_validate(row.spec)


async def organisation_ids(session: AsyncSession) -> dict[str, int]:
    rows = await session.exec(select(Organisation.code, Organisation.id))
    return {code: org_id for code, org_id in rows.all()}
