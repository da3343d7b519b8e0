"""The GraphQL slice: organisations, one organisation with units, indicators and measurements, and
the recordMeasurements mutation — all through HTTP with a real bearer token."""
from __future__ import annotations

import datetime as dt

import pytest_asyncio
from sqlalchemy import select, text

from server.auth.tokens import issue_token
from server.db.models import AppUser, Organisation
from server.db.session import AccessContext

ORGANISATION_QUERY = """
query($code: String!) {
  organisation(code: $code) {
    code name
    units { code tier parentCode }
    indicators(filter: {key: true}) { nodes { code polarity targets { kind value } recentMeasurements(limit: 3) { period unitCode value numerator denominator revision } } }
  }
}"""

RECORD = """
mutation($org: String!, $rows: [MeasurementInput!]!) {
  recordMeasurements(organisationCode: $org, measurements: $rows) {
    __typename
    ... on MeasurementsRecorded { count measurements { indicatorCode revision } }
    ... on MeasurementsRejected { message errors { row field message } }
  }
}"""


async def make_token(database, email: str, org_code: str, roles: list[str]) -> str:
    async with database.session() as session:
        user_id = (await session.exec(select(AppUser.id).where(AppUser.email == email))).scalar_one()
        org_id = (await session.exec(select(Organisation.id).where(Organisation.code == org_code))).scalar_one()
        issued = await issue_token(session, name="test", user_id=user_id, roles=roles, org_id=org_id)
    return issued.secret


@pytest_asyncio.fixture(loop_scope="session")
async def sath_token(database) -> str:
    return await make_token(database, "sath.performance@accord.example", "RXW", ["performance_manager", "data_submitter"])


async def gql(client, token, query, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_token_caller_lists_only_its_organisation(client, sath_token):
    body = await gql(client, sath_token, "{ organisations { nodes { code } } }")
    assert [o["code"] for o in body["data"]["organisations"]["nodes"]] == ["RXW"]


async def test_organisation_with_units_indicators_and_recent_measurements(client, sath_token):
    body = await gql(client, sath_token, ORGANISATION_QUERY, {"code": "RXW"})
    organisation = body["data"]["organisation"]
    assert organisation["code"] == "RXW"
    assert organisation["units"][0]["parentCode"] is None
    assert organisation["indicators"]["nodes"], "SaTH has key indicators"
    assert all(len(i["recentMeasurements"]) == 3 for i in organisation["indicators"]["nodes"])


async def test_another_organisation_is_null_not_an_error(client, sath_token):
    body = await gql(client, sath_token, ORGANISATION_QUERY, {"code": "RWD"})
    assert body["data"]["organisation"] is None


async def _leaf_and_indicator(database, org_ids, rollup: str) -> tuple[str, str]:
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        return tuple((await session.exec(text(
            "select i.code, u.code from indicator i, org_unit u where i.org_id = :o and u.org_id = :o and i.rollup = :r"
            " and not exists (select 1 from org_unit c where c.parent_id = u.id) order by i.code, u.code limit 1"),
            params={"o": org_ids["RXW"], "r": rollup})).one())


async def test_recording_a_measurement_twice_keeps_both_revisions(client, sath_token, database, org_ids):
    indicator, unit = await _leaf_and_indicator(database, org_ids, "sum")
    row = {"indicatorCode": indicator, "unitCode": unit, "period": "2019-01-01", "value": 12}
    first = (await gql(client, sath_token, RECORD, {"org": "RXW", "rows": [row]}))["data"]["recordMeasurements"]
    second = (await gql(client, sath_token, RECORD, {"org": "RXW", "rows": [{**row, "value": 14}]}))["data"]["recordMeasurements"]
    assert first["__typename"] == second["__typename"] == "MeasurementsRecorded"
    assert second["measurements"][0]["revision"] == first["measurements"][0]["revision"] + 1
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        values = (await session.exec(text(
            "select r.value from measurement_history r join measurement m on m.id = r.measurement_id"
            " join indicator i on i.id = m.indicator_id join org_unit u on u.id = m.unit_id"
            " where i.code = :i and u.code = :u and m.period = '2019-01-01' order by r.revision"),
            params={"i": indicator, "u": unit})).scalars().all()
    assert [float(v) for v in values][-2:] == [12.0, 14.0]


async def test_a_bad_row_rejects_the_whole_submission_naming_row_and_field(client, sath_token, database, org_ids):
    indicator, unit = await _leaf_and_indicator(database, org_ids, "sum")
    rows = [
        {"indicatorCode": indicator, "unitCode": unit, "period": "2019-02-01", "value": 3},
        {"indicatorCode": "NOPE", "unitCode": unit, "period": "2019-02-01", "value": 3},
        {"indicatorCode": indicator, "unitCode": unit, "period": "2019-02-15", "value": 3},
    ]
    result = (await gql(client, sath_token, RECORD, {"org": "RXW", "rows": rows}))["data"]["recordMeasurements"]
    assert result["__typename"] == "MeasurementsRejected"
    assert {(e["row"], e["field"]) for e in result["errors"]} == {(2, "indicator"), (3, "period")}
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        stored = (await session.exec(text("select count(*) from measurement where period = '2019-02-01' and org_id = :o"), params={"o": org_ids["RXW"]})).scalar_one()
    assert stored == 0


async def test_sath_token_cannot_record_for_ulht(client, sath_token):
    row = {"indicatorCode": "X", "unitCode": "Y", "period": dt.date(2019, 1, 1).isoformat(), "value": 1}
    body = await gql(client, sath_token, RECORD, {"org": "RWD", "rows": [row]})
    assert body["data"] is None
    assert "may not submit measurement" in body["errors"][0]["message"]


async def test_anonymous_graphql_gets_an_authorisation_error(client):
    response = await client.post("/graphql", json={"query": "{ organisations { nodes { code } } }"})
    body = response.json()
    assert body["data"] is None
    assert "Log in or send an API token" in body["errors"][0]["message"]
