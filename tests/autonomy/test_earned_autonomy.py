"""Earned autonomy (ULHT PMF 5.2 and 6): each division rated on the autonomy ladder with the ladders,
kept in history only when a level changes; a level earned waits for the accountability review and is
withdrawn at once when no longer earned; the review is recorded by the roles the tenant file names,
agrees the levels of autonomy and escalation, is audited, and refuses what the division has not
earned. Through the service, the page (NHS.UK form without JavaScript) and GraphQL."""
from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.autonomy.framework import autonomy_framework
from server.autonomy.review import ReviewInput, ReviewRecorded, ReviewRefused, record_review
from server.autonomy.store import division_autonomy, refresh_autonomy
from server.db.session import AccessContext
from server.escalation.periods import ReportingPeriod
from server.escalation_store.facts import Subject
from server.escalation_store.run import run_ladders
from server.judgements.kinds import tenant_fact_registry
from server.tenants.load import framework_of
from tests.conftest import act_as, login
from tests.maturity.test_record import _graphql
from tests.web.test_plan_pages import fresh_client, post_form

PERFORMANCE, DIVISION, LEAD = "ulht.performance@accord.example", "ulht.division@accord.example", "stw.lead@accord.example"
DIVISIONS = ["RWD-MED", "RWD-SURG", "RWD-FH", "RWD-CSS"]
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


async def _scalar(session, sql, **params):  # type: ignore[no-untyped-def]
    return (await session.exec(text(sql), params=params)).scalar_one()


async def test_every_division_is_rated_with_the_ladders_and_a_rerun_on_the_same_data_adds_no_history(database, org_ids):
    rwd = org_ids["RWD"]
    async with database.session(await runner_access(database, rwd)) as session:
        rows = (await session.exec(text(
            "select u.code, a.earned_code, a.level_code, a.cause, a.explanation ->> 'text' from autonomy_level a"
            " join org_unit u on u.id = a.unit_id where a.org_id = :o order by a.id"), params={"o": rwd})).all()
        assert sorted({row[0] for row in rows}) == sorted(DIVISIONS)  # divisions only: not services or teams
        # Every level comes from the rating, but the one the demo's accountability review granted to Family
        # Health, whose teams sustained their targets (tenants/ulht.yaml demo block, server/demo/stories.py).
        assert [(row[0], row[1], row[2]) for row in rows if row[3] != "rating"] == [("RWD-FH", "full-autonomy", "full-autonomy")]
        assert all(row[4].startswith("ulht-earned-autonomy:") for row in rows if row[3] == "rating")  # the rule and its outcome are kept
        before = await _scalar(session, "select count(*) from autonomy_level where org_id = :o", o=rwd)
        await run_ladders(session, rwd, at=NOW)
        assert await _scalar(session, "select count(*) from autonomy_level where org_id = :o", o=rwd) == before
        await session.rollback()


def _division(division, **facts) -> Subject:  # type: ignore[no-untyped-def]
    return Subject(f"unit:{division.unit_code}", division.unit_name, "unit", facts, unit_id=division.unit_id,
                   period=ReportingPeriod(dt.date(2026, 10, 1), "monthly"))


SUSTAINED = dict(failed_criteria=0, months_sustained=12, periods_sustained=12, all_indicators_met=True, key_indicators_met=True)


