"""Role administration as data: who may grant and revoke where, the audit row each change leaves,
and the change taking effect on the very next request."""
from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import select, text

from server.admin.authority import Actor, acting_as
from server.admin.roles import RoleChangeRefused, grant_role, role_scope
from server.auth.authz import Assignment, Authorizer, Principal
from server.db.models import AppUser, AuditEvent, RoleAssignment
from server.db.session import AccessContext
from tests.conftest import csrf_from, login
from tests.security.people import create_person, remove_people

NEWCOMER = "newcomer@security.example"
SATH_ADMIN = "sath.admin@security.example"


@pytest_asyncio.fixture(loop_scope="session")
async def newcomer(database):
    user_id = await create_person(database, NEWCOMER, home="QOC")
    yield user_id
    await remove_people(database, [NEWCOMER])


@pytest_asyncio.fixture(loop_scope="session")
async def sath_admin(database):
    user_id = await create_person(database, SATH_ADMIN, home="RXW", roles=[("tenant_admin", "org:RXW")])
    yield user_id
    await remove_people(database, [SATH_ADMIN])


async def _assignments(database, user_id: int) -> set[tuple[str, int | None, int | None]]:
    async with database.session() as session:
        rows = await session.exec(select(RoleAssignment.role, RoleAssignment.org_id, RoleAssignment.system_id).where(RoleAssignment.user_id == user_id))
        return set(rows.all())


async def _audit(database, org_id: int, action: str) -> list[AuditEvent]:
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        rows = await session.exec(select(AuditEvent).where(AuditEvent.org_id == org_id, AuditEvent.action == action).order_by(AuditEvent.id.desc()))
        return list(rows.scalars())


async def _post(client, path: str, data: dict | None = None):
    page = await client.get("/")
    return await client.post(path, data={**(data or {}), "csrf_token": csrf_from(page.text)})


async def test_tenant_admin_grants_a_role_audited_and_effective_on_the_next_request(client, database, org_ids, newcomer, app):
    newcomer_client = await _second_client(app)
    await login(newcomer_client, NEWCOMER)
    assert (await newcomer_client.get("/organisations/QOC")).status_code == 404

    await login(client, "admin@accord.example")
    response = await _post(client, "/organisations/QOC/admin/roles", {"email": NEWCOMER.upper(), "role": "viewer"})
    assert response.status_code == 303, response.text
    assert ("viewer", org_ids["QOC"], None) in await _assignments(database, newcomer)
    [event, *_] = await _audit(database, org_ids["QOC"], "role.granted")
    assert event.actor_role == "tenant_admin"
    assert event.ip == "127.0.0.1"
    assert event.before["roles"] == [] and event.after["roles"] == ["viewer"]
    assert event.after["user"] == NEWCOMER and event.after["domain"] == "org:QOC"
    async with database.session() as session:
        admin_id = (await session.exec(select(AppUser.id).where(AppUser.email == "admin@accord.example"))).scalar_one()
    assert event.actor_user_id == admin_id

    assert (await newcomer_client.get("/organisations/QOC")).status_code == 200  # no restart, no cache to expire

    page = await client.get("/organisations/QOC/admin")
    assignment_id = await _assignment_id(database, newcomer, "viewer")
    assert f"/admin/roles/{assignment_id}/revoke" in page.text
    response = await _post(client, f"/organisations/QOC/admin/roles/{assignment_id}/revoke")
    assert response.status_code == 303
    assert await _assignments(database, newcomer) == set()
    [revoked, *_] = await _audit(database, org_ids["QOC"], "role.revoked")
    assert revoked.before["roles"] == ["viewer"] and revoked.after["roles"] == []
    assert revoked.object_id == str(assignment_id)
    assert (await newcomer_client.get("/organisations/QOC")).status_code == 404
    await newcomer_client.aclose()


async def test_system_admin_manages_a_member_organisation_and_the_member_trail_records_it(client, database, org_ids, newcomer):
    await login(client, "admin@accord.example")
    response = await _post(client, "/organisations/RXW/admin/roles", {"email": NEWCOMER, "role": "executive"})
    assert response.status_code == 303, response.text
    assert ("executive", org_ids["RXW"], None) in await _assignments(database, newcomer)
    [event, *_] = await _audit(database, org_ids["RXW"], "role.granted")
    assert event.actor_role == "system_tenant_admin@system:STW"
    assert event.after["user"] == NEWCOMER


async def test_system_roles_are_granted_in_the_system_domain_from_the_systems_own_page(client, database, newcomer):
    await login(client, "admin@accord.example")
    response = await _post(client, "/organisations/STW/admin/roles", {"email": NEWCOMER, "role": "system_viewer"})
    assert response.status_code == 303, response.text
    async with database.session() as session:
        system_id = (await session.exec(text("select id from health_system where code = 'STW'"))).scalar_one()
    assert ("system_viewer", None, system_id) in await _assignments(database, newcomer)


async def test_system_admin_cannot_manage_an_organisation_outside_the_system(client, database, newcomer):
    await login(client, "admin@accord.example")
    assert (await client.get("/organisations/RWD/admin")).status_code == 404
    response = await _post(client, "/organisations/RWD/admin/roles", {"email": NEWCOMER, "role": "viewer"})
    assert response.status_code == 404
    assert await _assignments(database, newcomer) == set()


