"""One organisation's people never see another's data — in the pages, the API, and the database."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from server.db.session import AccessContext
from tests.conftest import login
from tests.graphql.test_slice import ORGANISATION_QUERY, gql, make_token

TENANT_TABLES = ("org_unit", "domain", "indicator", "target", "measurement", "measurement_revision", "measurement_history", "assessment", "forum",
                 "audit_event", "peer_group_declaration")


async def test_sath_user_gets_not_found_for_ulht_page(client):
    await login(client, "sath.exec@accord.example")
    response = await client.get("/organisations/RWD")
    assert response.status_code == 404
    assert "United Lincolnshire" not in response.text
    own = await client.get("/organisations/RXW")
    assert own.status_code == 200


async def test_sath_token_sees_no_ulht_through_graphql(client, database):
    token = await make_token(database, "sath.exec@accord.example", "RXW", ["executive"])
    assert (await gql(client, token, ORGANISATION_QUERY, {"code": "RWD"}))["data"]["organisation"] is None
    listed = (await gql(client, token, "{ organisations { nodes { code } } }"))["data"]["organisations"]["nodes"]
    assert "RWD" not in [o["code"] for o in listed]


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_no_context_reads_nothing(database, table):
    """Fail closed: a query issued with no access context returns no rows at all."""
    async with database.session() as session:
        assert (await session.exec(text(f"select count(*) from {table}"))).scalar_one() == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_wrong_context_reads_no_foreign_rows(database, org_ids, table):
    """Even if an application check were skipped, a SaTH transaction cannot read ULHT rows."""
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        foreign = (await session.exec(text(f"select count(*) from {table} where org_id <> :own"), params={"own": org_ids["RXW"]})).scalar_one()
    assert foreign == 0


async def test_write_outside_the_write_set_is_refused_by_the_database(database, org_ids):
    from sqlalchemy.exc import DBAPIError

    # Read access to ULHT (e.g. through a system role) does not make its rows writable.
    access = AccessContext(read_org_ids=frozenset({org_ids["RWD"]}), write_org_ids=frozenset({org_ids["RXW"]}))
    async with database.session(access) as session:
        changed = (await session.exec(text("update indicator set name = name || ' (hacked)' where org_id = :o"), params={"o": org_ids["RWD"]})).rowcount
    assert changed == 0
    with pytest.raises(DBAPIError):
        async with database.session(access) as session:
            await session.exec(text("insert into domain (org_id, code, name, position) values (:o, 'X', 'X', 0)"), params={"o": org_ids["RWD"]})


async def test_commissioner_sees_only_contractual_indicators_of_its_providers(database, org_ids):
    """Sheffield CCG-style access: contractual indicators of contracted providers, nothing else of theirs."""
    async with database.session() as session:
        pairs = (await session.exec(text(
            "select c.commissioner_id, c.provider_id from contract c join organisation p on p.id = c.provider_id where p.is_tenant"))).all()
    if not pairs:
        pytest.fail("the seed tenants declare no contract with a tenant provider")
    commissioner, provider = pairs[0]
    access = AccessContext(read_org_ids=frozenset({commissioner}), contract_org_ids=frozenset({provider}))
    async with database.session(access) as session:
        sources = set((await session.exec(text("select distinct source from indicator where org_id = :p"), params={"p": provider})).scalars())
        forums = (await session.exec(text("select count(*) from forum where org_id = :p"), params={"p": provider})).scalar_one()
    assert sources <= {"contractual"}
    assert forums == 0
