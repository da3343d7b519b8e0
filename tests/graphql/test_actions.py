"""Mutations for what people do in the pages, through the pages' own service functions."""
from __future__ import annotations

from sqlalchemy import select

from schema.app import schema
from schema.context import AccordContext
from server.db.models import Escalation
from server.db.session import AccessContext
from tests.conftest import act_as

ACT = """mutation($id: Int!, $version: Int!, $action: EscalationAction!) {
  actOnEscalation(escalationId: $id, action: $action, version: $version, reason: "Discussed at the PRM") {
    __typename ... on EscalationUpdated { message escalation { id status version history { event actorRole } } }
    ... on EscalationActionRefused { reason message } } }"""

DRAFT = """mutation($plan: PlanDraftInput!) { draftPlan(plan: $plan) {
  __typename ... on PlanDrafted { plan { id status ownerCode sro history { event } } }
  ... on PlanDraftRejected { message problems { field message } } } }"""

ADD_ACTION = """mutation($plan: Int!) { addPlanAction(planId: $plan, description: "Open a second diagnostics list", owner: "COO",
  dueDate: "2027-01-31") { __typename ... on PlanActionSaved { action { id status } } ... on PlanActionRejected { message } } }"""

SET_STATUS = """mutation($plan: Int!, $action: Int!) { setPlanActionStatus(planId: $plan, actionId: $action, status: "done") {
  __typename ... on PlanActionSaved { action { status } } ... on PlanActionRejected { message } } }"""


async def run(database, services, email: str, document: str, variables: dict):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    result = await schema.execute(document, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data


async def _open_escalation(database, org_ids, code: str) -> Escalation:
    """The newest open escalation (the escalation page tests act on the register's first)."""
    async with database.session(AccessContext.for_orgs([org_ids[code]])) as session:
        return (await session.exec(select(Escalation).where(Escalation.org_id == org_ids[code], Escalation.status == "open")
                                   .order_by(Escalation.id.desc()))).scalars().first()


async def test_an_executive_acknowledges_their_own_escalation_once(database, services, org_ids):
    escalation = await _open_escalation(database, org_ids, "RWD")
    assert escalation is not None, "the demo data escalates something at ULHT"
    variables = {"id": escalation.id, "version": escalation.version, "action": "ACKNOWLEDGE"}
    done = (await run(database, services, "ulht.performance@accord.example", ACT, variables))["actOnEscalation"]
    assert done["__typename"] == "EscalationUpdated" and done["escalation"]["status"] == "ACKNOWLEDGED"
    assert done["escalation"]["history"][-1] == {"event": "acknowledged", "actorRole": "executive"}
    again = (await run(database, services, "ulht.performance@accord.example", ACT, variables))["actOnEscalation"]
    assert again == {"__typename": "EscalationActionRefused", "reason": "stale", "message": again["message"]}


async def test_another_organisations_escalation_cannot_be_touched(database, services, org_ids):
    escalation = await _open_escalation(database, org_ids, "RXW")
    assert escalation is not None
    variables = {"id": escalation.id, "version": escalation.version, "action": "CLOSE"}
    refused = (await run(database, services, "ulht.performance@accord.example", ACT, variables))["actOnEscalation"]
    assert refused["__typename"] == "EscalationActionRefused" and refused["reason"] == "not_found"


async def test_a_plan_drafted_through_graphql_keeps_its_action_log(database, services):
    rejected = (await run(database, services, "stw.lead@accord.example", DRAFT, {"plan": {"ownerCode": "QOC", "title": " "}}))["draftPlan"]
    assert rejected["__typename"] == "PlanDraftRejected" and rejected["problems"]
    plan = {"ownerCode": "QOC", "title": "Urgent care recovery", "sro": "Chief Operating Officer", "kind": "recovery"}
    drafted = (await run(database, services, "stw.lead@accord.example", DRAFT, {"plan": plan}))["draftPlan"]
    assert drafted["__typename"] == "PlanDrafted", drafted
    assert drafted["plan"]["status"] == "DRAFT" and drafted["plan"]["ownerCode"] == "QOC"
    plan_id = drafted["plan"]["id"]
    added = (await run(database, services, "stw.lead@accord.example", ADD_ACTION, {"plan": plan_id}))["addPlanAction"]
    assert added["__typename"] == "PlanActionSaved" and added["action"]["status"] == "OPEN"
    closed = (await run(database, services, "stw.lead@accord.example", SET_STATUS, {"plan": plan_id, "action": added["action"]["id"]}))
    assert closed["setPlanActionStatus"]["action"]["status"] == "DONE"
    outsider = (await run(database, services, "sath.exec@accord.example", ADD_ACTION, {"plan": plan_id}))["addPlanAction"]
    assert outsider["__typename"] == "PlanActionRejected"
