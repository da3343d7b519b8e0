"""Data packs: what they cover, frozen when issued, late against the ULHT 5.1 deadlines."""
from __future__ import annotations

import datetime as dt

import pytest

from sqlalchemy import text
from sqlmodel import select

from server.db.models import Forum, Meeting, Organisation
from server.db.session import AccessContext
from server.meetings.deadlines import pack_deadlines
from server.meetings.minutes import Actor, MeetingChanged, Refused
from server.meetings.pack import PackIssued, build_pack, issue_pack
from tests.meetings.helpers import create_meeting, rolled_back

ACTOR = Actor(None, "Mark Wilson", "performance_manager")


async def context(session, org_id: int, meeting: Meeting) -> tuple[Organisation, Forum]:
    organisation = await session.get(Organisation, org_id)
    forum = (await session.exec(select(Forum).where(Forum.id == meeting.forum_id))).one()
    return organisation, forum


async def test_a_divisional_prm_pack_holds_the_divisions_own_assessments_and_rating(database, org_ids):
    ulht = org_ids["RWD"]
    now = dt.datetime.now(dt.UTC)
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "PRM", dt.date(2031, 5, 6), subject_key="unit:RWD-CSS", subject_name="Clinical Support Services")
        organisation, forum = await context(session, ulht, meeting)
        pack = await build_pack(session, organisation, meeting, forum, now=now)
        unit_rows = (await session.exec(text(
            "select count(*) from assessment a join org_unit u on u.id = a.unit_id where u.code = 'RWD-CSS' and a.org_id = :o and a.is_latest"
        ), params={"o": ulht})).scalar_one()
        board = await create_meeting(session, ulht, "BOARD", dt.date(2031, 5, 6))
        board_pack = await build_pack(session, organisation, board, *[(await context(session, ulht, board))[1]], now=now)
        org_rows = (await session.exec(text("select count(*) from assessment where org_id = :o and unit_id is null and is_latest"),
                                       params={"o": ulht})).scalar_one()
    assert pack["scope"] == {"kind": "unit", "code": "RWD-CSS", "name": "Clinical Support Services"}
    assert len(pack["indicators"]) == unit_rows > 0
    assert [c["fact"] for c in pack["rating"]["criteria"]] == [
        "financial_plan_adhered", "key_quality_indicators_met", "key_performance_indicators_met", "policies_adhered"]
    assert pack["agenda"][0]["title"] == "Welcome, apologies and quorum"
    # ULHT 5.2 and 6: the division's earned autonomy is read at the PRM (demo divisions hold the standard scheme).
    autonomy = pack["rating"]["autonomy"]
    assert (autonomy["in_force"], autonomy["earned"], autonomy["powers"]) == ("Standard delegation", "Standard delegation", [])
    assert autonomy["last_review"] in (None, "2026-11-18")  # tests/autonomy may have recorded CSS's review first
    assert len(board_pack["indicators"]) == org_rows and board_pack["rating"] is None


async def test_an_issued_pack_is_frozen_when_the_data_changes(database, org_ids):
    ulht = org_ids["RWD"]
    now = dt.datetime.now(dt.UTC)
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "FPEC", dt.date(2031, 5, 6))
        organisation, forum = await context(session, ulht, meeting)
        issued = await issue_pack(session, organisation, meeting, forum, expected_version=1, actor=ACTOR, now=now)
        assert isinstance(issued, PackIssued)
        first = issued.pack["indicators"][0]
        # Every stored point of the series moves, and the SPC evidence behind the chart is gone.
        await session.exec(text(
            "update assessment set value = value + 1000, rag = 'red', evidence = '{}'::jsonb, spc_points = null from indicator i"
            " where i.id = assessment.indicator_id and i.code = :code and assessment.org_id = :o and assessment.unit_id is null"
        ), params={"code": first["code"], "o": ulht})
        stored = (await session.exec(select(Meeting).where(Meeting.id == meeting.id))).one()
        await session.refresh(stored)
        rebuilt = await build_pack(session, organisation, stored, forum, now=now)
        again = await issue_pack(session, organisation, stored, forum, expected_version=stored.version, actor=ACTOR, now=now)
    assert stored.pack["indicators"][0]["value"] == first["value"]  # as issued
    assert stored.pack["indicators"][0]["series"] == first["series"]  # the chart too
    assert stored.pack_issued_at == now
    assert rebuilt["indicators"][0]["value"] == first["value"] + 1000  # the data did change
    assert [p["value"] for p in rebuilt["indicators"][0]["series"]] == pytest.approx([p["value"] + 1000 for p in first["series"]])
    assert rebuilt["indicators"][0]["series"][-1]["mean"] is None  # no evidence left to draw limits from
    assert isinstance(again, Refused)  # never recomputed after issue


