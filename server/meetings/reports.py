"""The reporting schedule: which report is due when, to whom, with which SRO, and whether it went.

Each tenant lists its regular reports (STW "Regular System Performance Reporting" table, seed 004;
WHSSC 7; ULHT's IPR) with a frequency, audience and SRO, but no day. The convention here:

* monthly and longer cycles are due on the **first weekday of the month**, in months counted from
  April (the NHS financial year): bi-monthly April, June, ...; quarterly April, July, ...;
* weekly reports are due every **Monday**, fortnightly every other Monday, counted from the anchor
  ``REPORTING_ANCHOR`` (Monday 1 April 2024, the start of financial year 2024/25);
* ``ad-hoc`` reports have no due dates.

A report is done when someone marks it issued. That is recorded as an ``audit_event`` row with
action ``report.issued`` and object ``<report code>:<due date>`` for the organisation — the audit
trail is append-only, which suits a record of something sent — rather than in a table of its own.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.meetings.calendar import DAYS_BETWEEN, FINANCIAL_YEAR_START_MONTH, MONTHS_BETWEEN, UNSCHEDULED
from server.meetings.minutes import Actor, Refused
from server.tenants.load import framework_of
from server.tenants.spec import ReportSpec

REPORTING_ANCHOR = dt.date(2024, 4, 1)  # a Monday: weekly and fortnightly reports count from here
ISSUED_ACTION = "report.issued"
AHEAD_DAYS = 60  # "what is due in the next 60 days"
OVERDUE_LOOKBACK_DAYS = 90  # older unissued reports are history, not a to-do list


@dataclass(frozen=True)
class IssueRecord:
    issued_at: dt.datetime
    issued_by: str | None


@dataclass(frozen=True)
class ReportDue:
    report: ReportSpec
    due: dt.date
    issued: IssueRecord | None
    today: dt.date

    @property
    def status(self) -> str:
        if self.issued is not None:
            return "issued"
        return "overdue" if self.due < self.today else "due"

    @property
    def days_overdue(self) -> int:
        return max(0, (self.today - self.due).days) if self.issued is None else 0

    @property
    def days_until_due(self) -> int:
        return (self.due - self.today).days

    @property
    def key(self) -> str:
        return report_key(self.report.code, self.due)


def report_key(code: str, due: dt.date) -> str:
    return f"{code}:{due.isoformat()}"


def report_due_dates(frequency: str, start: dt.date, end: dt.date, *, anchor: dt.date = REPORTING_ANCHOR) -> list[dt.date]:
    """Due dates of a report at this frequency from start to end inclusive."""
    if frequency in UNSCHEDULED or end < start:
        return []
    if frequency in DAYS_BETWEEN:
        interval = DAYS_BETWEEN[frequency]
        offset = (start - anchor).days % interval
        day = start if offset == 0 else start + dt.timedelta(days=interval - offset)
        dates = []
        while day <= end:
            dates.append(day)
            day += dt.timedelta(days=interval)
        return dates
    step = MONTHS_BETWEEN[frequency]
    dates = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        if (month - FINANCIAL_YEAR_START_MONTH) % step == 0:
            day = _first_weekday_of_month(year, month)
            if start <= day <= end:
                dates.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def schedule_of(
    reports: Sequence[ReportSpec], *, start: dt.date, end: dt.date, today: dt.date, issued: Mapping[str, IssueRecord],
) -> list[ReportDue]:
    """Every report instance due in the window, oldest first, with whether it has been issued."""
    instances = [
        ReportDue(report, due, issued.get(report_key(report.code, due)), today)
        for report in reports for due in report_due_dates(report.frequency, start, end)
    ]
    return sorted(instances, key=lambda instance: (instance.due, instance.report.name, instance.report.code))


@dataclass(frozen=True)
class RecurringReturn:
    """One report of the schedule as people work from it: its next due date, what is outstanding
    (due in the look-back window and not issued, oldest first) and when it last went."""

    report: ReportSpec
    next_due: ReportDue | None  # the first instance due today or later that has not gone
    outstanding: tuple[ReportDue, ...]
    last_issued: ReportDue | None

    @property
    def oldest_outstanding(self) -> ReportDue | None:
        return self.outstanding[0] if self.outstanding else None


@dataclass(frozen=True)
class ReportingSchedule:
    today: dt.date
    reports: tuple[ReportSpec, ...]
    overdue: tuple[ReportDue, ...]
    upcoming: tuple[ReportDue, ...]  # due today or in the next AHEAD_DAYS days, issued or not
    recently_issued: tuple[ReportDue, ...]  # in the look-back window, issued

    @property
    def returns(self) -> tuple[RecurringReturn, ...]:
        """One row per report, not per instance: a weekly return is one row with its next due date and its count outstanding."""
        grouped = []
        for report in self.reports:
            mine = [i for i in (*self.overdue, *self.upcoming, *self.recently_issued) if i.report.code == report.code]
            issued = sorted((i for i in mine if i.issued is not None), key=lambda i: i.due)
            grouped.append(RecurringReturn(
                report, next((i for i in sorted(self.upcoming, key=lambda i: i.due) if i.report.code == report.code and i.issued is None), None),
                tuple(sorted((i for i in self.overdue if i.report.code == report.code), key=lambda i: i.due)), issued[-1] if issued else None,
            ))
        # Most outstanding first, then the soonest due: the rows that need someone come to the top.
        return tuple(sorted(grouped, key=lambda r: (-len(r.outstanding), r.next_due.due if r.next_due else dt.date.max, r.report.name)))


async def reporting_schedule(session: AsyncSession, org_id: int, *, today: dt.date) -> ReportingSchedule:
    framework = await framework_of(session, org_id)
    reports = tuple(framework.reporting_schedule) if framework else ()
    issued = await issued_reports(session, org_id)
    start = today - dt.timedelta(days=OVERDUE_LOOKBACK_DAYS)
    instances = schedule_of(reports, start=start, end=today + dt.timedelta(days=AHEAD_DAYS), today=today, issued=issued)
    return ReportingSchedule(
        today=today, reports=reports,
        overdue=tuple(i for i in instances if i.status == "overdue"),
        upcoming=tuple(i for i in instances if i.due >= today),
        recently_issued=tuple(i for i in instances if i.due < today and i.status == "issued"),
    )


async def issued_reports(session: AsyncSession, org_id: int) -> dict[str, IssueRecord]:
    rows = (await session.exec(text(
        "select object_id, at, after ->> 'issued_by' from audit_event where org_id = :org and action = :action order by at"
    ), params={"org": org_id, "action": ISSUED_ACTION})).all()
    return {key: IssueRecord(at, by) for key, at, by in rows}


async def mark_report_issued(
    session: AsyncSession, org_id: int, *, code: str, due: dt.date, actor: Actor, today: dt.date,
) -> IssueRecord | Refused:
    """Record that a report instance went to its audience (append-only, once per instance)."""
    framework = await framework_of(session, org_id)
    report = next((r for r in (framework.reporting_schedule if framework else []) if r.code == code), None)
    if (refusal := _refusal(report, due, today)) is not None:
        return refusal
    assert report is not None
    already = (await issued_reports(session, org_id)).get(report_key(code, due))
    if already is not None:
        return already
    now = dt.datetime.now(dt.UTC)
    await record_event(
        session, action=ISSUED_ACTION, object_type="report", object_id=report_key(code, due), org_id=org_id,
        actor_user_id=actor.user_id, actor_role=actor.role,
        after={"report": code, "name": report.name, "due": due.isoformat(), "audience": report.audience, "issued_by": actor.name},
    )
    return IssueRecord(now, actor.name)


async def mark_reports_issued(
    session: AsyncSession, org_id: int, *, code: str, dues: Sequence[dt.date], actor: Actor, today: dt.date,
) -> list[IssueRecord] | Refused:
    """Mark several instances of one report issued at once (a batch of a weekly return): all or none,
    each recorded in the audit trail as marking it alone would be."""
    if not dues:
        return Refused("Choose at least one due date to mark as issued.")
    framework = await framework_of(session, org_id)
    report = next((r for r in (framework.reporting_schedule if framework else []) if r.code == code), None)
    # Every date is checked before any is recorded: a batch with one wrong date records nothing.
    for due in dues:
        if (refusal := _refusal(report, due, today)) is not None:
            return refusal
    records = []
    for due in sorted(set(dues)):
        result = await mark_report_issued(session, org_id, code=code, due=due, actor=actor, today=today)
        assert not isinstance(result, Refused)
        records.append(result)
    return records


def _refusal(report: ReportSpec | None, due: dt.date, today: dt.date) -> Refused | None:
    if report is None or due not in report_due_dates(report.frequency, due, due):
        return Refused("There is no such report due on that day.")
    if due > today + dt.timedelta(days=AHEAD_DAYS):
        return Refused("A report can be marked issued only when it is due within the next 60 days.")
    return None


def _first_weekday_of_month(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
