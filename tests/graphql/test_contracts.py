"""Contract monitoring in GraphQL (issue 15): the contract with the provider's figures and outturn, and
notices raised and advanced through the pages' services, with typed refusals."""
from __future__ import annotations

from schema.app import schema
from schema.context import AccordContext
from tests.conftest import act_as

CONTRACT = """query($org: String!, $provider: String!) { contract(organisationCode: $org, providerCode: $provider) {
  providerName providerIsTenant annualValue recordedAtUnit boardForum escalationLevel
  indicators { code value target rag } outturn { months yearToDate forecast contractValue variance } notices { id status } } }"""
RAISE = """mutation($org: String!, $provider: String!, $title: String!) {
  raiseContractNotice(organisationCode: $org, providerCode: $provider, title: $title, reason: "Below plan", indicatorCodes: ["IAPT"]) {
    __typename ... on ContractNoticeSaved { notice { id status version history { step by role } } }
    ... on ContractNoticeRefused { reason argument } } }"""
ADVANCE = """mutation($org: String!, $id: Int!, $version: Int!) {
  advanceContractNotice(organisationCode: $org, noticeId: $id, step: "issue", expectedVersion: $version) {
    __typename ... on ContractNoticeSaved { notice { status } } ... on ContractNoticeRefused { reason message } } }"""


async def _run(database, services, email, query, variables):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    try:
        result = await schema.execute(query, variable_values=variables, context_value=context)
    finally:
        await context.close()
    assert result.errors is None, result.errors
    return result.data


async def test_a_commissioner_reads_a_contract_with_the_providers_figures(database, services):
    data = await _run(database, services, "sheffield.contracts@accord.example", CONTRACT, {"org": "03N", "provider": "RHQ"})
    contract = data["contract"]
    assert contract["providerName"].startswith("Sheffield Teaching Hospitals") and contract["providerIsTenant"] is False
    assert (contract["recordedAtUnit"], contract["boardForum"]) == ("03N-PROV-STH", "CMB-STH")
    assert {i["code"] for i in contract["indicators"]} == {"AE4H", "RTT18", "DM01", "CAN62", "LONGWAIT"}
    assert contract["outturn"]["contractValue"] == 380_000_000 and contract["outturn"]["months"] >= 1
    whssc = await _run(database, services, "whssc.commissioner@accord.example", CONTRACT, {"org": "WHSSC", "provider": "RL1"})
    assert whssc["contract"]["providerIsTenant"] is True and whssc["contract"]["indicators"]  # RJAH's own contractual indicators
    assert (await _run(database, services, "sath.performance@accord.example", CONTRACT, {"org": "03N", "provider": "RHQ"}))["contract"] is None


async def test_notices_are_raised_and_advanced_with_typed_refusals(database, services):
    manager, director = "sheffield.contracts@accord.example", "sheffield.director@accord.example"
    blank = await _run(database, services, manager, RAISE, {"org": "03N", "provider": "TAH", "title": " "})
    assert blank["raiseContractNotice"] == {"__typename": "ContractNoticeRefused", "reason": "invalid", "argument": "title"}
    elsewhere = await _run(database, services, manager, RAISE, {"org": "03N", "provider": "RXW", "title": "t"})
    assert elsewhere["raiseContractNotice"]["argument"] == "providerCode"
    raised = (await _run(database, services, manager, RAISE, {"org": "03N", "provider": "TAH", "title": "GraphQL notice"}))["raiseContractNotice"]
    notice = raised["notice"]
    assert notice["status"] == "raised" and notice["history"] == [{"step": "raised", "by": "Ruth Barker", "role": "commissioner"}]
    refused = await _run(database, services, manager, ADVANCE, {"org": "03N", "id": notice["id"], "version": notice["version"]})
    assert refused["advanceContractNotice"]["reason"] == "not_allowed"
    issued = await _run(database, services, director, ADVANCE, {"org": "03N", "id": notice["id"], "version": notice["version"]})
    assert issued["advanceContractNotice"] == {"__typename": "ContractNoticeSaved", "notice": {"status": "issued"}}
    stale = await _run(database, services, director, ADVANCE, {"org": "03N", "id": notice["id"], "version": notice["version"]})
    assert stale["advanceContractNotice"]["reason"] == "wrong_status"
    withdraw = """mutation($id: Int!, $v: Int!) { advanceContractNotice(organisationCode: "03N", noticeId: $id, step: "withdraw",
      expectedVersion: $v, note: "test over") { __typename } }"""
    assert (await _run(database, services, director, withdraw, {"id": notice["id"], "v": notice["version"] + 1}))[
        "advanceContractNotice"]["__typename"] == "ContractNoticeSaved"


PROVIDERS = """query($org: String!, $cohort: String) { providerPosition(organisationCode: $org, cohort: $cohort) {
  memberCodes cohorts { code name } selectedCohort rows { code cells { organisationCode reported value rag } } } }"""


async def test_tools_read_a_commissioners_providers_side_by_side_by_patient_cohort(database, services):
    whssc = "whssc.commissioner@accord.example"
    every = (await _run(database, services, whssc, PROVIDERS, {"org": "WHSSC"}))["providerPosition"]
    assert len(every["memberCodes"]) == 8 and "RL1" not in every["memberCodes"]  # RJAH, a tenant, reports its own
    assert {c["code"] for c in every["cohorts"]} == {"referred", "undergoing_treatment", "referred_not_treated"}
    assert {row["code"] for row in every["rows"]} == {"PRIORITISED", "ACTIVITY", "MORT30", "READMIT30", "LONGWAIT"}
    chosen = (await _run(database, services, whssc, PROVIDERS, {"org": "WHSSC", "cohort": "undergoing_treatment"}))["providerPosition"]
    assert chosen["selectedCohort"] == "undergoing_treatment" and [row["code"] for row in chosen["rows"]] == ["ACTIVITY", "MORT30", "READMIT30"]
    for row in chosen["rows"]:
        assert [cell["organisationCode"] for cell in row["cells"]] == chosen["memberCodes"]
        assert all(cell["reported"] and cell["value"] is not None for cell in row["cells"])
    # Someone who may not read WHSSC gets nothing.
    assert (await _run(database, services, "sath.performance@accord.example", PROVIDERS, {"org": "WHSSC"}))["providerPosition"] is None