async def test_sustained_performance_earns_autonomy_granted_at_review_and_withdrawn_when_no_longer_earned(database, services, org_ids):
    rwd = org_ids["RWD"]
    principal, access = await act_as(database, services.authorizer, PERFORMANCE)
    async with database.session(access) as session:
        framework = await framework_of(session, rwd)
        autonomy = autonomy_framework(framework)
        assert autonomy is not None and autonomy.spec.granted == "at_review"
        medicine = next(d for d in await division_autonomy(session, rwd, autonomy) if d.unit_code == "RWD-MED")
        known = tenant_fact_registry(framework)

        # Twelve months with every indicator met earns the full scheme; at_review: none of it is in force yet.
        await refresh_autonomy(session, rwd, autonomy, [_division(medicine, **SUSTAINED)], judged={}, known=known, at=NOW)
        medicine = (await division_autonomy(session, rwd, autonomy, unit_code="RWD-MED"))[0]
        assert (medicine.earned_level, medicine.level, medicine.awaiting_review) == (2, 0, True)
        assert [p.code for p in autonomy.powers_of(2)] == [
            "revenue_expenditure_authorisation", "own_capital_allocation", "enter_supplier_and_commissioner_contracts",
            "staffing_budget_post_redesign", "new_businesses_and_services", "pay_to_non_pay_flexibility"]

        # The review grants the operational flexibilities and resets the divisional escalation.
        open_before = (await session.exec(text(
            "select id, level from escalation where org_id = :o and subject_key = 'unit:RWD-MED' and status <> 'closed'"), params={"o": rwd})).one()
        given = ReviewInput(unit="RWD-MED", held_on=dt.date(2026, 11, 18), autonomy_level=1, escalation_level=0,
                            notes="Twelve months on plan: operational flexibilities agreed; escalation closed.")
        recorded = await record_review(session, services.authorizer, principal, org_id=rwd, given=given, now=NOW)
        assert isinstance(recorded, ReviewRecorded), recorded
        assert recorded.role == "executive"
        assert recorded.outcome == ("Autonomy: Earned autonomy — operational flexibilities (granted; was Standard delegation)."
                                    f" Escalation: Achieving — routine PRM cycle (reset; was {_level_name(framework, open_before[1])}).")
        medicine = (await division_autonomy(session, rwd, autonomy, unit_code="RWD-MED"))[0]
        assert (medicine.earned_level, medicine.level, medicine.escalation_level) == (2, 1, None)
        assert medicine.last_review is not None and medicine.last_review.held_on == dt.date(2026, 11, 18)
        assert autonomy.next_review_due(medicine.last_review.held_on) == dt.date(2027, 5, 18)
        closed = (await session.exec(text(
            "select e.status, v.event, v.reason, v.actor_role from escalation e join escalation_event v on v.escalation_id = e.id"
            " where e.id = :id order by v.id desc limit 1"), params={"id": open_before[0]})).one()
        assert closed == ("closed", "closed", "Six-monthly accountability review held 2026-11-18: " + given.notes, "executive")
        audit = (await session.exec(text(
            "select actor_role, before, after ->> 'autonomy_level' from audit_event where org_id = :o and action = 'accountability_review.recorded'"
            " and object_id = :id"), params={"o": rwd, "id": str(recorded.review_id)})).one()
        assert audit == ("executive", {"autonomy_level": 0, "earned_level": 2}, "1")
        caused = (await session.exec(text(
            "select cause, earned_level, level, review_id from autonomy_level where org_id = :o and unit_id = :u order by id desc limit 1"),
            params={"o": rwd, "u": medicine.unit_id})).one()
        assert caused == ("review", 2, 1, recorded.review_id)

        # A criterion failed: the autonomy is withdrawn at once, without waiting for a review.
        await refresh_autonomy(session, rwd, autonomy, [_division(medicine, **{**SUSTAINED, "failed_criteria": 1})], judged={}, known=known, at=NOW)
        medicine = (await division_autonomy(session, rwd, autonomy, unit_code="RWD-MED"))[0]
        assert (medicine.earned_level, medicine.level, medicine.awaiting_review) == (0, 0, False)
        await session.rollback()


def _level_name(framework, level: int) -> str:  # type: ignore[no-untyped-def]
    ladder = next(l for l in framework.escalation.ladders if l.code == "ulht-divisional")
    return next(lvl.name for lvl in ladder.levels if lvl.level == level)


