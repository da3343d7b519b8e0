"""Limits: an estimated cost and a depth checked before anything runs (introspection included),
introspection off in production unless switched on, and a token bucket per caller."""
from __future__ import annotations

import strawberry
from graphql import get_introspection_query, parse
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

from schema.limits import CostEstimate, GraphQLLimits, RateLimiter, RequestLimits, limits_in_force
from server.settings import Settings
from tests.graphql.test_http import app_with, client_for, post, token  # noqa: F401 (token is a fixture)

LARGE = 'organisation(code: "RXW") { indicators(first: 250) { nodes { code series { period value rag mean } } } }'


# --- the estimate ----------------------------------------------------------------------------------


@strawberry.type
class Point:
    value: float


@strawberry.type
class Series:
    @strawberry.field
    def points(self, first: int = 10) -> list[Point]:
        return []

    @strawberry.field(metadata={"max_items": 3})
    def owners(self) -> list[str]:
        return []

    @strawberry.field
    def tags(self) -> list[str]:
        return []


@strawberry.type
class Query:
    @strawberry.field
    def series(self, limit: int | None = None) -> list[Series]:
        return []


SMALL = strawberry.Schema(Query)._schema


def cost(document: str, variables: dict | None = None) -> int:
    parsed = parse(document)
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    [operation] = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    return CostEstimate(SMALL, fragments, variables or {}, default_list_size=100).selection(operation.selection_set, SMALL.query_type, None)


def test_a_list_without_a_size_costs_the_default_list_size_at_each_level():
    assert cost("{ series { tags } }") == 100 * (1 + 100)


def test_first_and_limit_size_their_lists_from_the_query_its_variables_or_the_argument_default():
    assert cost("{ series(limit: 2) { points(first: 5) { value } } }") == 2 * (1 + 5 * (1 + 1))
    assert cost("query($n: Int) { series(limit: $n) { points { value } } }", {"n": 1}) == 1 * (1 + 10 * 2)


def test_a_field_can_declare_how_many_items_its_list_holds():
    assert cost("{ series(limit: 4) { owners } }") == 4 * (1 + 3)


def test_aliases_and_fragments_count_every_time_they_are_used():
    one = cost("{ series(limit: 1) { tags } }")
    assert cost("{ a: series(limit: 1) { tags } b: series(limit: 1) { tags } }") == 2 * one
    assert cost("{ ...F } fragment F on Query { series(limit: 1) { tags } }") == one


# --- over HTTP, against Accord's schema ------------------------------------------------------------


async def test_thirty_aliases_of_a_large_query_are_refused_before_anything_runs(client, token):  # noqa: F811
    aliases = " ".join(f"a{i}: {LARGE}" for i in range(30))
    response = await post(client, token, {"query": f"query Everything {{ {aliases} }}"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED" and error["extensions"]["cost"] > error["extensions"]["maxCost"]
    assert error["message"].startswith("'Everything' could return about") and "first/limit" in error["message"]


async def test_a_realistic_read_is_within_budget(client, token):  # noqa: F811
    query = """{ organisation(code: "RXW") { indicators(first: 20) { nodes { code
      series { period value numerator denominator target trajectory rag mean lowerLimit upperLimit pointType } } } } }"""
    response = await post(client, token, {"query": query})
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


@strawberry.type
class Node:
    name: str = "node"

    @strawberry.field
    def child(self) -> Node | None:
        return Node()


@strawberry.type
class NodeQuery:
    @strawberry.field
    def root(self) -> Node:
        return Node()


RECURSIVE = strawberry.Schema(NodeQuery, extensions=[RequestLimits])


def nested(levels: int) -> str:
    """``levels`` fields deep, counting the leaf: { root { child { ... { name } } } }."""
    return "{ root " + "{ child " * (levels - 2) + "{ name }" + " }" * (levels - 2) + " }"


async def test_depth_is_limited_before_anything_runs():
    with limits_in_force(GraphQLLimits(max_depth=10)):
        allowed = await RECURSIVE.execute(nested(10))
        refused = await RECURSIVE.execute(nested(11))
    assert allowed.errors is None
    assert refused.data is None
    [error] = refused.errors
    assert error.extensions["code"] == "DEPTH_LIMIT_EXCEEDED" and "nests more than 10 levels deep at 'root'" in error.message


async def test_fragments_that_spread_each_other_are_refused_without_walking_forever():
    cyclic = "{ root { ...A } } fragment A on Node { child { ...A } }"
    result = await RECURSIVE.execute(cyclic)
    assert result.data is None and any("Cannot spread fragment 'A' within itself" in e.message for e in result.errors)


def test_a_fragment_spread_many_times_is_estimated_without_walking_every_path():
    fragments = " ".join(f"fragment F{i} on Series {{ ...F{i + 1} ...F{i + 1} tags }}" for i in range(40))
    assert cost("{ series(limit: 1) { ...F0 } } " + fragments + " fragment F40 on Series { owners }") == 1 * (1 + 40 * 100 + 3)


async def test_introspection_is_limited_in_depth_but_the_standard_query_passes(client, token):  # noqa: F811
    standard = await post(client, token, {"query": get_introspection_query()})
    assert standard.status_code == 200 and "errors" not in standard.json()
    bomb = "{ __schema { types { fields { type " + "{ ofType " * 14 + "{ name }" + " }" * 14 + " } } } }"
    response = await post(client, token, {"query": bomb})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED" and "introspection" in error["message"]


async def test_introspection_can_be_switched_off(database, test_settings, token):  # noqa: F811
    app = app_with(database, test_settings, graphql_introspection=False)
    async with client_for(app) as http:
        refused = await post(http, token, {"query": "{ __schema { queryType { name } } }"})
        allowed = await post(http, token, {"query": "{ __typename }"})
    assert refused.status_code == 400 and "introspection has been disabled" in refused.json()["errors"][0]["message"]
    assert allowed.status_code == 200


def test_introspection_is_off_in_production_unless_a_setting_turns_it_on():
    production = {"environment": "production", "secret_key": "a-real-secret-for-this-test"}
    assert not Settings(**production).graphql_introspection_enabled
    assert Settings(**production, graphql_introspection=True).graphql_introspection_enabled
    assert Settings(environment="development").graphql_introspection_enabled


# --- the rate ----------------------------------------------------------------------------------------


def test_a_token_bucket_allows_a_burst_then_the_steady_rate():
    limiter = RateLimiter(rate=1.0, burst=2)
    assert limiter.take("token:1", now=0.0) is None
    assert limiter.take("token:1", now=0.0) is None
    assert limiter.take("token:1", now=0.0) == 1.0
    assert limiter.take("token:2", now=0.0) is None, "buckets are per caller"
    assert limiter.take("token:1", now=0.5) == 0.5
    assert limiter.take("token:1", now=1.0) is None
