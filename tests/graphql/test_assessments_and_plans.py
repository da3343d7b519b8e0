"""Tools read assessments with evidence and escalations, and take part in the SPIP sign-off."""
from __future__ import annotations

from tests.graphql.test_slice import gql, make_token

ASSESSMENT = """
query { organisation(code: "RXW") {
  indicators(filter: {key: true}) { nodes { code assessment { period rag variation assurance periodsUnderTarget ruleSet evidence } } }
  escalations { nodes { subjectKey level levelName forumCode explanation } }
} }"""


async def test_assessment_evidence_is_exposed(client, database):
    token = await make_token(database, "sath.exec@accord.example", "RXW", ["executive"])
    body = await gql(client, token, ASSESSMENT)
    indicators = body["data"]["organisation"]["indicators"]["nodes"]
    assessed = [i for i in indicators if i["assessment"]]
    assert assessed, body
    evidence = assessed[0]["assessment"]["evidence"]
    assert {"spc", "rag", "under_target", "forecast"} <= set(evidence)
    assert evidence["spc"]["rule_set"]["parameters"]["run_length"] in (6, 7)
    assert assessed[0]["assessment"]["ruleSet"].startswith("accord-mdc-xmr")
    escalations = body["data"]["organisation"]["escalations"]["nodes"]
    assert all(e["explanation"]["text"] for e in escalations)


AGREE = """mutation($plan: Int!, $partner: String!, $version: Int!) { agreePlan(planId: $plan, partnerCode: $partner, version: $version) {
    __typename ... on PlanActionRefused { reason message } ... on PlanUpdated { message plan { status partners { organisationCode agreed } } } } }"""


async def test_a_token_agrees_only_for_its_own_organisation(client, database, services):
    from server.plans.create import PlanDraft, create_plan
    from tests.plans.test_workflow import LEAD, critiqued, run

    created = await run(database, services, LEAD, create_plan, draft=PlanDraft(
        owner_code="STW", kind="spip", title="Diagnostics recovery", sro="COO", partner_codes=["RXW", "RL1"]))
    version = await critiqued(database, services, created.plan.id)
    token = await make_token(database, "sath.exec@accord.example", "RXW", ["executive"])
    foreign = (await gql(client, token, AGREE, {"plan": created.plan.id, "partner": "RL1", "version": version}))["data"]["agreePlan"]
    assert foreign == {"__typename": "PlanActionRefused", "reason": "not_allowed", "message": foreign["message"]}
    stale = (await gql(client, token, AGREE, {"plan": created.plan.id, "partner": "RXW", "version": version - 1}))["data"]["agreePlan"]
    assert stale["reason"] == "stale"
    own = (await gql(client, token, AGREE, {"plan": created.plan.id, "partner": "RXW", "version": version}))["data"]["agreePlan"]
    assert own["__typename"] == "PlanUpdated"
    assert {p["organisationCode"]: p["agreed"] for p in own["plan"]["partners"]} == {"RXW": True, "RL1": False}
