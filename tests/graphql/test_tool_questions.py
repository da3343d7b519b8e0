"""The questions tools ask, each in one request with the caller's rights, at a constant number of SQL
statements however many objects the answer holds."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest_asyncio
from sqlalchemy import event, select, text

from server.auth.tokens import issue_token
from server.db.models import AppUser, HealthSystem

SYSTEM_POSITION = """
query($code: String!) {
  system(code: $code) {
    code name
    members { code isSystemOrganisation spectrum { level words } maturityLevel }
    position { latestPeriod memberCodes rows { code name unit cells { organisationCode reported period value target rag variation assurance periodsUnderTarget } } }
  }
}"""

ORGANISATIONS_WITH_LATEST = """
{ organisations(first: 20) { totalCount nodes { code indicators(filter: {key: true}, first: 100) { totalCount nodes { code unit polarity target latest { period value rag variation assurance } } } } } }
"""


async def _token(database, email: str, roles: list[str], *, org_code: str | None = None, system_code: str | None = None) -> str:
    from server.db.models import Organisation

    async with database.session() as session:
        user_id = (await session.exec(select(AppUser.id).where(AppUser.email == email))).scalar_one()
        org_id = (await session.exec(select(Organisation.id).where(Organisation.code == org_code))).scalar_one() if org_code else None
        system_id = (await session.exec(select(HealthSystem.id).where(HealthSystem.code == system_code))).scalar_one() if system_code else None
        issued = await issue_token(session, name="tool", user_id=user_id, roles=roles, org_id=org_id, system_id=system_id)
    return issued.secret


@pytest_asyncio.fixture(loop_scope="session")
async def system_token(database) -> str:
    return await _token(database, "stw.lead@accord.example", ["system_planning_lead"], system_code="STW")


@pytest_asyncio.fixture(loop_scope="session")
async def sath_token(database) -> str:
    return await _token(database, "sath.performance@accord.example", ["performance_manager"], org_code="RXW")


async def ask(client, token: str, query: str, variables: dict | None = None) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


@contextlib.contextmanager
def counted_statements(database) -> Iterator[list[str]]:
    """Every SQL statement the application engine sends while the block runs."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = database.app_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_system_position_is_one_request_with_every_member_and_verdict(client, system_token):
    data = await ask(client, system_token, SYSTEM_POSITION, {"code": "STW"})
    system = data["system"]
    assert system["code"] == "STW"
    members = system["position"]["memberCodes"]
    assert len(members) == len(set(members)) >= 4, "the system, the ICB and its three trusts"
    assert [m["code"] for m in system["members"]] == members
    assert system["members"][0]["isSystemOrganisation"] is True
    rows = system["position"]["rows"]
    assert rows, "STW's members report key indicators"
    assert all(len(row["cells"]) == len(members) for row in rows)
    assessed = [cell for row in rows for cell in row["cells"] if cell["period"]]
    assert assessed and {cell["rag"] for cell in assessed} <= {"RED", "AMBER", "GREEN", "NONE"}
    assert any(cell["variation"] != "NONE" for cell in assessed), "latest points carry Making Data Count verdicts"


@pytest_asyncio.fixture(loop_scope="session")
async def two_member_system(database) -> AsyncIterator[str]:
    """A second, smaller system (two of STW's members), with the planning lead's role in it."""
    async with database.owner_engine.begin() as connection:
        stw = (await connection.execute(text("select id from health_system where code = 'STW'"))).scalar_one()
        trusts = (await connection.execute(text(
            "select m.organisation_id from system_membership m join health_system s on s.id = m.system_id"
            " where m.system_id = :s and m.organisation_id <> s.organisation_id order by 1 limit 2"), {"s": stw})).scalars().all()
        system_id = (await connection.execute(text(
            "insert into health_system (code, name, organisation_id) values ('TWO', 'Two-member test system', :o) returning id"),
            {"o": trusts[0]})).scalar_one()
        await connection.execute(text("insert into system_membership values (:s, :o)"), {"s": system_id, "o": trusts[1]})
        await connection.execute(text(
            "insert into role_assignment (user_id, role, system_id) select id, 'system_planning_lead', :s from app_user"
            " where email = 'stw.lead@accord.example'"), {"s": system_id})
    try:
        yield await _token(database, "stw.lead@accord.example", ["system_planning_lead"], system_code="TWO")
    finally:
        async with database.owner_engine.begin() as connection:
            await connection.execute(text("delete from api_token where system_id = (select id from health_system where code = 'TWO')"))
            await connection.execute(text("delete from health_system where code = 'TWO'"))


