"""Benchmarking an indicator across peers the caller may read: groups (system members, a declared
peer group, a commissioner's providers, everyone readable), quartiles and position computed only
over readable peers, the same answer on the page and in GraphQL, and a fixed number of statements."""
from __future__ import annotations

import re

import numpy as np
import pytest
from sqlalchemy import text

from schema.app import schema
from schema.context import AccordContext
from server.benchmarking.service import benchmark
from server.db.session import AccessContext
from tests.conftest import act_as, login
from tests.graphql.test_tool_questions import counted_statements
from tests.web.test_plan_pages import fresh_client

LEAD, SATH_PERFORMANCE, ULHT, WHSSC = ("stw.lead@accord.example", "sath.performance@accord.example", "ulht.performance@accord.example",
                                       "whssc.commissioner@accord.example")


async def _run(database, access, **given):  # type: ignore[no-untyped-def]
    async with database.session(access) as session:
        return await benchmark(session, readable_org_ids=access.read_org_ids | access.contract_org_ids, **given)


async def _values_at(database, org_ids, code, period):  # type: ignore[no-untyped-def]
    """Every organisation's organisation-level value of the code at the period, read with access to all."""
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        rows = (await session.exec(text(
            "select o.code, a.value from assessment a join indicator i on i.id = a.indicator_id join organisation o on o.id = i.org_id"
            " where i.code = :code and a.unit_id is null and a.period = :period and a.value is not null"),
            params={"code": code, "period": period})).all()
    return {code: float(value) for code, value in rows}


async def test_the_system_lead_compares_a_member_with_every_system_member_reporting_the_code(database, services, org_ids):
    _, access = await act_as(database, services.authorizer, LEAD)
    found = await _run(database, access, organisation_code="RXW", indicator_code="RTT18")
    assert found is not None and found.group.key == "system:STW" and found.period is not None
    assert [g.key for g in found.groups][:1] == ["system:STW"] and found.groups[-1].key == "all"
    members = {"QOC", "RXW", "RL1", "R1D"}
    everyone = await _values_at(database, org_ids, "RTT18", found.period)
    expected = {code: value for code, value in everyone.items() if code in members}
    assert len(expected) >= 2, "SaTH and RJAH both report RTT18"
    assert {e.organisation_code: e.value for e in found.entries if e.value is not None} == pytest.approx(expected)
    lower, median, upper = np.percentile(list(expected.values()), [25, 50, 75], method="linear")
    assert (found.quartiles.lower, found.quartiles.median, found.quartiles.upper) == pytest.approx((lower, median, upper))
    me = found.position
    assert me is not None and me.organisation_code == "RXW"
    better = sum(value > expected["RXW"] for value in expected.values())  # RTT within 18 weeks: higher is better
    assert found.polarity == "higher_is_better" and me.rank == better + 1
    assert "STW" not in {e.organisation_code for e in found.entries}  # a member is not compared with the system's own figures


async def test_a_trust_sees_only_itself_among_the_system_members_it_cannot_read(database, services, org_ids):
    _, access = await act_as(database, services.authorizer, SATH_PERFORMANCE)
    assert access.read_org_ids == {org_ids["RXW"]}
    found = await _run(database, access, organisation_code="RXW", indicator_code="RTT18", group="system:STW")
    assert [e.organisation_code for e in found.entries] == ["RXW"]
    assert found.compared == 1 and found.quartiles.lower == found.quartiles.upper == found.entries[0].value
    assert found.position.rank == 1
    # Even when the application passes every organisation, row-level security keeps the others out.
    async with database.session(access) as session:
        wider = await benchmark(session, organisation_code="RXW", indicator_code="RTT18", readable_org_ids=org_ids.values(), group="all")
    assert [e.organisation_code for e in wider.entries] == ["RXW"] and wider.compared == 1
    # And another organisation's indicator is not there at all.
    assert await _run(database, access, organisation_code="RL1", indicator_code="RTT18") is None


async def test_a_declared_peer_group_compares_only_the_peers_the_reader_may_see_or_that_agreed(database, org_ids):
    """Sickness absence is a code none of ULHT's peers shares (tests/benchmarking/test_agreements.py has the agreements)."""
    ulht_only = AccessContext.for_orgs([org_ids["RWD"]])
    found = await _run(database, ulht_only, organisation_code="RWD", indicator_code="SICK", group="peers:ACUTE-PEERS")
    assert found.group.name == "Acute trust peers (Model Hospital)"
    assert [e.organisation_code for e in found.entries] == ["RWD"]
    assert found.not_agreed == ("The Robert Jones and Agnes Hunt Orthopaedic Hospital NHS Foundation Trust",
                                "The Shrewsbury and Telford Hospital NHS Trust")
    both = AccessContext.for_orgs([org_ids["RWD"], org_ids["RXW"]])  # a regional reader, say
    found = await _run(database, both, organisation_code="RWD", indicator_code="SICK", group="peers:ACUTE-PEERS")
    assert found.agreement_note == ("The Robert Jones and Agnes Hunt Orthopaedic Hospital NHS Foundation Trust has not agreed to share"
                                    " this indicator in Acute trust peers (Model Hospital).")
    expected = {code: value for code, value in (await _values_at(database, org_ids, "SICK", found.period)).items() if code in ("RWD", "RXW")}
    assert {e.organisation_code: e.value for e in found.entries if e.value is not None} == pytest.approx(expected)
    assert found.compared == len(expected)