async def test_refusals_name_the_field_and_record_nothing(database, services, org_ids):
    rwd = org_ids["RWD"]
    good = dict(unit="RWD-SURG", held_on=dt.date(2026, 11, 18), autonomy_level=0, escalation_level=None, notes="Reviewed")
    cases = [
        (DIVISION, {}, "not_allowed", None),  # the triumvirate is held to account; it does not record the review
        (PERFORMANCE, {"unit": "RWD-SURG-GS"}, "invalid", "unit"),  # a service, not a division
        (PERFORMANCE, {"unit": None}, "invalid", "unit"),
        (PERFORMANCE, {"held_on": dt.date(2026, 11, 21)}, "invalid", "held_on"),  # not yet held
        (PERFORMANCE, {"held_on": None}, "invalid", "held_on"),
        (PERFORMANCE, {"notes": "  "}, "invalid", "notes"),
        (PERFORMANCE, {"notes": "x" * 4001}, "invalid", "notes"),
        (PERFORMANCE, {"autonomy_level": 7}, "invalid", "autonomy_level"),
        (PERFORMANCE, {"autonomy_level": 1}, "not_earned", "autonomy_level"),  # Surgery earns the standard scheme only
        (PERFORMANCE, {"escalation_level": 9}, "invalid", "escalation_level"),
        (LEAD, {}, "not_found", "organisation"),  # the STW lead cannot read ULHT
    ]
    for email, change, reason, field in cases:
        principal, access = await act_as(database, services.authorizer, email)
        async with database.session(access) as session:
            outcome = await record_review(session, services.authorizer, principal, org_id=rwd, given=ReviewInput(**{**good, **change}), now=NOW)
            assert isinstance(outcome, ReviewRefused) and (outcome.reason, outcome.field) == (reason, field), (email, change, outcome)
            await session.rollback()
    async with database.session(AccessContext.for_orgs([rwd])) as session:
        assert await _scalar(session, "select count(*) from accountability_review where org_id = :o and notes = 'Reviewed'", o=rwd) == 0


async def test_the_page_shows_each_division_and_records_a_review_with_errors_beside_the_field(app, org_ids):
    async with await fresh_client(app) as client:
        await login(client, PERFORMANCE)
        ipr = await client.get("/organisations/RWD?unit=RWD-SURG")
        assert 'href="/organisations/RWD/autonomy"' in ipr.text and 'id="autonomy-heading"' in ipr.text
        assert "Standard delegation" in ipr.text and "Next due:" in ipr.text
        # Family Health sustained its targets and the demo's review granted the full scheme (server/demo/stories.py).
        assert "Earned autonomy — full scheme of delegation" in html.unescape((await client.get("/organisations/RWD?unit=RWD-FH")).text)
        page = await client.get("/organisations/RWD/autonomy")
        assert page.status_code == 200
        for name in ("Medicine", "Surgery", "Family Health", "Clinical Support Services"):
            assert name in page.text
        assert "Access to own capital allocation" in page.text  # the scheme of delegation, from the tenant file
        assert "Record an accountability review" in page.text
        blank = await post_form(client, "/organisations/RWD/autonomy/reviews", page.text, {
            "unit": "RWD-SURG", "held-day": "18", "held-month": "11", "held-year": "2026", "autonomy_level": "0", "notes": " "})
        assert blank.status_code == 400
        assert "There is a problem with the accountability review" in blank.text and 'href="#review-notes"' in blank.text
        assert "nhsuk-error-message" in blank.text and 'value="18"' in blank.text  # what was entered is kept
        too_much = await post_form(client, "/organisations/RWD/autonomy/reviews", page.text, {
            "unit": "RWD-SURG", "held-day": "18", "held-month": "11", "held-year": "2026", "autonomy_level": "2", "notes": "x"})
        assert too_much.status_code == 400 and 'href="#review-autonomy"' in too_much.text and "cannot agree more" in too_much.text
        done = await post_form(client, "/organisations/RWD/autonomy/reviews", page.text, {
            "unit": "RWD-SURG", "held-day": "18", "held-month": "11", "held-year": "2026", "autonomy_level": "0",
            "escalation_level": "", "notes": "Surgery: levels confirmed at the November review"})
        assert done.status_code == 303 and done.headers["location"] == "/organisations/RWD/autonomy"
        after = await client.get(done.headers["location"])
        assert "Accountability review recorded for Surgery." in after.text
        assert "Surgery: levels confirmed at the November review" in after.text
        assert "Autonomy: Standard delegation (confirmed). Escalation: left as it was." in after.text
        assert "18 May 2027" in after.text  # the next review, six months on
        trail = (await client.get("/organisations/RWD/audit")).text
        assert "Recorded an accountability review" in trail
    async with await fresh_client(app) as division:
        await login(division, DIVISION)
        page = await division.get("/organisations/RWD/autonomy")
        assert page.status_code == 200 and "Record an accountability review" not in page.text
        refused = await post_form(division, "/organisations/RWD/autonomy/reviews", page.text, {
            "unit": "RWD-FH", "held-day": "18", "held-month": "11", "held-year": "2026", "autonomy_level": "0", "notes": "x"})
        assert refused.status_code == 403
    async with await fresh_client(app) as lead:
        await login(lead, LEAD)
        assert (await lead.get("/organisations/RWD/autonomy")).status_code == 404