async def test_system_position_costs_the_same_statements_for_any_number_of_members(client, system_token, two_member_system, database):
    await ask(client, system_token, "{ systems { nodes { code } } }")  # the directory changed: the first request reads it again
    await ask(client, two_member_system, "{ systems { nodes { code } } }")  # a token's first use notes it (once a minute)
    with counted_statements(database) as four_members:
        big = await ask(client, system_token, SYSTEM_POSITION, {"code": "STW"})
    with counted_statements(database) as two_members:
        small = await ask(client, two_member_system, SYSTEM_POSITION, {"code": "TWO"})
    assert len(big["system"]["members"]) == 5 and len(small["system"]["members"]) == 2
    assert len(four_members) == len(two_members), (four_members, two_members)
    with counted_statements(database) as one_field:
        await ask(client, system_token, "query($code: String!) { system(code: $code) { position { rows { code } } } }", {"code": "STW"})
    assert len(four_members) == len(one_field), "members and position share one read of the matrix"


async def test_organisations_with_latest_ratings_cost_one_statement_per_level(client, system_token, sath_token, database):
    await ask(client, system_token, "{ systems { nodes { code } } }")  # a directory changed by an earlier test is read again once
    await ask(client, sath_token, "{ systems { nodes { code } } }")  # a token's first use notes it (once a minute)
    with counted_statements(database) as five:
        many = await ask(client, system_token, ORGANISATIONS_WITH_LATEST)
    with counted_statements(database) as one:
        single = await ask(client, sath_token, ORGANISATIONS_WITH_LATEST)
    assert many["organisations"]["totalCount"] >= 4 and single["organisations"]["totalCount"] == 1
    assert len(five) == len(one), (len(five), len(one))
    indicators = [i for o in many["organisations"]["nodes"] for i in o["indicators"]["nodes"]]
    assert indicators and all(i["latest"] is None or i["latest"]["rag"] in {"RED", "AMBER", "GREEN", "NONE"} for i in indicators)


async def test_a_series_of_five_years_at_organisation_level_has_ratings_and_limits(client, sath_token):
    query = """query { organisation(code: "RXW") { indicators(filter: {key: true}, first: 3) { nodes { code
        series(from: "2025-01-01", to: "2026-11-01") { period value numerator denominator target rag mean lowerLimit upperLimit pointType isLatest variation } } } } }"""
    data = await ask(client, sath_token, query)
    for indicator in data["organisation"]["indicators"]["nodes"]:
        series = indicator["series"]
        assert series, indicator["code"]
        periods = [p["period"] for p in series]
        assert periods == sorted(periods) and periods[0] >= "2025-01-01" and periods[-1] <= "2026-11-01"
        assert sum(p["isLatest"] for p in series) <= 1
        assert all(p["mean"] is not None for p in series), "every stored point has its segment's mean"
        latest = [p for p in series if p["isLatest"]]
        assert not latest or latest[0]["variation"] != "NONE"


async def test_a_series_at_one_unit_is_that_units_stored_series(client, sath_token, database, org_ids):
    from server.db.session import AccessContext

    query = """query { organisation(code: "RXW") { units { code parentCode } indicators(filter: {key: true}, first: 1) { nodes { code
        whole: series { period value } } } } }"""
    data = await ask(client, sath_token, query)
    leaf = next(u["code"] for u in data["organisation"]["units"] if u["parentCode"] is not None)
    code = data["organisation"]["indicators"]["nodes"][0]["code"]
    unit_query = """query($unit: String!, $code: String!) { organisation(code: "RXW") { indicator(code: $code) { series(unitCode: $unit) { period value } } } }"""
    unit_data = await ask(client, sath_token, unit_query, {"unit": leaf, "code": code})
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        stored = (await session.exec(text(
            "select a.period, a.value from assessment a join indicator i on i.id = a.indicator_id join org_unit u on u.id = a.unit_id"
            " where i.org_id = :org and i.code = :code and u.code = :unit order by a.period"),
            params={"org": org_ids["RXW"], "code": code, "unit": leaf})).all()
    assert stored, "the demo data records key indicators at SaTH's wards"
    assert [(p["period"], p["value"]) for p in unit_data["organisation"]["indicator"]["series"]] == \
        [(period.isoformat(), value) for period, value in stored]
    unknown = await ask(client, sath_token, unit_query, {"unit": "NOT-A-UNIT", "code": code})
    assert unknown["organisation"]["indicator"]["series"] == []


