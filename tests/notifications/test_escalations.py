"""An escalation opening at or moving to a forum tells exactly the people who sit on that forum.

STW's System Quality & Performance Committee (SQPC) is sat on by holders of
``system_committee_member`` for the STW system (tenants/stw.yaml ``roles``). The events the ladder
run's transaction wrote are read back in it; the event is the dedupe key.
"""
from __future__ import annotations

from server.db.session import AccessContext
from server.notifications.escalations import notify_escalation_moves
from server.tenants.load import framework_of
from tests.notifications.helpers import create_person, notifications_of, open_escalation, system_id, user_id_of

QPC, DELIVERY = "stw.qpc@accord.example", "stw.delivery@accord.example"


async def _moved(database, org_id: int, **escalation) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """An escalation moved and its forum told in one transaction, as run_ladders does; (escalation, event, added)."""
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        escalation_id, event_id = await open_escalation(session, org_id, **escalation)
        return escalation_id, event_id, await notify_escalation_moves(session, org_id, await framework_of(session, org_id))


async def test_an_escalation_moving_to_a_forum_notifies_exactly_that_forums_people(database, org_ids):
    stw = org_ids["STW"]
    # Someone else holding the same role for another organisation: not a member of STW's SQPC.
    elsewhere, _ = await create_person(database, name="Committee member elsewhere", roles=[("system_committee_member", "org", org_ids["RXW"])])
    # A second committee member for the STW system: told as well.
    second, _ = await create_person(database, name="Second committee member", roles=[("system_committee_member", "system", await system_id(database, "STW"))])
    escalation_id, event_id, added = await _moved(database, stw, forum="SQPC", level=4)

    assert added == 2
    key = f"escalation-event:{event_id}"
    for person in (await user_id_of(database, QPC), second):
        [(kind, subject, link, dedupe_key, *_)] = await notifications_of(database, person, key)
        assert kind == "escalation" and "moved to level 4" in subject and link == f"/organisations/STW/escalations/{escalation_id}"
    assert await notifications_of(database, await user_id_of(database, DELIVERY), key) == []  # sits on PDG, not SQPC
    assert await notifications_of(database, elsewhere, key) == []


async def test_a_rerun_tells_nobody_twice(database, org_ids):
    stw = org_ids["STW"]
    async with database.session(AccessContext.for_orgs([stw], write=True)) as session:
        _, event_id = await open_escalation(session, stw, forum="PDG", level=1, event="opened")
        framework = await framework_of(session, stw)
        first = await notify_escalation_moves(session, stw, framework)
        again = await notify_escalation_moves(session, stw, framework)
    assert first >= 1 and again == 0
    [(kind, subject, *_)] = await notifications_of(database, await user_id_of(database, DELIVERY), f"escalation-event:{event_id}")
    assert "opened at level 1" in subject


async def test_an_escalation_moved_in_an_earlier_transaction_is_not_told_again(database, org_ids):
    stw = org_ids["STW"]
    _, event_id, _ = await _moved(database, stw, forum="PDG", level=2)
    async with database.session(AccessContext.for_orgs([stw], write=True)) as session:
        assert await notify_escalation_moves(session, stw, await framework_of(session, stw)) == 0  # nothing of this transaction's


async def test_the_ladder_run_told_each_open_escalations_forum_when_the_data_was_loaded(database, org_ids):
    """The hook in run_ladders: the seeded recompute opened STW escalations; their forums' people were told."""
    from sqlalchemy import text

    stw = org_ids["STW"]
    async with database.session(AccessContext.for_orgs([stw])) as session:
        open_at = dict((await session.exec(text(
            "select forum_code, count(*) from escalation where org_id = :o and status <> 'closed' and ladder_code <> 'NOTIFY' group by forum_code"
        ), params={"o": stw})).all())
    told = {email: await notifications_of(database, await user_id_of(database, email), "escalation-event:") for email in (QPC, DELIVERY)}
    assert open_at, "the demo data opens STW escalations"
    if open_at.get("PDG"):
        assert told[DELIVERY], "the delivery group member was told of escalations at PDG"
    if not open_at.get("SQPC"):
        assert all("NOTIFY" in subject for _, subject, *_ in told[QPC])


async def test_a_person_escalating_by_hand_tells_the_forum_it_reaches(database, services, org_ids):
    """SaTH's executive moves an escalation up by hand: the people of the level's forum are told, as for the ladder."""
    from sqlalchemy import text

    from server.escalation_store.manual import EscalationChanged, act
    from server.notifications.recipients import people_holding
    from tests.conftest import act_as

    sath = org_ids["RXW"]
    async with database.session(AccessContext.for_orgs([sath], write=True)) as session:
        framework = await framework_of(session, sath)
        # Forums whose roles someone in Accord holds (the Board's board_member seats have no SaTH holder in the demo).
        seated = {forum.code for forum in framework.forums if forum.roles and await people_holding(session, sath, forum.roles)}
        ladders = {ladder.code: ladder for ladder in framework.escalation.ladders}
        candidates = (await session.exec(text(
            "select id, ladder_code, level, version from escalation where org_id = :o and status <> 'closed' order by id"), params={"o": sath})).all()
    target = next(((row, level) for row in candidates if row[1] in ladders
                   for level in ladders[row[1]].levels if level.level > row[2] and level.forum in seated), None)
    assert target, "an open SaTH escalation below a level whose forum has people in Accord"
    (escalation_id, _, _, version), level = target
    principal, access = await act_as(database, services.authorizer, "sath.exec@accord.example")
    async with database.session(access) as session:
        outcome = await act(session, services.authorizer, principal, escalation_id=escalation_id, kind="escalated", seen_version=version,
                            to_level=level.level, reason="Recovery off track: the executive takes it up")
        assert isinstance(outcome, EscalationChanged), outcome
        forum = next(f for f in framework.forums if f.code == level.forum)
        seated_people = await people_holding(session, sath, forum.roles)
    for person in seated_people:
        told = [row for row in await notifications_of(database, person, "escalation-event:") if row[2].endswith(f"/escalations/{escalation_id}")]
        assert told and f"moved to level {level.level}" in told[-1][1]
    assert seated_people
