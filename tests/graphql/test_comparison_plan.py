"""A comparison's entries written straight to JSON (schema/prerender.py ``list_plan``) answer exactly
what the ordinary path answers: every field, aliases, fragments, ``__typename``, a period asked
for, and the selections that must fall back (the list asked for twice under different names)."""
from __future__ import annotations

import pytest
import pytest_asyncio

from tests.graphql.test_prerender import _numbers_as_floats, both
from tests.graphql.test_tool_questions import _token

EVERY_FIELD = """
query($c: [String!]!) {
  indicatorComparisons(codes: $c) {
    code name unit polarity period organisationsReporting lowerQuartile median upperQuartile notes
    entries { __typename organisationCode organisationName indicatorName period value target rag variation assurance periodsUnderTarget rank quartile }
  }
}"""

SHAPES = """
query($c: [String!]!, $p: Date, $withRank: Boolean!) {
  indicatorComparisons(codes: $c, period: $p) {
    code
    rows: entries { ...Who place: rank @include(if: $withRank) ... on ComparisonEntry { q: quartile rag } }
  }
}
fragment Who on ComparisonEntry { organisationCode value }
"""

FALLBACK = 'query($c: [String!]!) { indicatorComparisons(codes: $c) { a: entries { organisationCode } b: entries { rank value } } }'


@pytest_asyncio.fixture(loop_scope="session")
async def reader_token(database) -> str:
    return await _token(database, "stw.lead@accord.example", ["system_planning_lead"], system_code="STW")


@pytest_asyncio.fixture(loop_scope="session")
async def codes(client, reader_token) -> list[str]:
    response = await client.post("/graphql", json={"query": '{ organisations(first: 20) { nodes { indicators(first: 500) { nodes { code } } } } }'},
                                 headers={"Authorization": f"Bearer {reader_token}"})
    found = [i["code"] for o in response.json()["data"]["organisations"]["nodes"] for i in o["indicators"]["nodes"]]
    return sorted(set(found))[:12]


async def test_every_field_of_a_comparison_matches_the_ordinary_path(app, client, reader_token, codes) -> None:
    fast, ordinary = await both(app, client, reader_token, EVERY_FIELD, {"c": codes})
    assert "errors" not in ordinary
    entries = [e for c in ordinary["data"]["indicatorComparisons"] for e in c["entries"]]
    assert len(entries) > 10 and any(e["rank"] for e in entries) and any(e["value"] is None or e["quartile"] for e in entries)
    assert list(fast["data"]["indicatorComparisons"][0]["entries"][0]) == list(entries[0])  # the selection's order
    assert _numbers_as_floats(fast) == _numbers_as_floats(ordinary)


@pytest.mark.parametrize("period,with_rank", [(None, True), ("2026-06-01", False)])
async def test_aliases_fragments_directives_and_a_period_match(app, client, reader_token, codes, period, with_rank: bool) -> None:
    fast, ordinary = await both(app, client, reader_token, SHAPES, {"c": codes, "p": period, "withRank": with_rank})
    assert "errors" not in ordinary
    first = ordinary["data"]["indicatorComparisons"][0]["rows"][0]
    assert ("place" in first) is with_rank and "q" in first and "organisationCode" in first
    assert _numbers_as_floats(fast) == _numbers_as_floats(ordinary)


async def test_an_entries_list_asked_twice_answers_the_same_through_the_ordinary_path(app, client, reader_token, codes) -> None:
    fast, ordinary = await both(app, client, reader_token, FALLBACK, {"c": codes})
    assert "errors" not in ordinary
    assert fast == ordinary
