"""The audit trail: every insert says who, in which role, from where; the entitled read it a page at
a time, newest first; nobody else learns it exists."""
from __future__ import annotations

import re

import pytest_asyncio
from sqlalchemy import select, text

from server.audit.trail import record_event, request_labels
from server.db.models import AuditEvent
from server.db.session import AccessContext
from tests.conftest import login
from tests.graphql.test_slice import RECORD, gql, make_token
from tests.security.people import create_person, remove_people

PAGINATION_ACTION = "security_test.pagination"
AUDITOR = "scht.auditor@security.example"


@pytest_asyncio.fixture(loop_scope="session")
async def auditor(database):
    await create_person(database, AUDITOR, home="R1D", roles=[("performance_manager", "org:R1D")])
    yield AUDITOR
    await remove_people(database, [AUDITOR])


async def test_an_event_without_explicit_role_or_address_takes_them_from_the_request(database, org_ids):
    labels = request_labels("192.0.2.7", {org_ids["RXW"]: ["performance_manager", "data_submitter"]})
    access = AccessContext(read_org_ids=frozenset({org_ids["RXW"]}), user_id=None, labels=labels)
    async with database.session(access) as session:
        await record_event(session, action="security_test.labels", object_type="test", org_id=org_ids["RXW"], actor_user_id=None)
        await record_event(session, action="security_test.explicit", object_type="test", org_id=org_ids["RXW"], ip="198.51.100.1")
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        events = {e.action: e for e in (await session.exec(
            select(AuditEvent).where(AuditEvent.action.like("security_test.%"), AuditEvent.org_id == org_ids["RXW"]))).scalars()}
    assert events["security_test.labels"].ip == "192.0.2.7"
    assert events["security_test.labels"].actor_role is None  # no actor: no role to name
    assert events["security_test.explicit"].ip == "198.51.100.1"


async def test_recording_through_the_api_audits_the_actors_role_and_address(client, database, org_ids):
    token = await make_token(database, "sath.performance@accord.example", "RXW", ["performance_manager", "data_submitter"])
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        indicator, unit = (await session.exec(text(
            "select i.code, u.code from indicator i, org_unit u where i.org_id = :o and u.org_id = :o and i.rollup = 'sum'"
            " and not exists (select 1 from org_unit c where c.parent_id = u.id) order by i.code, u.code limit 1"),
            params={"o": org_ids["RXW"]})).one()
    rows = [{"indicatorCode": indicator, "unitCode": unit, "period": "2018-06-01", "value": 3}]
    result = (await gql(client, token, RECORD, {"org": "RXW", "rows": rows}))["data"]["recordMeasurements"]
    assert result["__typename"] == "MeasurementsRecorded"
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        event = (await session.exec(select(AuditEvent).where(AuditEvent.action == "measurements.recorded", AuditEvent.org_id == org_ids["RXW"])
                                    .order_by(AuditEvent.id.desc()))).scalars().first()
    assert event.ip == "127.0.0.1"
    assert event.actor_role == "data_submitter,performance_manager"

    await login(client, "sath.performance@accord.example")
    page = await client.get("/organisations/RXW/audit")
    assert page.status_code == 200
    first_row = page.text.split('<tbody class="nhsuk-table__body">')[1].split("</tr>")[0]
    # The page says it in people's words (issue 14): the action as a sentence, the roles by name.
    assert "Submitted measurements" in first_row and "Dev Patel" in first_row
    assert "Data submitter, Performance manager" in first_row and "127.0.0.1" in first_row


async def test_people_without_audit_read_and_other_organisations_get_not_found(client):
    for email, code in (("sath.exec@accord.example", "RXW"), ("ulht.performance@accord.example", "RXW"),
                        ("sath.performance@accord.example", "RWD"), ("admin@accord.example", "RWD")):
        client.cookies.clear()
        await login(client, email)
        response = await client.get(f"/organisations/{code}/audit")
        assert response.status_code == 404, (email, code)
        assert "Audit trail" not in response.text


async def test_a_system_administrator_reads_its_members_trails(client):
    await login(client, "admin@accord.example")
    for code in ("STW", "QOC", "RXW"):
        assert (await client.get(f"/organisations/{code}/audit")).status_code == 200, code


async def test_the_trail_is_paginated_newest_first(client, database, org_ids, auditor):
    org_id = org_ids["R1D"]
    async with database.session(AccessContext(read_org_ids=frozenset({org_id}))) as session:
        for number in range(30):
            await record_event(session, action=PAGINATION_ACTION, object_type="test", object_id=str(number), org_id=org_id,
                               after={"number": number})
    await login(client, AUDITOR)
    first = await client.get("/organisations/R1D/audit")
    assert first.status_code == 200
    # Each entry reads as a sentence naming its object ("... (test 29)": issue 14, the trail in people's words).
    numbers = [int(n) for n in re.findall(r"\(test (\d+)\)</td>", first.text)]
    assert numbers[:3] == sorted(numbers, reverse=True)[:3] and numbers[0] == max(numbers)
    assert len(re.findall(r"<tr class=\"nhsuk-table__row\">", first.text)) == 1 + 25  # header + a page of entries
    assert "/organisations/R1D/audit?page=2" in first.text and "Older entries" in first.text
    second = await client.get("/organisations/R1D/audit?page=2")
    assert "/organisations/R1D/audit?page=1" in second.text and "Newer entries" in second.text
    assert (await client.get("/organisations/R1D/audit?page=-3")).status_code == 200
    assert (await client.get("/organisations/R1D/audit?page=99999999999")).status_code == 200
