"""Running a meeting through GraphQL: attendance and decisions with the meeting page's rights, its
stale-version refusal and its audit trail, through the same service functions."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest_asyncio
from sqlalchemy import select, text

from server.auth.tokens import issue_token
from server.db.models import AppUser, AuditEvent, Organisation
from server.db.session import AccessContext
from tests.meetings.helpers import create_meeting

PERFORMANCE = "ulht.performance@accord.example"  # performance manager and executive at ULHT: meeting manage
DIVISION = "ulht.division@accord.example"  # divisional triumvirate: reads ULHT, cannot manage meetings

ATTENDANCE = """mutation($org: String!, $id: Int!, $version: Int!, $attendance: [AttendanceInput!]!) {
  recordAttendance(organisationCode: $org, meetingId: $id, version: $version, attendance: $attendance) {
    __typename ... on MeetingSaved { meeting { id status version } } ... on MeetingRefused { reason message } } }"""
DECISION = """mutation($org: String!, $id: Int!, $version: Int!, $decision: String!) {
  recordDecision(organisationCode: $org, meetingId: $id, version: $version, decision: $decision) {
    __typename ... on MeetingSaved { meeting { version decisions } } ... on MeetingRefused { reason message } } }"""


async def _token(database, email: str, roles: list[str]) -> str:
    async with database.session() as session:
        user_id = (await session.exec(select(AppUser.id).where(AppUser.email == email))).scalar_one()
        org_id = (await session.exec(select(Organisation.id).where(Organisation.code == "RWD"))).scalar_one()
        return (await issue_token(session, name="meetings tool", user_id=user_id, roles=roles, org_id=org_id)).secret


@pytest_asyncio.fixture(loop_scope="session")
async def meeting(database, org_ids):
    """A past FPEC meeting of ULHT (its own, one per test), with its forum's members."""
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]], write=True)) as session:
        created = await create_meeting(session, org_ids["RWD"], "FPEC", dt.date(2026, 9, 2), subject_key=f"graphql-{uuid.uuid4().hex[:8]}")
        members = (await session.exec(text("select members from forum where id = :f"), params={"f": created.forum_id})).scalar_one()
        return created.id, list(members)


async def _ask(client, token: str, query: str, variables: dict) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return next(iter(body["data"].values()))


async def test_a_meeting_manager_records_attendance_and_a_decision_audited_and_a_stale_version_is_refused(client, database, org_ids, meeting):
    meeting_id, members = meeting
    token = await _token(database, PERFORMANCE, ["performance_manager"])
    marks = [{"member": members[0], "attendance": "PRESENT"}, {"member": members[1], "attendance": "DEPUTY", "deputy": "A. Deputy"}]
    saved = await _ask(client, token, ATTENDANCE, {"org": "RWD", "id": meeting_id, "version": 1, "attendance": marks})
    assert saved["__typename"] == "MeetingSaved" and saved["meeting"] == {"id": meeting_id, "status": "held", "version": 2}

    stale = await _ask(client, token, DECISION, {"org": "RWD", "id": meeting_id, "version": 1, "decision": "Recovery plan agreed"})
    assert stale["__typename"] == "MeetingRefused" and stale["reason"] == "stale"
    decided = await _ask(client, token, DECISION, {"org": "RWD", "id": meeting_id, "version": 2, "decision": "Recovery plan agreed"})
    assert decided["meeting"]["version"] == 3 and decided["meeting"]["decisions"][-1]["text"] == "Recovery plan agreed"

    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        attendance = dict((await session.exec(text(
            "select member, case when present then 'present' when deputy is not null then 'deputy' else 'absent' end"
            " from meeting_attendance where meeting_id = :m"), params={"m": meeting_id})).all())
        actions = [row for row in (await session.exec(select(AuditEvent.action).where(
            AuditEvent.object_type == "meeting", AuditEvent.object_id == str(meeting_id)).order_by(AuditEvent.id))).scalars()]
    assert attendance[members[0]] == "present" and attendance[members[1]] == "deputy"
    assert all(attendance[member] == "absent" for member in members[2:]), "members left out are recorded absent"
    assert actions == ["meeting.attendance_recorded", "meeting.decision_recorded"]


async def test_a_reader_without_meeting_manage_and_another_trusts_token_are_refused(client, database, meeting):
    meeting_id, members = meeting
    reader = await _token(database, DIVISION, ["divisional_triumvirate"])
    refused = await _ask(client, reader, DECISION, {"org": "RWD", "id": meeting_id, "version": 1, "decision": "Not mine to decide"})
    assert refused == {"__typename": "MeetingRefused", "reason": "not_allowed", "message": "You may not manage the meetings of RWD"}
    async with database.session() as session:
        user_id = (await session.exec(select(AppUser.id).where(AppUser.email == "sath.exec@accord.example"))).scalar_one()
        org_id = (await session.exec(select(Organisation.id).where(Organisation.code == "RXW"))).scalar_one()
        sath = (await issue_token(session, name="other trust", user_id=user_id, roles=["executive"], org_id=org_id)).secret
    hidden = await _ask(client, sath, DECISION, {"org": "RWD", "id": meeting_id, "version": 1, "decision": "Not ours"})
    assert hidden["reason"] == "not_found"
    invalid = await _ask(client, reader, ATTENDANCE, {"org": "RWD", "id": meeting_id, "version": 1,
                                                      "attendance": [{"member": members[0], "attendance": "DEPUTY"}]})
    assert invalid["reason"] == "invalid" and "deputy" in invalid["message"]


