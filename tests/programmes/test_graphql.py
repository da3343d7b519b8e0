"""Programme records through GraphQL: read with the organisation (one statement for every programme),
recorded through the same services as the page, refusals typed and naming the argument."""
from __future__ import annotations

import datetime as dt

import pytest_asyncio

from tests.graphql.test_tool_questions import counted_statements
from tests.maturity.test_record import _graphql
from tests.programmes.helpers import CONTRACTS, LEAD, PMO, open_escalation, retire, slipping_programme

READ = """query($org: String!, $code: String) { organisation(code: $org) { programmes(code: $code) {
  code name sro status milestonesOverdue qippPlannedYtd qippRealisedYtd qippShortfallYtd qippShortfallPercentYtd qippYearToDateThrough
  highRisks monthsExceptionUnresolved escalation { level levelName forum why }
  milestones { id title dueOn achievedOn status overdue } qipp { month planned realised gapToDate } risks { id score rating status } } } }"""
ACHIEVED = """mutation($org: String!, $code: String!, $milestone: Int!, $day: Date!) {
  recordProgrammeMilestoneAchieved(organisationCode: $org, programmeCode: $code, milestoneId: $milestone, achievedOn: $day) {
    __typename ... on ProgrammeRecorded { message programme { milestonesOverdue escalation { levelName } } }
    ... on ProgrammeRefused { reason message argument } } }"""
RISK = """mutation($org: String!, $code: String!, $likelihood: Int!) {
  saveProgrammeRisk(organisationCode: $org, programmeCode: $code, description: "Workforce", likelihood: $likelihood, impact: 4, owner: "Lead") {
    __typename ... on ProgrammeRecorded { message programme { highRisks risks { score rating } } }
    ... on ProgrammeRefused { reason message argument } } }"""


@pytest_asyncio.fixture(loop_scope="session")
async def slipping(database, org_ids):  # type: ignore[no-untyped-def]
    code = await slipping_programme(database, org_ids["03N"])
    yield code
    await retire(database, org_ids["03N"], code)


async def test_tools_read_programmes_with_their_facts_and_escalation(database, services):
    with counted_statements(database) as sent:
        data = await _graphql(database, services, CONTRACTS, READ, {"org": "03N", "code": None})
    programmes = {p["code"]: p for p in data["organisation"]["programmes"]}
    assert {"UEC", "ELECTIVE", "PRIMARY", "MH"} <= set(programmes)
    urgent = programmes["UEC"]
    assert urgent["escalation"]["forum"] == "IPDB" and urgent["monthsExceptionUnresolved"] == 2 and urgent["highRisks"] == 1
    assert urgent["qippShortfallYtd"] == urgent["qippPlannedYtd"] - urgent["qippRealisedYtd"] > 0
    assert len(urgent["qipp"]) == 12 and [m["overdue"] for m in urgent["milestones"]].count(True) == 1
    assert programmes["ELECTIVE"]["escalation"] is None and programmes["ELECTIVE"]["qippShortfallYtd"] == 0
    assert len([s for s in sent if "programme_milestone" in s]) == 1  # one statement for every programme and its parts


async def test_other_organisations_people_read_no_programmes(database, services):
    data = await _graphql(database, services, "ulht.performance@accord.example", READ, {"org": "03N", "code": None})
    assert data["organisation"] is None


async def test_tools_record_progress_and_the_ladder_moves(database, services, org_ids, slipping):
    milestone = (await _graphql(database, services, LEAD, READ, {"org": "03N", "code": slipping}))["organisation"]["programmes"][0]["milestones"][0]
    today = dt.date.today().isoformat()
    refused = (await _graphql(database, services, CONTRACTS, ACHIEVED, {"org": "03N", "code": slipping, "milestone": milestone["id"], "day": today}))
    assert refused["recordProgrammeMilestoneAchieved"]["reason"] == "not_allowed"
    foreign = (await _graphql(database, services, PMO, ACHIEVED, {"org": "RWD", "code": slipping, "milestone": milestone["id"], "day": today}))
    assert foreign["recordProgrammeMilestoneAchieved"]["argument"] == "organisationCode"
    done = (await _graphql(database, services, LEAD, ACHIEVED, {"org": "03N", "code": slipping, "milestone": milestone["id"], "day": today}))
    assert done["recordProgrammeMilestoneAchieved"]["__typename"] == "ProgrammeRecorded"
    assert done["recordProgrammeMilestoneAchieved"]["programme"] == {"milestonesOverdue": 0, "escalation": None}
    invalid = (await _graphql(database, services, LEAD, RISK, {"org": "03N", "code": slipping, "likelihood": 0}))["saveProgrammeRisk"]
    assert (invalid["reason"], invalid["argument"]) == ("invalid", "likelihood")
    red = (await _graphql(database, services, LEAD, RISK, {"org": "03N", "code": slipping, "likelihood": 4}))["saveProgrammeRisk"]
    assert red["programme"]["highRisks"] == 1 and {"score": 16, "rating": "high"} in red["programme"]["risks"]
    level = await open_escalation(database, org_ids["03N"], slipping)
    # A red risk raised today continues the run of exception months (the milestone was overdue the two before): the IPDB's.
    assert level is not None and level[0] == "ipdb"
