"""Lists written from plain rows (schema/prerender.py) answer exactly what the ordinary path answers.

Each document is asked twice through the HTTP endpoint, with the row path on and off, and the
answers must be equal (numbers compared as numbers). The documents cover what the translation must honour: aliases, fragments, inline
fragments, ``__typename``, ``@include``/``@skip`` with variables, every column of the shape, enums,
nulls (no latest rating), filters, pages after a cursor, an empty page, and selections that must
fall back (edges, a field with a resolver).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import pytest_asyncio
from starlette.routing import Route

from tests.graphql.test_tool_questions import _token, counted_statements

EVERY_COLUMN = """
query {
  organisation(code: "RXW") {
    indicators(first: 500) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes {
        __typename organisationCode code name definition unit polarity rollup frequency source isKey owner cohort
        domainCode domainName target
        latest { __typename period value target trajectory rag variation assurance periodsUnderTarget failureForecast maskedFailure ruleSet }
      }
    }
  }
}"""

SHAPES = """
query($withLatest: Boolean!, $skipName: Boolean!) {
  system(code: "STW") {
    organisations {
      code
      indicators(filter: {key: true}, first: 7) {
        totalCount
        items: nodes {
          ...Names
          ... on Indicator { shortCode: code }
          latest @include(if: $withLatest) { ...Verdicts when: period }
        }
      }
    }
  }
}
fragment Names on Indicator { code name @skip(if: $skipName) unit }
fragment Verdicts on LatestRating { rag variation assurance value }
"""

PAGES = """
query($after: String) {
  organisation(code: "RXW") {
    indicators(first: 4, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { code latest { rag } } }
  }
}"""

FALLBACKS = [
    '{ organisation(code: "RXW") { indicators(first: 3) { edges { cursor node { code } } nodes { code } } } }',
    '{ organisation(code: "RXW") { indicators(first: 2) { nodes { code series(from: "2026-01-01") { period value rag } } } } }',
    '{ organisation(code: "RXW") { a: indicators(first: 2) { nodes { code } } b: indicators(first: 3, filter: {domain: "nope"}) { totalCount nodes { code } } } }',
    '{ organisation(code: "RXW") { indicators(first: 2) { first: nodes { code } second: nodes { name } } } }',
]


@pytest_asyncio.fixture(loop_scope="session")
async def reader_token(database) -> str:
    return await _token(database, "stw.lead@accord.example", ["system_planning_lead"], system_code="STW")


@pytest_asyncio.fixture(loop_scope="session")
async def trust_token(database) -> str:
    return await _token(database, "sath.performance@accord.example", ["performance_manager"], org_code="RXW")


@contextlib.contextmanager
def sql_json(app, enabled: bool) -> Iterator[None]:  # type: ignore[no-untyped-def]
    view = next(route.app for route in app.routes if isinstance(route, Route) and route.path == "/graphql")
    before, view.sql_json = view.sql_json, enabled
    try:
        yield
    finally:
        view.sql_json = before


async def both(app, client, token: str, query: str, variables: dict | None = None) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    answers = []
    for enabled in (True, False):
        with sql_json(app, enabled):
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                         headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers[0], answers[1]


def _numbers_as_floats(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {key: _numbers_as_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


async def test_every_column_matches_the_ordinary_path(app, client, trust_token) -> None:
    fast, ordinary = await both(app, client, trust_token, EVERY_COLUMN)
    assert "errors" not in ordinary
    nodes = ordinary["data"]["organisation"]["indicators"]["nodes"]
    assert len(nodes) > 10 and any(n["latest"] for n in nodes) and any(n["target"] is not None for n in nodes)
    assert list(fast["data"]["organisation"]["indicators"]["nodes"][0]) == list(nodes[0])  # the selection's order
    assert _numbers_as_floats(fast) == _numbers_as_floats(ordinary)


@pytest.mark.parametrize("with_latest,skip_name", [(True, False), (False, True)])
async def test_fragments_aliases_and_directives_match(app, client, reader_token, with_latest: bool, skip_name: bool) -> None:
    variables = {"withLatest": with_latest, "skipName": skip_name}
    fast, ordinary = await both(app, client, reader_token, SHAPES, variables)
    assert "errors" not in ordinary
    first = ordinary["data"]["system"]["organisations"][0]["indicators"]["items"][0]
    assert ("latest" in first) is with_latest and ("name" in first) is not skip_name and "shortCode" in first
    assert _numbers_as_floats(fast) == _numbers_as_floats(ordinary)


async def test_pages_after_a_cursor_match_to_the_end(app, client, trust_token) -> None:
    after, pages = None, 0
    while True:
        fast, ordinary = await both(app, client, trust_token, PAGES, {"after": after})
        assert _numbers_as_floats(fast) == _numbers_as_floats(ordinary)
        page = ordinary["data"]["organisation"]["indicators"]
        pages += 1
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert pages > 2
    beyond = await both(app, client, trust_token, PAGES, {"after": after})  # past the end: an empty page
    assert beyond[0] == beyond[1] and beyond[1]["data"]["organisation"]["indicators"]["nodes"] == []


@pytest.mark.parametrize("query", FALLBACKS)
async def test_selections_the_translation_does_not_cover_answer_the_same(app, client, trust_token, query: str) -> None:
    fast, ordinary = await both(app, client, trust_token, query)
    assert "errors" not in ordinary, ordinary
    assert _numbers_as_floats(fast) == _numbers_as_floats(ordinary)


async def test_a_system_position_is_one_statement_for_its_indicators_whatever_the_members(app, client, reader_token, database) -> None:
    query = '{ system(code: "STW") { organisations { code indicators(first: 250) { nodes { code latest { rag value } } } } } }'
    with sql_json(app, True), counted_statements(database) as statements:
        response = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {reader_token}"})
    assert response.status_code == 200 and len(response.json()["data"]["system"]["organisations"]) >= 5
    assert sum("row_number() over (partition by i.org_id" in statement for statement in statements) == 1
    # Authentication and the read share one transaction: one BEGIN's worth of access settings for
    # the boundary and one for the request's rights, no second transaction.
    assert sum("set_config('app.org_ids'" in statement for statement in statements) == 2
