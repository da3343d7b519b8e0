"""Attendance, quorum, the 75% rule and decisions on stored meetings; the action log carried forward."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlmodel import select

from server.db.models import Meeting
from server.db.session import AccessContext
from server.meetings.actions import action_log, add_action, set_action_status
from server.meetings.attendance import AttendanceMark, attendance_record, quorum_status
from server.meetings.minutes import Actor, MeetingChanged, Refused, Saved, record_attendance, record_decision
from server.meetings.queries import attendance_of, held_meetings_attendance
from tests.meetings.helpers import create_meeting, rolled_back

ACTOR = Actor(None, "Fatima Begum", "performance_manager")
TODAY = dt.date(2029, 12, 31)
OPG_MEMBERS = ["Chief Executive Officer", "Senior Finance Representative", "Communications Representative", "Nurse Representative",
               "Senior Workforce Representative", "Service Area Clinical Lead", "Network Managers", "Head of Contracts",
               "Head of Information", "Head of Business Planning"]


def present(*members: str, deputies: dict[str, str] | None = None) -> list[AttendanceMark]:
    deputies = deputies or {}
    return [AttendanceMark(m, present=m in members, deputy=deputies.get(m)) for m in OPG_MEMBERS]


async def fresh(session, meeting_id: int) -> Meeting:
    meeting = (await session.exec(select(Meeting).where(Meeting.id == meeting_id))).one()
    await session.refresh(meeting)
    return meeting


async def test_attendance_is_saved_once_per_version_and_a_stale_form_is_refused(database, org_ids):
    thgpcg = org_ids["NL4"]
    async with rolled_back(database, AccessContext.for_orgs([thgpcg], write=True)) as session:
        meeting = await create_meeting(session, thgpcg, "OPG", dt.date(2029, 1, 2))
        saved = await record_attendance(session, meeting, expected_version=1, marks=present(*OPG_MEMBERS[:5], deputies={OPG_MEMBERS[5]: "Deputy lead"}),
                                        members=OPG_MEMBERS, actor=ACTOR, today=TODAY)
        stale = await record_attendance(session, meeting, expected_version=1, marks=present(), members=OPG_MEMBERS, actor=ACTOR, today=TODAY)
        marks = await attendance_of(session, meeting.id)
        stored = await fresh(session, meeting.id)
    assert saved == Saved(2)
    assert isinstance(stale, MeetingChanged) and "Someone else changed this meeting" in stale.message
    assert (stored.status, stored.version) == ("held", 2)
    # THGPCG appendix 1, 3: five members and one deputy make six — quorate.
    assert quorum_status(OPG_MEMBERS, marks, 6).quorate is True
    assert marks[OPG_MEMBERS[5]].deputy == "Deputy lead"


async def test_attendance_cannot_be_recorded_before_the_meeting(database, org_ids):
    thgpcg = org_ids["NL4"]
    async with rolled_back(database, AccessContext.for_orgs([thgpcg], write=True)) as session:
        meeting = await create_meeting(session, thgpcg, "OPG", dt.date(2030, 2, 5))
        result = await record_attendance(session, meeting, expected_version=1, marks=present(), members=OPG_MEMBERS, actor=ACTOR, today=TODAY)
    assert isinstance(result, Refused)


async def test_decisions_are_appended_with_who_and_when_and_a_stale_form_is_refused(database, org_ids):
    thgpcg = org_ids["NL4"]
    now = dt.datetime(2029, 1, 2, 11, 30, tzinfo=dt.UTC)
    async with rolled_back(database, AccessContext.for_orgs([thgpcg], write=True)) as session:
        meeting = await create_meeting(session, thgpcg, "OPG", dt.date(2029, 1, 2))
        first = await record_decision(session, meeting, expected_version=1, decision="Recovery plan for A&E accepted", actor=ACTOR, now=now)
        second = await record_decision(session, meeting, expected_version=2, decision="Deep dive on waits in March", actor=ACTOR, now=now)
        stale = await record_decision(session, meeting, expected_version=2, decision="Lost update", actor=ACTOR, now=now)
        empty = await record_decision(session, meeting, expected_version=3, decision="   ", actor=ACTOR, now=now)
        stored = await fresh(session, meeting.id)
    assert (first, second) == (Saved(2), Saved(3))
    assert isinstance(stale, MeetingChanged) and isinstance(empty, Refused)
    assert [d["text"] for d in stored.decisions] == ["Recovery plan for A&E accepted", "Deep dive on waits in March"]
    assert stored.decisions[0]["recorded_by"] == "Fatima Begum"
    assert stored.decisions[0]["recorded_at"] == now.isoformat()


async def test_seventy_five_percent_rule_over_the_forums_held_meetings(database, org_ids):
    thgpcg = org_ids["NL4"]
    async with rolled_back(database, AccessContext.for_orgs([thgpcg], write=True)) as session:
        await session.exec(text("update meeting set status = 'cancelled' where org_id = :o"), params={"o": thgpcg})
        ceo, finance, comms = OPG_MEMBERS[:3]
        sittings = [  # four monthly OPGs: the CEO at all, finance by deputy at two, comms at two of four
            present(ceo, finance, comms), present(ceo, comms, deputies={finance: "Finance deputy"}),
            present(ceo, deputies={finance: "Finance deputy"}), present(ceo, finance),
        ]
        meetings = []
        for month, marks in enumerate(sittings, start=1):
            meeting = await create_meeting(session, thgpcg, "OPG", dt.date(2029, month, 1))
            await record_attendance(session, meeting, expected_version=1, marks=marks, members=OPG_MEMBERS, actor=ACTOR, today=TODAY)
            meetings.append(meeting)
        unrelated = await create_meeting(session, thgpcg, "OPG", dt.date(2029, 5, 1))  # scheduled, not held: not counted
        held = await held_meetings_attendance(session, await fresh(session, unrelated.id))
    records = {r.member: r for r in attendance_record(OPG_MEMBERS, held, 0.75)}
    assert len(held) == 4
    assert (records[ceo].attended, records[ceo].below_threshold) == (4, False)
    assert (records[finance].attended, records[finance].below_threshold) == (4, False)  # deputies count
    assert (records[comms].attended, records[comms].below_threshold) == (2, True)        # 50% < 75%
    assert (records[OPG_MEMBERS[9]].attended, records[OPG_MEMBERS[9]].below_threshold) == (0, True)


async def test_open_actions_are_carried_forward_until_closed(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        january, february, march = [
            await create_meeting(session, ulht, "PRM", dt.date(2029, month, 6), subject_key="unit:RWD-MED", subject_name="Medicine")
            for month in (1, 2, 3)
        ]
        surgery = await create_meeting(session, ulht, "PRM", dt.date(2029, 2, 6), subject_key="unit:RWD-SURG", subject_name="Surgery")
        action = await add_action(session, january, description="Recovery trajectory for A&E 4 hours", owner="Divisional Managing Director",
                                  due_date=dt.date(2029, 2, 28), actor=ACTOR)
        quick = await add_action(session, january, description="Circulate the sickness audit", owner="Performance Manager",
                                 due_date=dt.date(2029, 1, 20), actor=ACTOR)
        await set_action_status(session, ulht, quick.id, status="closed", actor=ACTOR, now=dt.datetime(2029, 1, 21, tzinfo=dt.UTC))
        on_january = await action_log(session, january)
        on_february = await action_log(session, february)
        on_surgery = await action_log(session, surgery)
        closed = await set_action_status(session, ulht, action.id, status="closed", actor=ACTOR, now=dt.datetime(2029, 2, 20, tzinfo=dt.UTC))
        on_march = await action_log(session, march)
        on_february_afterwards = await action_log(session, february)
    assert [(e.action.id, e.carried_forward) for e in on_january] == [(quick.id, False), (action.id, False)]  # by due date
    # February: the open action is carried forward; the one closed in January is not.
    assert [(e.action.id, e.carried_forward, e.raised_on) for e in on_february] == [(action.id, True, dt.date(2029, 1, 6))]
    assert on_surgery == []  # another division's PRM has its own log
    assert closed.closed_at == dt.datetime(2029, 2, 20, tzinfo=dt.UTC)
    assert on_march == []  # closed before March: no longer carried forward
    # February's log still shows what was open that day, now marked closed.
    assert [(e.action.id, e.action.status) for e in on_february_afterwards] == [(action.id, "closed")]


async def test_reopening_an_action_clears_when_it_was_closed(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "FPEC", dt.date(2029, 1, 2))
        action = await add_action(session, meeting, description="Report agency spend", owner="Director of Finance", due_date=dt.date(2029, 2, 1), actor=ACTOR)
        await set_action_status(session, ulht, action.id, status="closed", actor=ACTOR, now=dt.datetime(2029, 1, 10, tzinfo=dt.UTC))
        reopened = await set_action_status(session, ulht, action.id, status="in_progress", actor=ACTOR, now=dt.datetime(2029, 1, 11, tzinfo=dt.UTC))
        refused = await add_action(session, meeting, description="", owner="Someone", due_date=dt.date(2029, 2, 1), actor=ACTOR)
    assert (reopened.status, reopened.closed_at) == ("in_progress", None)
    assert isinstance(refused, Refused)
