"""The meetings and reporting pages through HTTP: who may see, who may act, stale forms, the PDF."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import text

from server.db.session import AccessContext
from tests.conftest import csrf_from, login
from tests.meetings.helpers import create_meeting
from server.tenants.load import framework_of

PERFORMANCE = "ulht.performance@accord.example"  # performance manager and executive: meeting manage
DIVISION = "ulht.division@accord.example"  # divisional triumvirate: reads, cannot manage meetings
SATH = "sath.exec@accord.example"  # another trust altogether


async def ulht_meeting(database, org_ids, forum: str, day: dt.date, **subject) -> int:
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]], write=True)) as session:
        meeting = await create_meeting(session, org_ids["RWD"], forum, day, **subject)
        return meeting.id


def no_inline_style_or_script(html: str) -> bool:
    """CSP forbids inline script and style attributes: the page must not need them."""
    return " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


async def test_a_manager_sees_forums_and_schedules_the_next_three_months(client, database, org_ids):
    await login(client, PERFORMANCE)
    page = await client.get("/organisations/RWD/meetings")
    assert page.status_code == 200
    assert "Divisional Performance Review Meeting" in page.text and "Finance, Performance and Estates Committee" in page.text
    assert "Schedule the next 3 months" in page.text
    assert no_inline_style_or_script(page.text)
    response = await client.post("/organisations/RWD/meetings/schedule", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and "created=" in response.headers["location"]
    after = await client.get(response.headers["location"])
    assert "Meetings scheduled" in after.text
    assert re.search(r'href="/organisations/RWD/meetings/\d+">Divisional Performance Review Meeting – Medicine<', after.text)
    again = await client.post("/organisations/RWD/meetings/schedule", data={"csrf_token": csrf_from(page.text)})
    assert "created=0" in again.headers["location"]  # idempotent
    shown = await client.get(again.headers["location"])
    assert ": 0 created," in shown.text
    spoofed = await client.get("/organisations/RWD/meetings?created=<b>x</b>&needed=1&reinstated=0&superseded=0")
    assert "<b>x</b>" not in spoofed.text and "Meetings scheduled" not in spoofed.text


async def test_a_reader_without_meeting_manage_gets_no_buttons_and_a_refused_write(client, database, org_ids):
    meeting_id = await ulht_meeting(database, org_ids, "FPEC", dt.date(2026, 9, 1))
    await login(client, DIVISION)
    page = await client.get("/organisations/RWD/meetings")
    assert page.status_code == 200 and "Schedule the next 3 months" not in page.text
    meeting = await client.get(f"/organisations/RWD/meetings/{meeting_id}")
    assert meeting.status_code == 200
    assert "Issue the data pack" not in meeting.text and "Record decision" not in meeting.text
    token = csrf_from(meeting.text)
    for path, data in [("/organisations/RWD/meetings/schedule", {}),
                       (f"/organisations/RWD/meetings/{meeting_id}/decisions", {"version": "1", "decision": "Not allowed"}),
                       (f"/organisations/RWD/meetings/{meeting_id}/pack", {"version": "1"}),
                       (f"/organisations/RWD/meetings/{meeting_id}/actions", {"description": "x", "owner": "y", "due-day": "1", "due-month": "1", "due-year": "2027"}),
                       ("/organisations/RWD/reports/issued", {"report": "IPR", "due": "2026-12-01"})]:
        response = await client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        decisions = (await session.exec(text("select decisions from meeting where id = :m"), params={"m": meeting_id})).scalar_one()
    assert decisions == []


async def test_another_organisations_meetings_are_not_found(client, database, org_ids):
    meeting_id = await ulht_meeting(database, org_ids, "FPEC", dt.date(2026, 9, 8))
    await login(client, SATH)
    own = await client.get("/organisations/RXW/meetings")
    assert own.status_code == 200
    token = csrf_from(own.text)
    for path in ("/organisations/RWD/meetings", f"/organisations/RWD/meetings/{meeting_id}", f"/organisations/RWD/meetings/{meeting_id}/pack.pdf",
                 f"/organisations/RWD/meetings/{meeting_id}/pack.csv", "/organisations/RWD/reports", f"/organisations/RXW/meetings/{meeting_id}",
                 f"/organisations/RXW/meetings/{meeting_id}/pack.pdf", f"/organisations/RXW/meetings/{meeting_id}/pack.csv"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "United Lincolnshire" not in response.text and "Finance, Performance and Estates" not in response.text
    for path in ("/organisations/RWD/meetings/schedule", f"/organisations/RWD/meetings/{meeting_id}/decisions",
                 f"/organisations/RXW/meetings/{meeting_id}/decisions"):
        response = await client.post(path, data={"csrf_token": token, "version": "1", "decision": "Cross-tenant"})
        assert response.status_code == 404, path


async def test_a_stale_form_is_refused_with_a_clear_message(client, database, org_ids):
    meeting_id = await ulht_meeting(database, org_ids, "FPEC", dt.date(2026, 9, 15))
    await login(client, PERFORMANCE)
    page = await client.get(f"/organisations/RWD/meetings/{meeting_id}")
    token = csrf_from(page.text)
    first = await client.post(f"/organisations/RWD/meetings/{meeting_id}/decisions",
                              data={"csrf_token": token, "version": "1", "decision": "Agency spend recovery plan accepted"})
    assert first.status_code == 303
    stale = await client.post(f"/organisations/RWD/meetings/{meeting_id}/decisions",
                              data={"csrf_token": token, "version": "1", "decision": "A second decision from an old page"})
    assert stale.status_code == 409
    assert "Someone else changed this meeting after you opened the page" in stale.text
    assert "Agency spend recovery plan accepted" in stale.text  # the latest version is shown
    assert "A second decision from an old page" in stale.text  # what they typed is kept in the form
    shown = await client.get(f"/organisations/RWD/meetings/{meeting_id}")
    assert shown.text.count("A second decision from an old page") == 0
    assert "Recorded by Mark Wilson" in shown.text


async def test_attendance_quorum_actions_and_a_frozen_pack_through_the_page(client, database, org_ids):
    meeting_id = await ulht_meeting(database, org_ids, "FPEC", dt.date(2026, 9, 22))
    await login(client, PERFORMANCE)
    page = await client.get(f"/organisations/RWD/meetings/{meeting_id}")
    token = csrf_from(page.text)
    # FPEC: three members, quorum 3 (ulht.yaml). Two present and one deputy is quorate.
    attendance = await client.post(f"/organisations/RWD/meetings/{meeting_id}/attendance", data={
        "csrf_token": token, "version": "1", "attendance-0": "present", "attendance-1": "deputy", "deputy-1": "Head of Performance",
        "attendance-2": "present"})
    assert attendance.status_code == 303
    shown = await client.get(attendance.headers["location"])
    assert "Quorate: 3 of 3 members present in person or by deputy; at least 3 are needed." in shown.text
    assert "Held" in shown.text
    missing_deputy = await client.post(f"/organisations/RWD/meetings/{meeting_id}/attendance", data={
        "csrf_token": token, "version": "2", "attendance-0": "deputy"})
    assert missing_deputy.status_code == 400 and "Enter the name of the deputy" in missing_deputy.text
    # The names the page's date input posts are the names the handler reads (a form without JavaScript).
    assert all(f'name="due-{part}"' in shown.text for part in ("day", "month", "year"))
    action = await client.post(f"/organisations/RWD/meetings/{meeting_id}/actions", data={
        "csrf_token": token, "description": "Agency controls paper to the Board", "owner": "Director of Finance",
        "due-day": "30", "due-month": "10", "due-year": "2026"})
    assert action.status_code == 303
    bad_date = await client.post(f"/organisations/RWD/meetings/{meeting_id}/actions", data={
        "csrf_token": token, "description": "x", "owner": "y", "due-day": "31", "due-month": "2", "due-year": "2026"})
    assert bad_date.status_code == 400 and "real date" in bad_date.text
    issued = await client.post(f"/organisations/RWD/meetings/{meeting_id}/pack", data={"csrf_token": token, "version": "2"})
    assert issued.status_code == 303
    frozen = await client.get(issued.headers["location"])
    assert "The pack is frozen" in frozen.text and "Issue the data pack" not in frozen.text
    assert "Agency controls paper to the Board" in frozen.text
    assert no_inline_style_or_script(frozen.text)
    later = await ulht_meeting(database, org_ids, "FPEC", dt.date(2026, 10, 6))
    carried = await client.get(f"/organisations/RWD/meetings/{later}")
    assert "Carried forward from the meeting on 22 September 2026" in carried.text


async def test_the_data_pack_prints_as_a_pdf(client, database, org_ids):
    # A Wednesday, so it never collides with a scheduled (Tuesday) sitting.
    meeting_id = await ulht_meeting(database, org_ids, "PRM", dt.date(2026, 12, 2), subject_key="unit:RWD-MED", subject_name="Medicine")
    await login(client, DIVISION)  # reading the pack needs no more than reading the organisation
    page = await client.get(f"/organisations/RWD/meetings/{meeting_id}")
    assert "Divisional rating" in page.text
    assert "to the division by 25 November 2026 (7 days before the meeting)" in page.text
    assert "to all invitees by 30 November 2026 (2 days before the meeting)" in page.text
    pdf = await client.get(f"/organisations/RWD/meetings/{meeting_id}/pack.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


async def test_system_roles_manage_the_systems_own_meetings(client):
    await login(client, "stw.lead@accord.example")  # system planning lead in system:STW
    page = await client.get("/organisations/STW/meetings")
    assert page.status_code == 200 and "System Quality &amp; Performance Committee" in page.text
    scheduled = await client.post("/organisations/STW/meetings/schedule", data={"csrf_token": csrf_from(page.text)})
    assert scheduled.status_code == 303
    client.cookies.clear()
    await login(client, "stw.delivery@accord.example")  # reads the system, has no meeting manage
    page = await client.get("/organisations/STW/meetings")
    assert page.status_code == 200 and "Schedule the next 3 months" not in page.text
    refused = await client.post("/organisations/STW/meetings/schedule", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 403


async def test_the_reporting_schedule_shows_what_is_due_and_records_issue(client):
    await login(client, "stw.lead@accord.example")
    page = await client.get("/organisations/STW/reports")
    assert page.status_code == 200
    assert "Integrated Performance Report" in page.text and "ICB Board" in page.text and "Director of Planning and Performance" in page.text
    assert "Returns" in page.text and "Next due" in page.text and "Outstanding" in page.text
    assert no_inline_style_or_script(page.text)
    due = re.search(r'name="report" value="QPC">\s*<input type="hidden" name="due" value="([0-9-]+)"', page.text).group(1)
    marked = await client.post("/organisations/STW/reports/issued", data={"csrf_token": csrf_from(page.text), "report": "QPC", "due": due})
    assert marked.status_code == 303
    after = await client.get(marked.headers["location"])
    assert "Report marked as issued." in after.text and "by Priya Shah" in after.text
    nonsense = await client.post("/organisations/STW/reports/issued", data={"csrf_token": csrf_from(page.text), "report": "QPC", "due": "2026-12-02"})
    assert nonsense.status_code == 400


async def test_the_meetings_index_lists_readable_organisations(client):
    await login(client, SATH)
    page = await client.get("/meetings")
    assert page.status_code == 200
    assert "/organisations/RXW/meetings" in page.text and "/organisations/RWD/meetings" not in page.text


async def test_a_weekly_return_is_one_row_with_its_next_due_date_and_a_batch_is_marked_at_once(client, database, org_ids):
    await login(client, "stw.lead@accord.example")
    page = (await client.get("/organisations/STW/reports")).text
    async with database.session(AccessContext.for_orgs([org_ids["STW"]])) as session:
        framework = await framework_of(session, org_ids["STW"])
    weekly = next(r for r in framework.reporting_schedule if r.frequency == "weekly")
    rows = re.findall(r'<th scope="row" class="nhsuk-table__header">([^<]+)<span class="accord-cell-note">Weekly', page)
    assert rows.count(weekly.name) == 1  # one row, not one per week
    row = page.split(f">{weekly.name}<span")[1].split("</tr>")[0]
    outstanding = re.findall(rf'name="due" type="checkbox" value="([0-9-]+)" checked', row)
    assert f"{len(outstanding)} outstanding" in row and len(outstanding) >= 2  # 90 days of Mondays, none marked yet
    chosen = outstanding[:2]
    marked = await client.post("/organisations/STW/reports/issued", data={"csrf_token": csrf_from(page), "report": weekly.code, "due": chosen})
    assert marked.status_code == 303
    after = (await client.get(marked.headers["location"])).text
    assert "2 reports marked as issued." in after
    row_after = after.split(f">{weekly.name}<span")[1].split("</tr>")[0]
    assert f"{len(outstanding) - 2} outstanding" in row_after or len(outstanding) == 2
    async with database.session(AccessContext.for_orgs([org_ids["STW"]])) as session:
        events = (await session.exec(text(
            "select object_id from audit_event where org_id = :o and action = 'report.issued' and object_id = any(:keys)"),
            params={"o": org_ids["STW"], "keys": [f"{weekly.code}:{due}" for due in chosen]})).all()
    assert len(events) == 2  # each date in the audit trail, as marking it alone would be


async def test_a_batch_with_one_wrong_date_marks_nothing_and_a_viewer_may_not_mark(client, database, org_ids):
    await login(client, "stw.lead@accord.example")
    page = (await client.get("/organisations/STW/reports")).text
    async with database.session(AccessContext.for_orgs([org_ids["STW"]])) as session:
        weekly = next(r for r in (await framework_of(session, org_ids["STW"])).reporting_schedule if r.frequency == "weekly")
    row = page.split(f">{weekly.name}<span")[1].split("</tr>")[0]
    good = re.findall(r'name="due" type="checkbox" value="([0-9-]+)" checked', row)[-1]
    refused = await client.post("/organisations/STW/reports/issued", data={
        "csrf_token": csrf_from(page), "report": weekly.code, "due": [good, "2026-12-02"]})
    assert refused.status_code == 400 and "There is no such report due on that day." in refused.text
    async with database.session(AccessContext.for_orgs([org_ids["STW"]])) as session:
        kept = (await session.exec(text("select count(*) from audit_event where org_id = :o and action = 'report.issued' and object_id = :k"),
                                   params={"o": org_ids["STW"], "k": f"{weekly.code}:{good}"})).scalar_one()
    assert kept == 0
    client.cookies.clear()
    await login(client, "stw.delivery@accord.example")  # reads the system, may not mark its reports
    page = await client.get("/organisations/STW/reports")
    assert page.status_code == 200 and 'action="/organisations/STW/reports/issued"' not in page.text
    assert (await client.post("/organisations/STW/reports/issued", data={
        "csrf_token": csrf_from(page.text), "report": weekly.code, "due": good})).status_code == 403