async def test_an_issued_pack_freezes_each_indicators_last_two_years_of_spc_points(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "PRM", dt.date(2031, 5, 6), subject_key="unit:RWD-MED", subject_name="Medicine")
        organisation, forum = await context(session, ulht, meeting)
        pack = await build_pack(session, organisation, meeting, forum, now=dt.datetime.now(dt.UTC))
        stored = (await session.exec(text(
            "select i.code, count(*) from assessment a join indicator i on i.id = a.indicator_id join org_unit u on u.id = a.unit_id"
            " where u.code = 'RWD-MED' and a.org_id = :o group by i.code"
        ), params={"o": ulht})).all()
    periods = dict(stored)
    assert pack["schema"] == 2 and pack["indicators"]
    for indicator in pack["indicators"]:
        series = indicator["series"]
        assert len(series) == min(24, periods[indicator["code"]])  # the unit's own series, at most two years
        assert series[-1]["period"] == indicator["period"] and series[-1]["value"] == indicator["value"]
        assert [p["period"] for p in series] == sorted(p["period"] for p in series)
        assert set(series[-1]) >= {"value", "mean", "lower_limit", "upper_limit", "point_type", "target"}
    assert any(p["mean"] is not None and p["point_type"] != "not_assessed" for i in pack["indicators"] for p in i["series"])


async def test_issuing_from_a_stale_page_is_refused(database, org_ids):
    ulht = org_ids["RWD"]
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "FPEC", dt.date(2031, 5, 6))
        organisation, forum = await context(session, ulht, meeting)
        result = await issue_pack(session, organisation, meeting, forum, expected_version=7, actor=ACTOR, now=dt.datetime.now(dt.UTC))
        stored = (await session.exec(text("select pack_issued_at from meeting where id = :m"), params={"m": meeting.id})).scalar_one()
    assert isinstance(result, MeetingChanged) and stored is None


async def test_a_pack_issued_five_days_before_a_prm_is_late_for_the_division_and_on_time_for_invitees(database, org_ids):
    ulht = org_ids["RWD"]
    now = dt.datetime(2031, 5, 1, 9, 0, tzinfo=dt.UTC)
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "PRM", dt.date(2031, 5, 6), subject_key="unit:RWD-MED", subject_name="Medicine")
        organisation, forum = await context(session, ulht, meeting)
        await issue_pack(session, organisation, meeting, forum, expected_version=1, actor=ACTOR, now=now)
        issued_at = (await session.exec(text("select pack_issued_at from meeting where id = :m"), params={"m": meeting.id})).scalar_one()
        declared, day = dict(forum.pack_deadlines_days), meeting.scheduled_for
    assert declared == {"division": 7, "invitees": 2}
    deadlines = {d.audience: d for d in pack_deadlines(declared, day, issued_at=issued_at, now=now)}
    assert (deadlines["division"].status, deadlines["division"].days_late) == ("late", 2)  # due 29 April
    assert (deadlines["invitees"].status, deadlines["invitees"].days_late) == ("met", 0)   # due 4 May
    assert deadlines["division"].sentence() == "Issued late to the division by 29 April 2031 (7 days before the meeting): 2 days after the deadline."


async def test_the_owners_commentary_is_frozen_in_the_issued_pack(database, org_ids):
    ulht = org_ids["RWD"]
    now = dt.datetime.now(dt.UTC)
    async with rolled_back(database, AccessContext.for_orgs([ulht], write=True)) as session:
        meeting = await create_meeting(session, ulht, "FPEC", dt.date(2031, 5, 6))
        organisation, forum = await context(session, ulht, meeting)
        first = (await build_pack(session, organisation, meeting, forum, now=now))["indicators"][0]
        add = text(
            "insert into commentary (org_id, indicator_id, period, body, author_name)"
            " select :o, i.id, :period, :body, 'Mark Wilson' from indicator i where i.org_id = :o and i.code = :code"
        )
        await session.exec(add, params={"o": ulht, "period": dt.date.fromisoformat(first["period"]), "body": "Recovery on plan", "code": first["code"]})
        issued = await issue_pack(session, organisation, meeting, forum, expected_version=1, actor=ACTOR, now=now)
        assert isinstance(issued, PackIssued)
        await session.exec(add, params={"o": ulht, "period": dt.date.fromisoformat(first["period"]), "body": "Rewritten later", "code": first["code"]})
        stored = (await session.exec(select(Meeting).where(Meeting.id == meeting.id))).one()
        await session.refresh(stored)
        rebuilt = await build_pack(session, organisation, stored, forum, now=now)
    frozen = stored.pack["indicators"][0]["commentary"]
    assert frozen["body"] == "Recovery on plan" and frozen["author"] == "Mark Wilson"  # as issued
    assert rebuilt["indicators"][0]["commentary"]["body"] == "Rewritten later"  # the current version moved on
    assert all("commentary" in indicator for indicator in stored.pack["indicators"])
