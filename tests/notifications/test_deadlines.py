"""A data pack or report deadline within N days tells the people who issue them, once.

ULHT 5.1: the PRM pack goes to the division 7 days and to all invitees 2 days before the meeting;
its Integrated Performance Report is due monthly (the first weekday). Those who issue packs and
reports hold ``meeting manage`` at ULHT (the performance manager and executive, ulht.performance).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from server.db.session import AccessContext
from server.notifications.deadlines import notify_deadlines
from server.tenants.load import framework_of
from tests.notifications.helpers import notifications_of, user_id_of

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # Thursday; the December IPR is due Tuesday 1 December
ISSUER, DIVISION = "ulht.performance@accord.example", "ulht.division@accord.example"


async def _tick(database, services, org_id: int, *, now: dt.datetime, within_days: int) -> int:  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        framework = await framework_of(session, org_id)
        return await notify_deadlines(session, org_id, framework, issuer_roles=services.authorizer.roles_granting("meeting", "manage"),
                                      now=now, within_days=within_days)


async def _prm_meeting(database, org_id: int, day: dt.date) -> int:  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        return (await session.exec(text(
            "insert into meeting (org_id, forum_id, scheduled_for, status, cadence_reason, decisions, version)"
            " select :o, id, :d, 'scheduled', '{}', '[]', 1 from forum where org_id = :o and code = 'PRM' returning id"
        ), params={"o": org_id, "d": day})).scalar_one()


async def test_a_deadline_within_n_days_tells_the_issuers_once(database, services, org_ids):
    ulht = org_ids["RWD"]
    meeting_id = await _prm_meeting(database, ulht, dt.date(2026, 12, 1))  # invitees' pack due 29 Nov; the division's 24 Nov, past
    issuer, division = await user_id_of(database, ISSUER), await user_id_of(database, DIVISION)

    assert await _tick(database, services, ulht, now=NOW, within_days=2) == 0  # nothing within two days yet
    added = await _tick(database, services, ulht, now=NOW, within_days=7)

    packs = await notifications_of(database, issuer, f"pack:{meeting_id}:")
    assert [(kind, key) for kind, _, _, key, *_ in packs] == [("pack_deadline", f"pack:{meeting_id}:invitees")]
    assert packs[0][2] == f"/organisations/RWD/meetings/{meeting_id}" and "due in 3 days" in packs[0][1]
    [report] = await notifications_of(database, issuer, "report:RWD:IPR:2026-12-01")
    assert report[0] == "report_deadline" and report[1] == "Integrated Performance Report is due in 5 days"
    assert added >= 2
    assert await notifications_of(database, division, f"pack:{meeting_id}:") == []  # a triumvirate does not issue packs
    assert await _tick(database, services, ulht, now=NOW + dt.timedelta(hours=1), within_days=7) == 0  # told once


async def test_an_issued_report_is_not_chased(database, services, org_ids):
    ulht, now = org_ids["RWD"], dt.datetime(2026, 12, 29, 9, 0, tzinfo=dt.UTC)  # both monthly reports due Friday 1 January
    async with database.session(AccessContext.for_orgs([ulht], write=True)) as session:
        await session.exec(text(
            "insert into audit_event (org_id, action, object_type, object_id, at, after) values"
            " (:o, 'report.issued', 'report', 'PRM-SUMMARY:2027-01-01', now(), '{}')"), params={"o": ulht})
    await _tick(database, services, ulht, now=now, within_days=7)
    issuer = await user_id_of(database, ISSUER)
    assert await notifications_of(database, issuer, "report:RWD:PRM-SUMMARY:2027-01-01") == []
    assert len(await notifications_of(database, issuer, "report:RWD:IPR:2027-01-01")) == 1