QUERY = """query($org: String!, $unit: String, $history: Boolean!) { earnedAutonomy(organisationCode: $org, unitCode: $unit, history: $history) {
  unitCode unitName awaitingReview earned { code } inForce { code name powers { code name } } escalationLevel nextReviewDue
  lastReview { heldOn outcome notes recordedBy } history { cause earnedLevel level period } reviews { heldOn } } }"""
RECORD = """mutation($org: String!, $unit: String!, $held: Date!, $level: Int!, $notes: String!, $escalation: Int) {
  recordAccountabilityReview(organisationCode: $org, unitCode: $unit, heldOn: $held, autonomyLevel: $level, notes: $notes,
                             escalationLevel: $escalation) {
    __typename
    ... on AccountabilityReviewRecorded { outcome division { unitCode lastReview { notes recordedBy } } }
    ... on AccountabilityReviewRefused { reason argument message } } }"""


async def test_tools_read_each_division_and_record_a_review_through_graphql(database, services):
    divisions = (await _graphql(database, services, DIVISION, QUERY, {"org": "RWD", "unit": None, "history": False}))["earnedAutonomy"]
    assert [d["unitCode"] for d in divisions] == DIVISIONS
    in_force = {d["unitCode"]: (d["inForce"]["code"], len(d["inForce"]["powers"])) for d in divisions}
    # Family Health's sustained performance earned the full scheme, granted at the demo's review; the others the standard one.
    assert in_force == {"RWD-MED": ("standard", 0), "RWD-SURG": ("standard", 0), "RWD-FH": ("full-autonomy", 6), "RWD-CSS": ("standard", 0)}
    assert all(d["history"] == [] for d in divisions)
    refused = (await _graphql(database, services, PERFORMANCE, RECORD, {
        "org": "RWD", "unit": "RWD-CSS", "held": "2026-11-18", "level": 2, "notes": "x"}))["recordAccountabilityReview"]
    assert (refused["__typename"], refused["reason"], refused["argument"]) == ("AccountabilityReviewRefused", "NOT_EARNED", "autonomyLevel")
    not_allowed = (await _graphql(database, services, DIVISION, RECORD, {
        "org": "RWD", "unit": "RWD-CSS", "held": "2026-11-18", "level": 0, "notes": "x"}))["recordAccountabilityReview"]
    assert not_allowed["reason"] == "NOT_ALLOWED"
    foreign = (await _graphql(database, services, LEAD, RECORD, {
        "org": "RWD", "unit": "RWD-CSS", "held": "2026-11-18", "level": 0, "notes": "x"}))["recordAccountabilityReview"]
    assert (foreign["reason"], foreign["argument"]) == ("NOT_FOUND", "organisationCode")
    done = (await _graphql(database, services, PERFORMANCE, RECORD, {
        "org": "RWD", "unit": "RWD-CSS", "held": "2026-11-18", "level": 0, "notes": "CSS reviewed by the Executive Team"}))
    recorded = done["recordAccountabilityReview"]
    assert recorded["__typename"] == "AccountabilityReviewRecorded"
    assert recorded["division"] == {"unitCode": "RWD-CSS", "lastReview": {"notes": "CSS reviewed by the Executive Team", "recordedBy": "Mark Wilson"}}
    css = (await _graphql(database, services, DIVISION, QUERY, {"org": "RWD", "unit": "RWD-CSS", "history": True}))["earnedAutonomy"]
    assert len(css) == 1 and css[0]["nextReviewDue"] == "2027-05-18"
    assert css[0]["history"] and css[0]["history"][-1]["cause"] == "RATING" and css[0]["history"][-1]["period"] is not None
    assert {"heldOn": "2026-11-18"} in css[0]["reviews"]
    assert (await _graphql(database, services, LEAD, QUERY, {"org": "RWD", "unit": None, "history": True}))["earnedAutonomy"] == []