async def test_a_members_tenant_admin_cannot_manage_the_system_or_a_sibling(client, database, newcomer, sath_admin):
    await login(client, SATH_ADMIN)
    assert (await client.get("/organisations/RXW/admin")).status_code == 200
    for code, role in (("STW", "system_viewer"), ("RL1", "viewer"), ("QOC", "viewer")):
        response = await _post(client, f"/organisations/{code}/admin/roles", {"email": NEWCOMER, "role": role})
        assert response.status_code == 404, code
    # From its own page it cannot reach the system domain either.
    response = await _post(client, "/organisations/RXW/admin/roles", {"email": NEWCOMER, "role": "system_viewer"})
    assert response.status_code == 400
    assert await _assignments(database, newcomer) == set()


async def test_revoking_another_organisations_assignment_through_your_own_page_is_not_found(client, database, org_ids, newcomer):
    """IDOR: QOC's administrator names an RWD assignment id under QOC's URL."""
    await create_person(database, NEWCOMER, home="QOC", roles=[("viewer", "org:RWD")])
    assignment_id = await _assignment_id(database, newcomer, "viewer")
    await login(client, "admin@accord.example")
    response = await _post(client, f"/organisations/QOC/admin/roles/{assignment_id}/revoke")
    assert response.status_code == 404
    assert ("viewer", org_ids["RWD"], None) in await _assignments(database, newcomer)


@pytest.mark.parametrize("role", ["user:1", "token:1", "", "superuser", "viewer "])
async def test_only_roles_named_in_the_policy_can_be_granted(client, database, newcomer, role):
    """A free-text role like user:1 would inherit that user's roles through Casbin's transitive links."""
    await login(client, "admin@accord.example")
    response = await _post(client, "/organisations/QOC/admin/roles", {"email": NEWCOMER, "role": role})
    assert response.status_code == 400
    assert "nhsuk-error-summary" in response.text
    assert await _assignments(database, newcomer) == set()


async def test_an_organisation_role_cannot_be_granted_for_a_system_nor_the_reverse(database, services, newcomer):
    for role, domain in (("viewer", "system:STW"), ("system_viewer", "org:QOC")):
        async with database.session() as session:
            result = await grant_role(session, services.authorizer, Actor.operator(), email=NEWCOMER, role=role, domain=domain)
        assert isinstance(result, RoleChangeRefused) and result.field == "role"


async def test_an_actor_for_one_domain_cannot_act_in_another(database, services, newcomer):
    actor = Actor(user_id=None, role="tenant_admin", domain="org:QOC")
    async with database.session() as session:
        result = await grant_role(session, services.authorizer, actor, email=NEWCOMER, role="viewer", domain="org:RWD")
    assert isinstance(result, RoleChangeRefused)
    assert await _assignments(database, newcomer) == set()


async def test_people_without_role_admin_get_not_found(client):
    for email, code in (("sath.exec@accord.example", "RXW"), ("stw.lead@accord.example", "QOC"), ("stw.qpc@accord.example", "STW")):
        client.cookies.clear()
        await login(client, email)
        assert (await client.get(f"/organisations/{code}/admin")).status_code == 404, email
        assert (await client.get(f"/organisations/{code}/admin/tokens")).status_code == 404, email


async def test_the_admin_page_lists_this_organisations_people_and_only_their_roles_here(client):
    await login(client, "admin@accord.example")
    page = await client.get("/organisations/QOC/admin")
    assert page.status_code == 200
    assert "stw.lead@accord.example" in page.text  # home QOC, planning_performance_lead at QOC
    assert "Planning performance lead" in page.text
    assert "System planning lead" not in page.text  # held for the system, not for QOC
    assert "sath.exec@accord.example" not in page.text
    assert page.text.count('name="csrf_token"') == page.text.count("<form")


async def test_an_administrator_cannot_remove_their_own_administrator_role(client, database, sath_admin):
    await login(client, SATH_ADMIN)
    assignment_id = await _assignment_id(database, sath_admin, "tenant_admin")
    response = await _post(client, f"/organisations/RXW/admin/roles/{assignment_id}/revoke")
    assert response.status_code == 400
    assert "cannot remove your own administrator role" in response.text


async def test_acting_as_resolves_direct_and_system_authority(database, services):
    authorizer: Authorizer = services.authorizer
    admin = Principal(subject="user:test-admin", user_id=0, name="A", email="a@x", assignments=(
        Assignment("system_tenant_admin", "system:STW"),))
    authorizer.sync_subject(admin)
    try:
        async with database.session() as session:
            assert (await acting_as(session, authorizer, admin, "system:STW", "role_assignment")).role == "system_tenant_admin"
            assert (await acting_as(session, authorizer, admin, "org:RL1", "role_assignment")).role == "system_tenant_admin@system:STW"
            assert await acting_as(session, authorizer, admin, "org:RWD", "role_assignment") is None
            assert await acting_as(session, authorizer, admin, "system:STW", "measurement", "submit") is None
    finally:
        authorizer.sync_subject(Principal(subject="user:test-admin", user_id=0, name="A", email="a@x", assignments=()))


def test_every_policy_role_has_a_scope(services):
    roles = {rule[0] for rule in services.authorizer.enforcer.get_policy()}
    scopes = {role: role_scope(services.authorizer, role) for role in roles}
    assert None not in scopes.values()
    assert {r for r, s in scopes.items() if s == "system"} == {
        "system_viewer", "system_planning_lead", "delivery_group_member", "commissioning_working_group",
        "system_committee_member", "system_tenant_admin"}


async def _assignment_id(database, user_id: int, role: str) -> int:
    async with database.session() as session:
        return (await session.exec(select(RoleAssignment.id).where(RoleAssignment.user_id == user_id, RoleAssignment.role == role))).scalar_one()


async def _second_client(app):
    import httpx

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False)