async def test_indicator_comparison_ranks_every_readable_organisation_once(client, system_token, sath_token):
    first = await ask(client, system_token, '{ organisations(first: 20) { nodes { code indicators(first: 500) { nodes { code } } } } }')
    codes_by_org = {o["code"]: {i["code"] for i in o["indicators"]["nodes"]} for o in first["organisations"]["nodes"]}
    shared = set.intersection(*[c for c in codes_by_org.values() if c])
    code = sorted(shared)[0] if shared else next(iter(next(iter(codes_by_org.values()))))
    data = await ask(client, system_token, "query($c: String!) { indicatorComparison(code: $c) { code organisationsReporting median entries { organisationCode value rank quartile rag } } }", {"c": code})
    comparison = data["indicatorComparison"]
    organisations = [e["organisationCode"] for e in comparison["entries"]]
    assert len(organisations) == len(set(organisations)) >= 1
    ranks = sorted(e["rank"] for e in comparison["entries"] if e["rank"] is not None)
    assert ranks == list(range(1, comparison["organisationsReporting"] + 1))
    own = await ask(client, sath_token, "query($c: String!) { indicatorComparison(code: $c) { entries { organisationCode } } }", {"c": code})
    assert {e["organisationCode"] for e in (own["indicatorComparison"] or {"entries": []})["entries"]} <= {"RXW"}


async def test_a_system_the_caller_cannot_read_is_null(client, sath_token):
    data = await ask(client, sath_token, SYSTEM_POSITION, {"code": "STW"})
    assert data["system"] is None


async def test_escalations_filter_by_status_and_level_and_page_with_cursors(client, system_token):
    query = """query($after: String) { escalations(minLevel: 1, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id level status history { event at } } } }"""
    page = (await ask(client, system_token, query))["escalations"]
    assert all(node["level"] >= 1 for node in page["nodes"])
    seen = [node["id"] for node in page["nodes"]]
    while page["pageInfo"]["hasNextPage"]:
        page = (await ask(client, system_token, query, {"after": page["pageInfo"]["endCursor"]}))["escalations"]
        seen += [node["id"] for node in page["nodes"]]
    assert len(seen) == len(set(seen)) == page["totalCount"]


async def test_a_cursor_that_was_not_given_is_refused_with_a_clear_message(client, sath_token):
    response = await client.post("/graphql", json={"query": '{ organisations(after: "nonsense") { totalCount } }'},
                                 headers={"Authorization": f"Bearer {sath_token}"})
    errors = response.json()["errors"]
    assert "not a cursor" in errors[0]["message"]


async def test_plans_with_partners_trajectory_and_actions(client, system_token, database, services):
    from server.plans.create import PlanDraft, create_plan
    from tests.plans.test_workflow import LEAD, run

    created = await run(database, services, LEAD, create_plan, draft=PlanDraft(
        owner_code="STW", kind="spip", title="Elective recovery for tools", sro="COO", partner_codes=["RXW", "RL1"],
        trajectory={"2026-04-01": "0.7", "2026-05-01": "0.72"}))
    data = await ask(client, system_token, "{ plans(first: 200) { totalCount nodes { id kind status ownerCode partners { organisationCode agreed } trajectory { period planned actual } actions { description status } history { event } stepsYouMayTake } } }")
    plans = {plan["id"]: plan for plan in data["plans"]["nodes"]}
    assert all(plan["kind"] in {"RECOVERY", "EXCEPTION", "SPIP"} for plan in plans.values())
    ours = plans[created.plan.id]
    assert ours["status"] == "DRAFT" and ours["ownerCode"] == "STW"
    assert {p["organisationCode"]: p["agreed"] for p in ours["partners"]} == {"RXW": False, "RL1": False}
    assert [t["planned"] for t in ours["trajectory"]] == [0.7, 0.72]
    assert [h["event"] for h in ours["history"]][:1] == ["drafted"]