PACKS = """query($org: String!) { organisation(code: $org) {
  latestDataPack { meetingId forumCode title scheduledFor issuedAt indicatorCount concerns content }
  dataPacks(first: 50) { totalCount nodes { meetingId issuedAt } } } }"""


async def test_issued_data_packs_are_listed_latest_first_with_the_frozen_content(client, database, org_ids, meeting):
    from server.db.models import Meeting
    from server.meetings.minutes import Actor
    from server.meetings.pack import issue_pack
    from server.meetings.queries import meeting_in

    meeting_id, _ = meeting
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]], write=True)) as session:
        organisation = await session.get(Organisation, org_ids["RWD"])
        found = await meeting_in(session, org_ids["RWD"], meeting_id)
        issued = await issue_pack(session, organisation, found.meeting, found.forum, expected_version=found.meeting.version,
                                  actor=Actor(None, "test"), now=dt.datetime.now(dt.UTC))
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        issued_at = (await session.exec(select(Meeting.pack_issued_at).where(Meeting.id == meeting_id))).scalar_one()
    reader = await _token(database, DIVISION, ["divisional_triumvirate"])
    data = (await client.post("/graphql", json={"query": PACKS, "variables": {"org": "RWD"}},
                              headers={"Authorization": f"Bearer {reader}"})).json()["data"]["organisation"]
    latest = data["latestDataPack"]
    assert latest["meetingId"] == meeting_id and latest["forumCode"] == "FPEC"
    assert latest["indicatorCount"] == len(issued.pack["indicators"]) and latest["concerns"] == issued.pack["concerns"]
    assert latest["content"]["meeting"]["id"] == meeting_id and latest["content"]["indicators"] == issued.pack["indicators"]
    assert dt.datetime.fromisoformat(latest["issuedAt"]) == issued_at
    listed = [node["issuedAt"] for node in data["dataPacks"]["nodes"]]
    assert data["dataPacks"]["nodes"][0]["meetingId"] == meeting_id and listed == sorted(listed, reverse=True)
    other = await client.post("/graphql", json={"query": PACKS, "variables": {"org": "RXW"}}, headers={"Authorization": f"Bearer {reader}"})
    assert other.json()["data"]["organisation"] is None


MARK = """mutation($org: String!, $report: String!, $due: Date!) { markReportIssued(organisationCode: $org, report: $report, due: $due) {
  __typename ... on ReportIssued { report due issuedAt issuedBy } ... on MeetingRefused { reason message } } }"""
SCHEDULE = """query { organisation(code: "RWD") { reportingSchedule { overdue { code due issuedAt } upcoming { code due issuedAt }
  recentlyIssued { code due issuedAt issuedBy } } } }"""


async def test_a_scheduled_report_is_marked_issued_once_as_the_reports_page_does(client, database):
    manager = await _token(database, PERFORMANCE, ["performance_manager"])
    reader = await _token(database, DIVISION, ["divisional_triumvirate"])
    schedule = (await client.post("/graphql", json={"query": SCHEDULE}, headers={"Authorization": f"Bearer {manager}"})).json()["data"]
    open_items = [item for item in [*schedule["organisation"]["reportingSchedule"]["overdue"], *schedule["organisation"]["reportingSchedule"]["upcoming"]]
                  if item["issuedAt"] is None]
    item = open_items[0]
    variables = {"org": "RWD", "report": item["code"], "due": item["due"]}

    refused = await _ask(client, reader, MARK, variables)
    assert refused["__typename"] == "MeetingRefused" and refused["reason"] == "not_allowed"
    marked = await _ask(client, manager, MARK, variables)
    assert marked["__typename"] == "ReportIssued" and (marked["report"], marked["due"]) == (item["code"], item["due"]) and marked["issuedBy"]
    again = await _ask(client, manager, MARK, variables)
    assert again["issuedAt"] == marked["issuedAt"], "an instance is issued once: asking again answers the first record"
    after = (await client.post("/graphql", json={"query": SCHEDULE}, headers={"Authorization": f"Bearer {manager}"})).json()["data"]
    issued = [i for i in after["organisation"]["reportingSchedule"]["recentlyIssued"] if (i["code"], i["due"]) == (item["code"], item["due"])]
    assert issued and issued[0]["issuedBy"] == marked["issuedBy"]
    nonsense = await _ask(client, manager, MARK, {**variables, "due": "2026-12-02" if item["due"] != "2026-12-02" else "2026-12-03"})
    assert nonsense["__typename"] == "MeetingRefused" and nonsense["reason"] == "invalid"
