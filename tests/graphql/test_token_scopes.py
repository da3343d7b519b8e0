"""Region and national API tokens: a regional analyst's token reads every organisation in its
region's systems and none outside, a national analyst's reads every organisation, through GraphQL
and through row-level security alike; nobody gets either without the role the policy names."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from starlette.requests import HTTPConnection

from server.admin import scopes
from server.admin import tokens as token_admin
from server.auth.principal import authenticate_in
from server.db.models import ApiToken, AppUser, AuditEvent, Indicator, Measurement, Organisation, Region, RoleAssignment
from server.db.session import AccessContext
from server.tenants.load import validate_tenants
from server.tenants.parse import TenantFileError
from tests.security.people import create_person, remove_people

REGIONAL = "regional.analyst@scopes.example"
NATIONAL = "national.analyst@scopes.example"
MISPLACED = "misplaced.viewer@scopes.example"  # holds an organisation's role at region scope: the policy gives it nothing there
ORG_ONLY = "org.only@scopes.example"
STW_REGION = {"STW", "QOC", "RXW", "RL1", "R1D"}  # the Midlands (Y60) holds the STW system: its organisation and members
ORGANISATIONS = "{ organisations(first: 250) { totalCount nodes { code } } }"


async def _grant(database, services, email: str, role: str, domain: str, grant: bool = True):
    # What `accord grant-role --region CODE` / `--national` (and revoke-role) call.
    return await scopes.change_scope_role_at_command_line(database, services.authorizer, email=email, role=role, domain=domain, grant=grant)


async def _insert_assignment(database, email: str, role: str, *, region: str) -> None:
    """A row the grant path would refuse (as if written by hand): Casbin must still give it nothing."""
    async with database.session() as session:
        user_id = (await session.exec(select(AppUser.id).where(AppUser.email == email))).scalar_one()
        region_id = (await session.exec(select(Region.id).where(Region.code == region))).scalar_one()
        session.add(RoleAssignment(user_id=user_id, role=role, region_id=region_id))


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def people(database, services):
    emails = [REGIONAL, NATIONAL, MISPLACED, ORG_ONLY]
    for email in emails:
        await create_person(database, email, home="QOC")
    assert isinstance(await _grant(database, services, REGIONAL, "regional_analyst", "region:Y60"), scopes.ScopeRoleChanged)
    assert isinstance(await _grant(database, services, NATIONAL, "national_analyst", "national"), scopes.ScopeRoleChanged)
    await _insert_assignment(database, MISPLACED, "viewer", region="Y60")
    await create_person(database, ORG_ONLY, home="RXW", roles=[("viewer", "org:RXW")])
    yield
    await remove_people(database, emails)


async def _issue(database, email: str, domain: str, roles: list[str]) -> token_admin.TokenIssued | token_admin.TokenRefused:
    # What `accord issue-token --region CODE` / `--national` calls.
    return await token_admin.issue_at_command_line(database, email=email, domain=domain, roles=roles, days=7, name="scope test")


async def _secret(database, email: str, domain: str, roles: list[str]) -> str:
    issued = await _issue(database, email, domain, roles)
    assert isinstance(issued, token_admin.TokenIssued), issued
    return issued.secret


async def _codes(client, secret: str) -> set[str]:
    response = await client.post("/graphql", json={"query": ORGANISATIONS}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    return {node["code"] for node in response.json()["data"]["organisations"]["nodes"]}


async def _access(database, services, secret: str) -> AccessContext:
    """The access the request boundary resolves for this token (server/web/middleware.py's path)."""
    connection = HTTPConnection({"type": "http", "headers": [(b"authorization", f"Bearer {secret}".encode())]})
    async with database.session() as session:
        authentication = await authenticate_in(session, connection, services.settings, services.authorizer)
        assert authentication.principal is not None
        access, _ = await services.authorizer.access_cache.resolve(session, services.authorizer, authentication.principal)
    return access


async def _rows_by_organisation(database, access: AccessContext) -> dict[str, tuple[int, int]]:
    """Indicator and measurement rows row-level security lets this access read, per organisation code."""
    async with database.session(access) as session:
        indicators = dict((await session.exec(select(Indicator.org_id, func.count()).group_by(Indicator.org_id))).all())
        measurements = dict((await session.exec(select(Measurement.org_id, func.count()).group_by(Measurement.org_id))).all())
    async with database.session() as session:
        code_of = dict((await session.exec(select(Organisation.id, Organisation.code))).all())
    return {code_of[org_id]: (count, measurements.get(org_id, 0)) for org_id, count in indicators.items()}


async def _all_codes(database) -> set[str]:
    async with database.session() as session:
        return set((await session.exec(select(Organisation.code))).scalars())


async def _tenant_codes(database) -> set[str]:
    async with database.session() as session:
        return set((await session.exec(select(Organisation.code).where(Organisation.is_tenant))).scalars())


async def test_a_region_token_reads_every_organisation_of_its_regions_systems_and_none_outside(client, database, services, people):
    secret = await _secret(database, REGIONAL, "region:Y60", ["regional_analyst"])

    assert await _codes(client, secret) == STW_REGION
    readable = await _rows_by_organisation(database, await _access(database, services, secret))
    assert set(readable) == STW_REGION
    assert all(indicators > 0 and measurements > 0 for indicators, measurements in readable.values())
    # Organisations outside the region hold rows too: the database, not only the resolver, keeps them out.
    everyone = await _rows_by_organisation(database, AccessContext.for_orgs((await _org_ids(database)).values()))
    assert {"RWD", "03N", "WHSSC"} <= set(everyone) - set(readable)

    system = await client.post("/graphql", json={"query": '{ system(code: "STW") { code members { code } } }'},
                               headers={"Authorization": f"Bearer {secret}"})
    assert {m["code"] for m in system.json()["data"]["system"]["members"]} == STW_REGION
    ulht = await client.post("/graphql", json={"query": '{ organisation(code: "RWD") { code } }'}, headers={"Authorization": f"Bearer {secret}"})
    assert ulht.json()["data"]["organisation"] is None


async def test_a_national_token_reads_every_organisation(client, database, services, people):
    secret = await _secret(database, NATIONAL, "national", ["national_analyst"])

    assert await _codes(client, secret) == await _all_codes(database)
    readable = await _rows_by_organisation(database, await _access(database, services, secret))
    assert set(readable) == await _tenant_codes(database)  # every organisation with data: counterparties have none


async def test_nobody_reads_at_region_or_national_scope_without_the_role_the_policy_names(client, database, services, people):
    # Only the roles the policy lets read there are granted at a region or nationally...
    for role, domain in (("viewer", "region:Y60"), ("regional_analyst", "national"), ("national_analyst", "region:Y60")):
        refused = await _grant(database, services, ORG_ONLY, role, domain)
        assert isinstance(refused, scopes.ScopeRoleRefused) and "not held for" in refused.message
    assert isinstance(await _grant(database, services, ORG_ONLY, "regional_analyst", "region:Y99"), scopes.ScopeRoleRefused)
    assert isinstance(await _grant(database, services, ORG_ONLY, "viewer", "org:RXW"), scopes.ScopeRoleRefused)
    # The account must hold the role at that scope to be issued it...
    refused = await _issue(database, ORG_ONLY, "region:Y60", ["regional_analyst"])
    assert isinstance(refused, token_admin.TokenRefused) and refused.field == "roles"
    refused = await _issue(database, REGIONAL, "national", ["national_analyst"])
    assert isinstance(refused, token_admin.TokenRefused) and refused.field == "roles"
    # ...and holding some other role at region scope grants nothing: Casbin decides, not the scope.
    secret = await _secret(database, MISPLACED, "region:Y60", ["viewer"])
    assert await _codes(client, secret) == set()
    assert await _rows_by_organisation(database, await _access(database, services, secret)) == {}
    # A regional role reads its own region only.
    assert isinstance(await _issue(database, REGIONAL, "region:Y99", ["regional_analyst"]), token_admin.TokenRefused)


async def test_removing_the_regional_role_disarms_the_token_on_the_next_request_and_both_changes_are_audited(client, database, services, people):
    secret = await _secret(database, REGIONAL, "region:Y60", ["regional_analyst"])
    assert await _codes(client, secret) == STW_REGION
    assert isinstance(await _grant(database, services, REGIONAL, "regional_analyst", "region:Y60", grant=False), scopes.ScopeRoleChanged)
    try:
        assert await _codes(client, secret) == set()
    finally:
        assert isinstance(await _grant(database, services, REGIONAL, "regional_analyst", "region:Y60"), scopes.ScopeRoleChanged)
    async with database.session(AccessContext.for_orgs((await _org_ids(database)).values())) as session:
        trails = (await session.exec(
            select(Organisation.code, AuditEvent.action).join(Organisation, Organisation.id == AuditEvent.org_id)
            .where(AuditEvent.object_type == "role_assignment", AuditEvent.after["user"].astext == REGIONAL)
        )).all()
    assert {code for code, action in trails if action == "role.revoked"} == STW_REGION
    assert {code for code, action in trails if action == "role.granted"} == STW_REGION


async def test_issue_and_revocation_of_a_region_token_are_in_the_trail_of_every_organisation_it_reads(client, database, people):
    issued = await _issue(database, REGIONAL, "region:Y60", ["regional_analyst"])
    assert isinstance(issued, token_admin.TokenIssued) and issued.domain == "region:Y60"
    revoked = await token_admin.revoke_at_command_line(database, issued.token_id)
    assert isinstance(revoked, token_admin.TokenRevoked)
    response = await client.post("/graphql", json={"query": ORGANISATIONS}, headers={"Authorization": f"Bearer {issued.secret}"})
    assert response.status_code == 401

    ids = await _org_ids(database)
    async with database.session(AccessContext.for_orgs(ids.values())) as session:
        rows = (await session.exec(
            select(AuditEvent.org_id, AuditEvent.action).where(AuditEvent.object_type == "api_token", AuditEvent.object_id == str(issued.token_id))
        )).all()
        token = (await session.exec(select(ApiToken).where(ApiToken.id == issued.token_id))).scalars().one()
    code_of = {org_id: code for code, org_id in ids.items()}
    assert {(code_of[org_id], action) for org_id, action in rows} == {
        (code, action) for code in STW_REGION for action in ("api_token.issued", "api_token.revoked")
    }
    assert token.region_id is not None and token.org_id is None and token.system_id is None and not token.national


async def _org_ids(database) -> dict[str, int]:
    async with database.session() as session:
        return dict((await session.exec(select(Organisation.code, Organisation.id))).all())


def test_a_region_named_differently_by_two_system_files_is_refused_naming_the_file(tmp_path: Path, test_settings):
    tenants = tmp_path / "tenants"
    shutil.copytree(test_settings.tenants_dir, tenants)
    (tenants / "lincolnshire.yaml").write_text(
        "organisation: {code: LICS, name: Lincolnshire ICS, kind: system}\n"
        "system: {code: LICS, name: Lincolnshire ICS, members: [RWD], region: {code: Y60, name: Midlands}}\n"
    )
    with pytest.raises(TenantFileError) as refused:
        validate_tenants(tenants)
    assert "lincolnshire.yaml" in str(refused.value) and "system.region.name" in str(refused.value)
    assert "NHS England Midlands" in str(refused.value)


async def test_a_tokens_use_is_noted_at_most_once_a_minute(client, database, people):
    """A write on every request would make each one commit, and concurrent requests queue on the row."""
    secret = await _secret(database, NATIONAL, "national", ["national_analyst"])

    async def last_used():  # type: ignore[no-untyped-def]
        async with database.session() as session:
            return (await session.exec(select(ApiToken.last_used_at).where(ApiToken.prefix == secret[:10]))).scalar_one()

    assert await last_used() is None
    await _codes(client, secret)
    first = await last_used()
    assert first is not None
    await _codes(client, secret)
    assert await last_used() == first
