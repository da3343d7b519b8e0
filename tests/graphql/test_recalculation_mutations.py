"""recordRecalculation / withdrawRecalculation: the indicator page's decision for tools, through the
same service (issue 13), with typed refusals naming the argument, and the stored verdicts derived
again in the same request."""
from __future__ import annotations

from sqlalchemy import text

from schema.app import schema
from schema.context import AccordContext
from server.assessment_store.recompute import runner_access
from tests.conftest import act_as

RECORD = """mutation($org: String!, $indicator: String!, $period: Date!, $reason: String!, $unit: String) {
  recordRecalculation(organisationCode: $org, indicatorCode: $indicator, period: $period, reason: $reason, unitCode: $unit) {
    __typename
    ... on RecalculationChanged { message recalculation { id indicatorCode unitCode period reason recordedBy live } }
    ... on RecalculationRefusedResult { reason message argument } } }"""
WITHDRAW = """mutation($id: Int!, $reason: String!) {
  withdrawRecalculation(recalculationId: $id, reason: $reason) {
    __typename
    ... on RecalculationChanged { message recalculation { live withdrawalReason } }
    ... on RecalculationRefusedResult { reason message argument } } }"""


async def _run(database, services, email, document, variables):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    result = await schema.execute(document, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return next(iter(result.data.values()))


async def _segments(database, org_id: int, code: str) -> tuple[list[int], list]:
    async with database.session(await runner_access(database, org_id)) as session:
        evidence, periods = (await session.exec(text(
            "select (select evidence from assessment a where a.indicator_id = i.id and a.unit_id is null and a.is_latest),"
            " (select array_agg(period order by period) from assessment a where a.indicator_id = i.id and a.unit_id is null)"
            " from indicator i where i.org_id = :org and i.code = :code"
        ), params={"org": org_id, "code": code})).one()
    return [segment["first_period"] for segment in evidence["spc"]["segments"]], list(periods)


async def test_record_and_withdraw_a_recalculation_through_graphql(database, services, org_ids):
    rxw, manager = org_ids["RXW"], "sath.performance@accord.example"
    before, periods = await _segments(database, rxw, "RTT18")
    variables = {"org": "RXW", "indicator": "RTT18", "period": periods[-6].isoformat(), "reason": "Validation sprint cleared the list"}

    refused = await _run(database, services, "sath.exec@accord.example", RECORD, variables)
    assert (refused["__typename"], refused["reason"]) == ("RecalculationRefusedResult", "not_allowed")
    blank = await _run(database, services, manager, RECORD, {**variables, "reason": " "})
    assert (blank["reason"], blank["argument"]) == ("invalid", "reason")
    first = await _run(database, services, manager, RECORD, {**variables, "period": periods[0].isoformat()})
    assert (first["reason"], first["argument"]) == ("invalid", "period")
    elsewhere = await _run(database, services, "ulht.performance@accord.example", RECORD, variables)
    assert (elsewhere["reason"], elsewhere["argument"]) == ("not_found", "organisationCode")
    assert (await _segments(database, rxw, "RTT18"))[0] == before

    done = await _run(database, services, manager, RECORD, variables)
    assert done["__typename"] == "RecalculationChanged"
    assert {k: done["recalculation"][k] for k in ("indicatorCode", "period", "reason", "recordedBy", "live")} == {
        "indicatorCode": "RTT18", "period": variables["period"], "reason": variables["reason"], "recordedBy": "Dev Patel", "live": True}
    assert len((await _segments(database, rxw, "RTT18"))[0]) == len(before) + 1
    twice = await _run(database, services, manager, RECORD, variables)
    assert twice["reason"] == "stale"

    withdrawn = await _run(database, services, manager, WITHDRAW, {"id": done["recalculation"]["id"], "reason": "Wrong month"})
    assert withdrawn["recalculation"] == {"live": False, "withdrawalReason": "Wrong month"}
    assert (await _segments(database, rxw, "RTT18"))[0] == before
