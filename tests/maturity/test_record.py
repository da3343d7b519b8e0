"""Recording a maturity self-assessment: by the roles the framework names, with evidence, audited,
superseding (never editing) the one in force; on the page (NHS.UK form, errors beside the field),
through GraphQL, and on the system position with its date."""
from __future__ import annotations

from sqlalchemy import text

from schema.app import schema
from schema.context import AccordContext
from server.db.session import AccessContext
from server.maturity.record import MaturityInput, MaturityRecorded, MaturityRefused, record_maturity
from tests.conftest import act_as, login
from tests.web.test_plan_pages import fresh_client, post_form

LEAD, SATH_PERFORMANCE, SATH_EXEC, ULHT = ("stw.lead@accord.example", "sath.performance@accord.example", "sath.exec@accord.example",
                                           "ulht.performance@accord.example")


async def _record(database, services, email, org_id, **given):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    async with database.session(access) as session:
        return await record_maturity(session, services.authorizer, principal, org_id=org_id, given=MaturityInput(**given))


async def _rows(database, org_id, sql, **params):  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text(sql), params={"o": org_id, **params})).all()


async def test_the_system_lead_records_a_programme_level_and_a_new_one_supersedes_it(database, services, org_ids):
    stw = org_ids["STW"]
    first = await _record(database, services, LEAD, stw, level=2, evidence="Monthly delivery group reports in plan-on-a-page format",
                          programme="STW-UEC")
    assert isinstance(first, MaturityRecorded), first
    assert first.role == "system_planning_lead" and first.assessment.programme == "STW-UEC"
    second = await _record(database, services, LEAD, stw, level=3, evidence="UEC objectives agreed and owned by every partner",
                           programme="STW-UEC")
    assert isinstance(second, MaturityRecorded) and second.supersedes_id == first.assessment.id
    assert "Urgent and Emergency Care programme: level 3, Effective performance reporting" in second.message
    kept = await _rows(database, stw, "select id, level, notes from maturity_assessment where org_id = :o and programme = 'STW-UEC'"
                       " and id = any(:ids) order by id", ids=[first.assessment.id, second.assessment.id])
    assert [(row[1], row[2]) for row in kept] == [(2, "Monthly delivery group reports in plan-on-a-page format"),
                                                   (3, "UEC objectives agreed and owned by every partner")]  # history, never an edit
    audit = await _rows(database, stw, "select action, actor_role, before, after from audit_event where org_id = :o"
                        " and object_type = 'maturity_assessment' and object_id = :id", id=str(second.assessment.id))
    assert audit == [("maturity.assessed", "system_planning_lead", {"supersedes": first.assessment.id},
                      {"programme": "STW-UEC", "level": 3, "level_name": "Effective performance reporting",
                       "evidence": "UEC objectives agreed and owned by every partner"})]


async def test_refusals_name_the_field_and_record_nothing(database, services, org_ids):
    sath = org_ids["RXW"]
    before = await _rows(database, sath, "select count(*) from maturity_assessment where org_id = :o")
    cases = [
        (SATH_EXEC, {"level": 3, "evidence": "x"}, "not_allowed", None),  # an executive is not a role the framework names
        (SATH_PERFORMANCE, {"level": 6, "evidence": "x"}, "invalid", "level"),
        (SATH_PERFORMANCE, {"level": None, "evidence": "x"}, "invalid", "level"),
        (SATH_PERFORMANCE, {"level": 3, "evidence": "   "}, "invalid", "evidence"),
        (SATH_PERFORMANCE, {"level": 3, "evidence": "x" * 4001}, "invalid", "evidence"),
        (SATH_PERFORMANCE, {"level": 3, "evidence": "x", "programme": "STW-UEC"}, "invalid", "programme"),  # the system's, not SaTH's
        (LEAD, {"level": 3, "evidence": "x"}, "not_allowed", None),  # the system lead reads SaTH but does not assess it
    ]
    for email, given, reason, field in cases:
        outcome = await _record(database, services, email, sath, **given)
        assert isinstance(outcome, MaturityRefused) and (outcome.reason, outcome.field) == (reason, field), (email, given, outcome)
    # ULHT is in no system and declares no levels: there is nothing to assess against.
    ulht = await _record(database, services, ULHT, org_ids["RWD"], level=3, evidence="x")
    assert isinstance(ulht, MaturityRefused) and ulht.reason == "not_found"
    assert await _rows(database, sath, "select count(*) from maturity_assessment where org_id = :o") == before


