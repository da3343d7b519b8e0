"""Meetings, the reporting schedule and the audit trail through GraphQL, with the pages' rights."""
from __future__ import annotations

from schema.app import schema
from schema.context import AccordContext
from tests.conftest import act_as

GOVERNANCE = """query($org: String!) { organisation(code: $org) {
  meetings(from: "2025-01-01", to: "2027-06-30") { id forumCode forumName scheduledFor status decisions }
  reportingSchedule { today overdue { code name due overdue } upcoming { code due } }
} }"""
AUDIT = """query($org: String!) { organisation(code: $org) { auditTrail { page pages total entries { action objectType at } } } }"""


async def run(database, services, email: str, document: str, variables: dict):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    return await schema.execute(document, variable_values=variables, context_value=context)


async def test_a_reader_sees_meetings_and_the_reporting_schedule(database, services):
    from server.meetings.schedule import schedule_meetings
    from server.db.session import AccessContext
    from server.tenants.load import organisation_ids
    import datetime as dt

    async with database.session() as session:
        org_id = (await organisation_ids(session))["RWD"]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        await schedule_meetings(session, org_id, start=dt.date(2026, 12, 1), end=dt.date(2027, 3, 1), actor_user_id=None)
    result = await run(database, services, "ulht.performance@accord.example", GOVERNANCE, {"org": "RWD"})
    assert result.errors is None, result.errors
    organisation = result.data["organisation"]
    assert organisation["meetings"], "ULHT's forums have sittings in the window"
    dates = [m["scheduledFor"] for m in organisation["meetings"]]
    assert dates == sorted(dates) and all("2025-01-01" <= d <= "2027-06-30" for d in dates)
    schedule = organisation["reportingSchedule"]
    assert all(item["overdue"] for item in schedule["overdue"])


async def test_a_window_that_runs_backwards_is_refused_with_a_clear_message(database, services):
    query = 'query { organisation(code: "RWD") { meetings(from: "2027-01-01", to: "2026-01-01") { id } } }'
    result = await run(database, services, "ulht.performance@accord.example", query, {})
    assert result.errors and "from a date to a later one" in result.errors[0].message


async def test_the_audit_trail_needs_audit_read(database, services):
    allowed = await run(database, services, "admin@accord.example", AUDIT, {"org": "QOC"})
    assert allowed.errors is None, allowed.errors
    trail = allowed.data["organisation"]["auditTrail"]
    assert trail["page"] == 1 and trail["total"] >= len(trail["entries"])
    refused = await run(database, services, "stw.delivery@accord.example", AUDIT, {"org": "QOC"})
    assert refused.errors and "may not read the audit trail" in refused.errors[0].message
