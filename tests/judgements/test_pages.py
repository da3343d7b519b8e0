"""Recording a judgement from the escalation page, from a meeting page (minuted as a decision), and
through GraphQL: the same service, NHS.UK forms that work without JavaScript, errors beside the field."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import text

from schema.app import schema
from schema.context import AccordContext
from server.db.models import Meeting
from server.db.session import AccessContext
from tests.conftest import act_as, login
from tests.judgements.helpers import DELIVERY, QPC, ULHT, close_by_hand, escalation, rows, withdraw_all
from tests.web.test_plan_pages import fresh_client, post_form



async def _ulht_division_escalation(database, org_id) -> tuple[int, str]:
    found = await rows(database, org_id, "select id, subject_key from escalation where org_id = :o and subject_type = 'unit'"
                       " and status <> 'closed' and level < 5 and not manual_override order by id limit 1")
    assert found, "the demo data escalates a ULHT division"
    return found[0][0], found[0][1]


async def test_the_executive_team_places_a_division_in_special_measures_from_its_escalation_page(app, database, services, org_ids):
    ulht = org_ids["RWD"]
    escalation_id, subject = await _ulht_division_escalation(database, ulht)
    url = f"/organisations/RWD/escalations/{escalation_id}"
    try:
        async with await fresh_client(app) as client:
            await login(client, ULHT)
            page = await client.get(url)
            assert page.status_code == 200 and 'id="judgements"' in page.text
            assert "Executive Team decision on further action" in page.text
            assert re.search(r'<input class="nhsuk-radios__input" id="judgement-executive_team_decision-value[^"]*" name="value" type="radio" value="special_measures"',
                             page.text)
            no_reason = await post_form(client, "/organisations/RWD/judgements", page.text, {
                "kind": "executive_team_decision", "returns_to": f"escalation:{escalation_id}", "subject": subject, "value": "special_measures",
                "reason": " "})
            assert no_reason.status_code == 400
            assert "There is a problem with the judgement" in no_reason.text and "Give the reason" in no_reason.text
            assert 'href="#judgement-executive_team_decision-reason"' in no_reason.text
            assert 'value="special_measures" checked' in no_reason.text  # what was chosen is kept
            done = await post_form(client, "/organisations/RWD/judgements", page.text, {
                "kind": "executive_team_decision", "returns_to": f"escalation:{escalation_id}", "subject": subject, "value": "special_measures",
                "reason": "Breach significant and consistent (ULHT PMF 4)"})
            assert done.status_code == 303 and done.headers["location"].startswith(url)
            after = await client.get(done.headers["location"])
            assert "Special measures" in after.text and "Breach significant and consistent" in after.text
            assert "Withdraw this judgement" in after.text and "History of judgements" in after.text
            level, code, explanation = await escalation(database, ulht, subject)
            assert (level, code) == (5, "special-measures")
            assert explanation["facts"]["executive_team_decision"] == "special_measures"
            # Recorded against the wrong division, say: withdrawn from the same page, with a reason; history keeps both.
            withdrawn = await post_form(client, "/organisations/RWD/judgements", after.text, {
                "kind": "executive_team_decision", "returns_to": f"escalation:{escalation_id}", "subject": subject, "withdraw": "yes",
                "reason": "Recorded against the wrong division"})
            assert withdrawn.status_code == 303
            history = await client.get(withdrawn.headers["location"])
        assert re.search(r"Executive Team decision on further action about [^:]+:\s+withdrawn", history.text)
        assert "Recorded against the wrong division" in history.text and "Breach significant and consistent" in history.text
        level, code, explanation = await escalation(database, ulht, subject)
        assert (level, code) == (5, "special-measures")  # held until sustained (ULHT's de_escalation), though no longer decided
        assert "executive_team_decision" not in explanation["facts"]
    finally:
        await withdraw_all(database, services, ulht, subject, ((ULHT, ("executive_team_decision",)),))
        await close_by_hand(database, services, ulht, subject)
    # ULHT's ladder holds a level until three periods on target (its de_escalation), so the test's
    # division was closed by hand, as the six-monthly accountability review would; the ladder re-opens it
    # at the level its data give, without the withdrawn decision.
    assert (await escalation(database, ulht, subject) or (0,))[0] < 5


async def test_a_role_the_framework_does_not_name_sees_no_form_and_is_refused(app, database, org_ids):
    escalation_id, subject = await _ulht_division_escalation(database, org_ids["RWD"])
    async with await fresh_client(app) as client:
        await login(client, "ulht.division@accord.example")  # divisional triumvirate: judged, not judging
        page = await client.get(f"/organisations/RWD/escalations/{escalation_id}")
        assert page.status_code == 200 and 'id="judgements"' not in page.text
        refused = await post_form(client, "/organisations/RWD/judgements", page.text, {
            "kind": "policies_adhered", "returns_to": f"escalation:{escalation_id}", "subject": subject, "value": "no", "reason": "x"})
    assert refused.status_code == 403


async def test_system_qpc_minutes_not_assured_at_its_meeting(app, database, services, org_ids, stw_subject):
    stw = org_ids["STW"]
    async with database.session(AccessContext.for_orgs([stw], write=True)) as session:
        forum_id = (await session.exec(text("select id from forum where org_id = :o and code = 'SQPC'"), params={"o": stw})).scalar_one()
        meeting = Meeting(org_id=stw, forum_id=forum_id, scheduled_for=dt.date(2098, 2, 2), status="held")
        session.add(meeting)
    url = f"/organisations/STW/meetings/{meeting.id}"
    async with await fresh_client(app) as client:
        await login(client, QPC)
        page = await client.get(url)
        assert page.status_code == 200 and "System QPC assured by the rate of improvement" in page.text
        assert "Risk assessment of the failure" not in page.text  # the delivery group's judgement, not this forum's
        version = re.search(r'name="meeting_version" value="(\d+)"', page.text).group(1)
        assert 'name="expires-day"' in page.text and 'name="subject"' in page.text  # plain names: it posts without JavaScript
        form = {"kind": "qpc_assured", "returns_to": f"meeting:{meeting.id}", "meeting_version": version, "subject": stw_subject,
                "value": "no", "reason": "Rate of improvement not enough"}
        bad_date = await post_form(client, "/organisations/STW/judgements", page.text, {**form, "expires-day": "31", "expires-month": "2",
                                                                                          "expires-year": "2099"})
        assert bad_date.status_code == 400 and "Enter the date it expires as a real date" in bad_date.text
        assert 'href="#judgement-qpc_assured-expires"' in bad_date.text and "Rate of improvement not enough" in bad_date.text
        done = await post_form(client, "/organisations/STW/judgements", page.text, {**form, "expires-day": "1", "expires-month": "3",
                                                                                     "expires-year": "2099"})
        assert done.status_code == 303
        stale = await post_form(client, "/organisations/STW/judgements", page.text, {
            "kind": "qpc_assured", "returns_to": f"meeting:{meeting.id}", "meeting_version": version, "subject": stw_subject,
            "value": "yes", "reason": "again"})
        assert stale.status_code == 409
        after = await client.get(url)
    assert "Judgement recorded — System QPC assured by the rate of improvement: no" in after.text
    minuted = await rows(database, stw, "select meeting_id, value, expires_at from judgement where org_id = :o and subject_key = :k"
                         " order by id desc limit 1", k=stw_subject)
    assert tuple(minuted[0]) == (meeting.id, False, dt.datetime(2099, 3, 1, tzinfo=dt.UTC))


RECORD = """mutation($org: String!, $kind: String!, $subject: String!, $value: String, $withdraw: Boolean! = false) {
  recordJudgement(organisationCode: $org, kind: $kind, subject: $subject, value: $value, reason: "From the QPC minutes", withdraw: $withdraw) {
    __typename
    ... on JudgementRecorded { message escalationsChanged judgement { kind subject value withdrawn recordedRole supersedesId } }
    ... on JudgementRefusedResult { reason message argument } } }"""


async def _graphql(database, services, email, variables):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    result = await schema.execute(RECORD, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data["recordJudgement"]


async def test_record_judgement_through_graphql_with_typed_refusals(database, services, org_ids, stw_subject):
    variables = {"org": "STW", "kind": "qpc_assured", "subject": stw_subject, "value": "no"}
    done = await _graphql(database, services, QPC, variables)
    assert done["__typename"] == "JudgementRecorded"
    assert done["judgement"] == {"kind": "qpc_assured", "subject": stw_subject, "value": "no", "withdrawn": False,
                                 "recordedRole": "system_committee_member", "supersedesId": done["judgement"]["supersedesId"]}
    refused = await _graphql(database, services, DELIVERY, variables)
    assert (refused["__typename"], refused["reason"]) == ("JudgementRefusedResult", "not_allowed")
    wrong = await _graphql(database, services, QPC, {**variables, "value": "maybe"})
    assert (wrong["reason"], wrong["argument"]) == ("invalid", "value")
    nowhere = await _graphql(database, services, QPC, {**variables, "org": "NOWHERE"})
    assert (nowhere["reason"], nowhere["argument"]) == ("not_found", "organisationCode")
    withdrawn = await _graphql(database, services, QPC, {**variables, "value": None, "withdraw": True})
    assert withdrawn["judgement"]["withdrawn"] is True and withdrawn["judgement"]["value"] is None


READ = """query($org: String!, $subject: String, $history: Boolean! = false) {
  judgements(organisationCode: $org, subject: $subject, history: $history) { kind subject value withdrawn reason recordedBy } }"""


async def test_tools_read_the_judgements_in_force_and_their_history(database, services, org_ids, stw_subject):
    assert (await _graphql(database, services, QPC, {"org": "STW", "kind": "qpc_assured", "subject": stw_subject, "value": "no"}))[
        "__typename"] == "JudgementRecorded"

    async def read(email, **variables):  # type: ignore[no-untyped-def]
        principal, access = await act_as(database, services.authorizer, email)
        context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
        result = await schema.execute(READ, variable_values={"org": "STW", "subject": stw_subject, **variables}, context_value=context)
        assert result.errors is None, result.errors
        return result.data["judgements"]

    current = await read(QPC)
    assert [(j["kind"], j["value"], j["recordedBy"]) for j in current] == [("qpc_assured", "no", "Alan Hughes")]
    history = await read(QPC, history=True)
    assert len(history) >= len(current) and history[0]["reason"] == "From the QPC minutes"
    assert await read("sath.performance@accord.example") == []  # cannot read the system's own organisation