async def test_a_trust_performance_team_records_its_level_on_the_page_and_the_system_position_shows_it(app, database, org_ids):
    async with await fresh_client(app) as client:
        await login(client, SATH_PERFORMANCE)
        assert 'href="/organisations/RXW/maturity"' in (await client.get("/organisations/RXW")).text
        page = await client.get("/organisations/RXW/maturity")
        assert page.status_code == 200
        assert "Performance improvement culture" in page.text and "Record a self-assessment" in page.text
        no_evidence = await post_form(client, "/organisations/RXW/maturity", page.text, {"level": "4", "evidence": " "})
        assert no_evidence.status_code == 400
        assert "There is a problem with the self-assessment" in no_evidence.text and 'href="#maturity-evidence"' in no_evidence.text
        assert 'id="maturity-evidence-error"' in no_evidence.text or "nhsuk-error-message" in no_evidence.text
        assert 'value="4" checked' in no_evidence.text  # what was chosen is kept
        done = await post_form(client, "/organisations/RXW/maturity", page.text,
                               {"level": "4", "evidence": "Divisional performance reviews act on SPC evidence every month"})
        assert done.status_code == 303 and done.headers["location"] == "/organisations/RXW/maturity"
        after = await client.get(done.headers["location"])
        assert "Maturity recorded for the organisation: level 4, Performance management." in after.text
        assert "Level 4: Performance management" in after.text and "Divisional performance reviews act on SPC evidence" in after.text
    async with await fresh_client(app) as lead:
        await login(lead, LEAD)
        system = (await lead.get("/systems/STW?set=all")).text
        assert '<a href="/organisations/RXW/maturity">Level 4</a>' in system and "(self-assessed " in system
        # The lead reads SaTH's assessment but is offered no form for it.
        sath = await lead.get("/organisations/RXW/maturity")
        assert sath.status_code == 200 and "Record a self-assessment" not in sath.text


async def test_a_person_who_cannot_read_the_organisation_gets_not_found(app):
    async with await fresh_client(app) as client:
        await login(client, ULHT)
        page = await client.get("/organisations/RXW/maturity")
        assert page.status_code == 404
        refused = await client.post("/organisations/RXW/maturity", data={"csrf_token": "x", "level": "3", "evidence": "x"})
        assert refused.status_code in (403, 404)


RECORD = """mutation($org: String!, $level: Int!, $evidence: String!, $programme: String) {
  recordMaturityAssessment(organisationCode: $org, level: $level, evidence: $evidence, programme: $programme) {
    __typename
    ... on MaturityAssessmentRecorded { message supersedesId assessment { programme programmeName level levelName evidence assessedBy superseded } }
    ... on MaturityAssessmentRefused { reason message argument } } }"""
SYSTEM = """{ system(code: "STW") { members { code maturityLevel maturityAssessedOn } } }"""
READ = """query($org: String!, $history: Boolean!) { maturityAssessments(organisationCode: $org, history: $history) {
  id programme level levelName evidence superseded assessedOn } }"""


async def _graphql(database, services, email, document, variables):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    try:
        result = await schema.execute(document, variable_values=variables, context_value=context)
    finally:
        await context.close()
    assert result.errors is None, result.errors
    return result.data


async def test_tools_record_and_read_maturity_through_graphql(database, services):
    refused = (await _graphql(database, services, LEAD, RECORD, {"org": "STW", "level": 9, "evidence": "x"}))["recordMaturityAssessment"]
    assert refused == {"__typename": "MaturityAssessmentRefused", "reason": "invalid", "message": "Choose a level from 1 to 5", "argument": "level"}
    done = (await _graphql(database, services, LEAD, RECORD, {"org": "STW", "level": 3, "evidence": "System IPR to the ICB Board bi-monthly"}))
    recorded = done["recordMaturityAssessment"]
    assert recorded["__typename"] == "MaturityAssessmentRecorded"
    assert recorded["assessment"] == {"programme": None, "programmeName": None, "level": 3, "levelName": "Effective performance reporting",
                                      "evidence": "System IPR to the ICB Board bi-monthly", "assessedBy": "Priya Shah", "superseded": False}
    current = (await _graphql(database, services, LEAD, READ, {"org": "STW", "history": False}))["maturityAssessments"]
    whole = [entry for entry in current if entry["programme"] is None]
    assert len(whole) == 1 and whole[0]["evidence"] == "System IPR to the ICB Board bi-monthly"
    system = (await _graphql(database, services, LEAD, SYSTEM, {}))["system"]
    stw = next(member for member in system["members"] if member["code"] == "STW")
    assert (stw["maturityLevel"], stw["maturityAssessedOn"]) == (3, whole[0]["assessedOn"])  # the latest, with its date
    history = (await _graphql(database, services, LEAD, READ, {"org": "STW", "history": True}))["maturityAssessments"]
    assert len(history) >= len(current) and all(not entry["superseded"] for entry in current)
    # Another organisation's tool reads nothing of STW's.
    assert (await _graphql(database, services, ULHT, READ, {"org": "STW", "history": True}))["maturityAssessments"] == []
    foreign = (await _graphql(database, services, ULHT, RECORD, {"org": "STW", "level": 3, "evidence": "x"}))["recordMaturityAssessment"]
    assert foreign["__typename"] == "MaturityAssessmentRefused" and foreign["reason"] == "not_found"
