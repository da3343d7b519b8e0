"""The reporting schedule: due dates from each report's frequency, and 'done' once marked issued."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db.session import AccessContext
from server.meetings.minutes import Actor, Refused
from server.meetings.reports import IssueRecord, mark_report_issued, report_due_dates, reporting_schedule, schedule_of
from server.tenants.parse import parse_tenant_file

STW = parse_tenant_file(Path(__file__).resolve().parents[2] / "tenants" / "stw.yaml")
REPORTS = {report.code: report for report in STW.reporting_schedule}


def test_stw_reporting_table_is_read_from_the_tenant_file():
    # Seed 004 "Regular System Performance Reporting": IPR bi-monthly to the ICB Board, QPC monthly...
    assert (REPORTS["IPR"].frequency, REPORTS["IPR"].audience, REPORTS["IPR"].sro) == (
        "bi-monthly", "ICB Board", "Director of Planning and Performance")
    assert REPORTS["QPC"].frequency == "monthly" and REPORTS["TIER1"].frequency == "weekly"


@pytest.mark.parametrize(("frequency", "expected"), [
    ("bi-monthly", [dt.date(2027, 4, 1), dt.date(2027, 6, 1), dt.date(2027, 8, 2)]),   # 1 Aug 2027 is a Sunday
    ("monthly", [dt.date(2027, 4, 1), dt.date(2027, 5, 3), dt.date(2027, 6, 1), dt.date(2027, 7, 1), dt.date(2027, 8, 2)]),
    ("quarterly", [dt.date(2027, 4, 1), dt.date(2027, 7, 1)]),
    ("ad-hoc", []),
])
def test_month_based_reports_fall_due_on_the_first_weekday_of_due_months(frequency, expected):
    assert report_due_dates(frequency, dt.date(2027, 4, 1), dt.date(2027, 8, 31)) == expected


def test_weekly_reports_fall_due_every_monday():
    dates = report_due_dates("weekly", dt.date(2027, 4, 1), dt.date(2027, 4, 30))
    assert dates == [dt.date(2027, 4, 5), dt.date(2027, 4, 12), dt.date(2027, 4, 19), dt.date(2027, 4, 26)]


def test_a_report_is_overdue_until_marked_issued():
    today = dt.date(2027, 6, 10)
    issued = {"QPC:2027-05-03": IssueRecord(dt.datetime(2027, 5, 2, tzinfo=dt.UTC), "Head of Planning & Performance")}
    instances = schedule_of([REPORTS["QPC"]], start=dt.date(2027, 5, 1), end=dt.date(2027, 7, 31), today=today, issued=issued)
    assert [(i.due, i.status) for i in instances] == [
        (dt.date(2027, 5, 3), "issued"), (dt.date(2027, 6, 1), "overdue"), (dt.date(2027, 7, 1), "due")]
    assert instances[1].days_overdue == 9 and instances[2].days_until_due == 21


async def test_marking_a_report_issued_is_kept_in_the_audit_trail(database, org_ids):
    stw = org_ids["STW"]
    today = dt.date(2030, 6, 10)
    access = AccessContext.for_orgs([stw], write=True, user_id=None)
    actor = Actor(None, "Priya Shah", "system_planning_lead")
    async with database.session(access) as session:
        before = await reporting_schedule(session, stw, today=today)
        assert {i.report.code for i in before.overdue} >= {"IPR", "QPC", "TIER1"}
        assert all(i.due >= today and i.due <= today + dt.timedelta(days=60) for i in before.upcoming)
        record = await mark_report_issued(session, stw, code="QPC", due=dt.date(2030, 6, 3), actor=actor, today=today)
        assert isinstance(record, IssueRecord) and record.issued_by == "Priya Shah"
        refused = await mark_report_issued(session, stw, code="QPC", due=dt.date(2030, 6, 4), actor=actor, today=today)
        assert isinstance(refused, Refused)  # not a due date of that report
    async with database.session(access) as session:
        after = await reporting_schedule(session, stw, today=today)
        rows = (await session.exec(
            text("select count(*) from audit_event where org_id = :o and action = 'report.issued' and object_id = 'QPC:2030-06-03'"),
            params={"o": stw})).scalar_one()
    assert rows == 1
    assert "QPC:2030-06-03" not in {i.key for i in after.overdue}
    assert "QPC:2030-06-03" in {i.key for i in after.recently_issued}