async def test_a_page_of_plans_costs_the_same_statements_as_one_plan(client, system_token, database, services):
    from server.plans.create import PlanDraft, create_plan
    from tests.plans.test_workflow import LEAD, run

    query = "query($n: Int!) { plans(first: $n) { nodes { id partners { organisationCode } trajectory { period } actions { id } history { event } } } }"
    for title in ("Urgent care recovery for tools", "Diagnostics recovery for tools"):  # several plans whatever ran before
        await run(database, services, LEAD, create_plan, draft=PlanDraft(
            owner_code="STW", kind="spip", title=title, sro="COO", partner_codes=["RXW"], trajectory={"2026-04-01": "0.7"}))
    await ask(client, system_token, query, {"n": 1})
    with counted_statements(database) as one:
        single = await ask(client, system_token, query, {"n": 1})
    with counted_statements(database) as many:
        several = await ask(client, system_token, query, {"n": 50})
    assert len(single["plans"]["nodes"]) == 1 and len(several["plans"]["nodes"]) > 1
    # One statement per level, whatever the page: a plan reading per plan would add one per plan. A
    # level the single newest plan has no rows for may be skipped for it (the whole suite's plans
    # left one such case: 13 against 14), so the page may cost one more, never more than that.
    assert len(one) <= len(many) <= len(one) + 1, (len(one), len(many))


TARGET_SHAPES = {
    "nodes": '{ organisation(code: "RXW") { indicators(first: 30) { nodes { code target } } } }',
    "edges": '{ organisation(code: "RXW") { indicators(first: 30) { edges { node { code target } } } } }',
    "fragment": '{ organisation(code: "RXW") { indicators(first: 30) { nodes { ...T } } } } fragment T on Indicator { code target }',
    "inline and alias": '{ organisation(code: "RXW") { indicators(first: 30) { nodes { ... on Indicator { code inForce: target } } } } }',
}


async def test_the_target_in_force_is_read_only_when_asked_for_and_answered_the_same_in_every_shape(client, sath_token, database):
    await ask(client, sath_token, "{ __typename }")  # a token's first use notes it (once a minute)
    answers = {}
    for shape, query in TARGET_SHAPES.items():
        with counted_statements(database) as statements:
            organisation = (await ask(client, sath_token, query))["organisation"]
        nodes = organisation["indicators"].get("nodes") or [edge["node"] for edge in organisation["indicators"]["edges"]]
        answers[shape] = {node["code"]: node.get("target", node.get("inForce")) for node in nodes}
        assert any("from target t" in statement for statement in statements), shape
    assert len({tuple(sorted(answer.items())) for answer in answers.values()}) == 1, answers
    assert any(target is not None for target in answers["nodes"].values()), "SaTH's indicators have targets"
    code, target = next((code, target) for code, target in answers["nodes"].items() if target is not None)
    single = await ask(client, sath_token, 'query($c: String!) { organisation(code: "RXW") { indicator(code: $c) { target } } }', {"c": code})
    assert single["organisation"]["indicator"]["target"] == target

    with counted_statements(database) as statements:
        latest_only = (await ask(client, sath_token, '{ organisation(code: "RXW") { indicators(first: 30) { nodes { code latest { target } } } } }'))
    assert not any("from target t" in statement for statement in statements), "a rating's own target needs no look-up of targets"
    assert any(node["latest"] and node["latest"]["target"] is not None for node in latest_only["organisation"]["indicators"]["nodes"])


def test_a_comparison_ranks_best_first_by_polarity_keeping_ties_in_order_and_skipping_missing_values():
    import datetime as dt

    from server.reporting.comparison import _comparison

    def row(org: str, value: float | None) -> tuple:
        return ("WAIT", org, f"{org} trust", "Longest wait", "count", "lower_is_better", dt.date(2026, 10, 1), value, 10.0,
                "red", "none", "none", 2)

    found = _comparison("WAIT", [row("A", 30.0), row("B", None), row("C", 10.0), row("D", 30.0), row("E", 20.0)], None)
    assert [(e.organisation_code, e.rank) for e in found.entries] == [("A", 3), ("B", None), ("C", 1), ("D", 4), ("E", 2)]
    assert (found.lower_quartile, found.median, found.upper_quartile, found.organisations_reporting) == (17.5, 25.0, 30.0, 4)
    assert [e.quartile for e in found.entries] == [3, None, 1, 3, 2]  # lower is better: the lowest values are quarter 1
    nothing = _comparison("WAIT", [row("B", None)], None)
    assert nothing.organisations_reporting == 0 and nothing.entries[0].rank is None and nothing.median is None