async def test_a_commissioner_compares_its_providers_on_their_contractual_indicators_only(database, services, org_ids):
    icb = AccessContext(read_org_ids=frozenset({org_ids["QOC"]}), contract_org_ids=frozenset({org_ids["RXW"], org_ids["RL1"], org_ids["R1D"]}))
    found = await _run(database, icb, organisation_code="RXW", indicator_code="RTT18", group="providers:QOC")
    assert found.group.name.startswith("Providers ") and "contracts with" in found.group.name
    assert {e.organisation_code for e in found.entries} == {"RXW", "RL1"}  # SCHT does not report RTT18
    # A provider's non-contractual indicator is not the commissioner's to compare.
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        private = (await session.exec(text("select code from indicator where org_id = :o and source <> 'contractual' limit 1"),
                                      params={"o": org_ids["RXW"]})).scalar_one()
    assert await _run(database, icb, organisation_code="RXW", indicator_code=private) is None
    _, whssc = await act_as(database, services.authorizer, WHSSC)
    found = await _run(database, whssc, organisation_code="RL1", indicator_code="RTT18", group="providers:WHSSC")
    assert [e.organisation_code for e in found.entries] == ["RL1"]


async def test_the_benchmark_read_is_two_statements_however_many_peers(database, org_ids):
    everyone = AccessContext.for_orgs(org_ids.values())
    counts = {}
    for group in ("system:STW", "all"):
        async with database.session(everyone) as session:
            await session.exec(text("select 1"))  # the transaction and its access settings first
            with counted_statements(database) as statements:
                found = await benchmark(session, organisation_code="RXW", indicator_code="RTT18", readable_org_ids=everyone.read_org_ids, group=group)
            counts[group] = (len(statements), len(found.entries))
    assert counts["all"][1] > counts["system:STW"][1] >= 2
    assert counts["all"][0] == counts["system:STW"][0] == 2


async def test_the_page_shows_the_table_plot_and_method_and_is_linked_from_the_indicator(app):
    async with await fresh_client(app) as client:
        await login(client, LEAD)
        indicator = await client.get("/organisations/RXW/indicators/RTT18")
        assert 'href="/organisations/RXW/indicators/RTT18/benchmark"' in indicator.text
        page = await client.get("/organisations/RXW/indicators/RTT18/benchmark")
        assert page.status_code == 200
        assert 'role="img"' in page.text and "Benchmark strip plot" in page.text
        assert "(this organisation)" in page.text and "Quartiles" in page.text and "Hyndman and Fan type 7" in page.text
        assert 'name="group"' in page.text and "Rank" in page.text
        everyone = await client.get("/organisations/RXW/indicators/RTT18/benchmark?group=all")
        assert everyone.status_code == 200 and 'value="all" selected' in everyone.text
        # The period is chosen among the organisation's latest; an earlier one is compared at that period.
        periods = re.findall(r'<option value="(\d{4}-\d{2}-\d{2})"', page.text)
        assert len(periods) == 13 and periods == sorted(periods, reverse=True)
        earlier = await client.get(f"/organisations/RXW/indicators/RTT18/benchmark?period={periods[12]}")
        assert earlier.status_code == 200 and f'<option value="{periods[12]}" selected' in earlier.text
        assert (await client.get("/organisations/RXW/indicators/AE4H/benchmark?period=not-a-date")).status_code == 404
    async with await fresh_client(app) as trust:
        await login(trust, SATH_PERFORMANCE)
        page = await trust.get("/organisations/RXW/indicators/RTT18/benchmark")
        assert page.status_code == 200
        assert "Robert Jones" not in page.text and "Shropshire Community" not in page.text  # peers SaTH may not read
        assert (await trust.get("/organisations/RL1/indicators/RTT18/benchmark")).status_code == 404


QUERY = """query($org: String!, $code: String!, $group: String) { benchmark(organisationCode: $org, indicatorCode: $code, group: $group) {
  organisationCode indicatorCode polarity period group { key name } groups { key } organisationsCompared
  lowerQuartile median upperQuartile rank quartile method entries { organisationCode value rank quartile isSubject } } }"""


async def test_tools_get_the_same_benchmark_through_graphql(database, services):
    principal, access = await act_as(database, services.authorizer, LEAD)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    try:
        result = await schema.execute(QUERY, variable_values={"org": "RXW", "code": "RTT18", "group": None}, context_value=context)
    finally:
        await context.close()
    assert result.errors is None, result.errors
    answer = result.data["benchmark"]
    found = await _run(database, access, organisation_code="RXW", indicator_code="RTT18")
    assert found.compared >= 2
    assert answer["group"]["key"] == found.group.key and answer["organisationsCompared"] == found.compared
    assert (answer["lowerQuartile"], answer["median"], answer["upperQuartile"]) == pytest.approx(
        (found.quartiles.lower, found.quartiles.median, found.quartiles.upper))
    assert answer["rank"] == found.position.rank and answer["quartile"] == found.position.quarter
    assert [e["organisationCode"] for e in answer["entries"]] == [e.organisation_code for e in found.entries]
    assert "Hyndman and Fan type 7" in answer["method"]
    principal, access = await act_as(database, services.authorizer, ULHT)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    try:
        result = await schema.execute(QUERY, variable_values={"org": "RXW", "code": "AE4H", "group": "all"}, context_value=context)
    finally:
        await context.close()
    assert result.errors is None and result.data["benchmark"] is None
