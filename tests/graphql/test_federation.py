"""Accord is a Federation v2 subgraph: its SDL composes with another subgraph under Apollo's own
composition library (npm @apollo/composition, run with node), and its entities carry the agreed keys."""
from __future__ import annotations

import json

from graphql import ObjectTypeDefinitionNode, StringValueNode, parse

from tests.graphql.http_audit.node import run_script
from tests.graphql.test_http import post, token  # noqa: F401 (token is a fixture)

# The keys agreed for Accord's entities: a supergraph joins other subgraphs' data on them.
AGREED_KEYS = {"Organisation": "code", "System": "code", "Indicator": "organisationCode code"}

# A second subgraph a region might run: staffing figures per organisation, joined on Accord's key.
WORKFORCE_EXTENDING_ORGANISATION = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

type Organisation @key(fields: "code") {
  code: String!
  staffInPost: Int
  vacancyRate: Float
}

type Query {
  workforceReportingPeriod: String
}
"""
# Before Accord declared its keys: a subgraph of its own types only.
WORKFORCE_ALONE = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

type StaffGroup @key(fields: "code") {
  code: String!
  headcount: Int
}

type Query {
  staffGroups: [StaffGroup!]!
}
"""


def entity_keys(sdl: str) -> dict[str, list[str]]:
    """Type name -> the fields of each @key on it."""
    keys: dict[str, list[str]] = {}
    for definition in parse(sdl).definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            for directive in definition.directives or ():
                if directive.name.value == "key":
                    [fields] = [a.value for a in directive.arguments if a.name.value == "fields"]
                    assert isinstance(fields, StringValueNode)
                    keys.setdefault(definition.name.value, []).append(fields.value)
    return keys


async def compose(*subgraphs: tuple[str, str]) -> dict:
    payload = [{"name": name, "url": f"http://{name}.invalid/graphql", "sdl": sdl} for name, sdl in subgraphs]
    return await run_script("compose.mjs", stdin=json.dumps(payload))


async def test_the_served_sdl_is_the_schema_and_declares_federation_v2(client, token):  # noqa: F811
    from schema.app import schema

    response = await post(client, token, {"query": "{ _service { sdl } }"})
    sdl = response.json()["data"]["_service"]["sdl"]
    assert 'specs.apollo.dev/federation/v2.11' in sdl
    assert parse(sdl) and parse(schema.as_str())


async def test_accord_composes_with_a_workforce_subgraph(client, token):  # noqa: F811
    sdl = (await post(client, token, {"query": "{ _service { sdl } }"})).json()["data"]["_service"]["sdl"]
    keyed = "code" in entity_keys(sdl).get("Organisation", [])
    workforce = WORKFORCE_EXTENDING_ORGANISATION if keyed else WORKFORCE_ALONE
    result = await compose(("accord", sdl), ("workforce", workforce))
    assert not result["errors"], "composition failed:\n" + "\n".join(result["errors"])
    supergraph = result["supergraphSdl"]
    if keyed:
        organisation = supergraph[supergraph.index("type Organisation"):]
        organisation = organisation[:organisation.index("\n}")]
        assert '@join__type(graph: ACCORD, key: "code")' in organisation
        assert '@join__type(graph: WORKFORCE, key: "code")' in organisation
        assert "staffInPost: Int @join__field(graph: WORKFORCE)" in organisation


async def test_composition_errors_fail_the_check(client, token):  # noqa: F811
    """The check is not vacuous: a subgraph that clashes with Accord's types does not compose."""
    sdl = (await post(client, token, {"query": "{ _service { sdl } }"})).json()["data"]["_service"]["sdl"]
    clashing = WORKFORCE_ALONE.replace("type Query {", "type Query {\n  organisation(code: Int!): Int")
    result = await compose(("accord", sdl), ("workforce", clashing))
    assert result["errors"]


def test_entities_carry_the_agreed_keys():
    from schema.app import schema

    keys = entity_keys(schema.as_str())
    for type_name, fields in AGREED_KEYS.items():
        if type_name in keys:  # every entity, once declared, is keyed as agreed
            assert keys[type_name] == [fields], f"{type_name} is keyed on {keys[type_name]}, agreed: {fields}"


async def test_entities_are_resolved_only_where_the_caller_may_read(client, token):  # noqa: F811
    query = """query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Organisation { code } } }"""
    representations = [{"__typename": "Organisation", "code": "RXW"}, {"__typename": "Organisation", "code": "RWD"}]
    response = await post(client, token, {"query": query, "variables": {"representations": representations}})
    assert response.json()["data"]["_entities"] == [{"code": "RXW"}, None], response.text
    anonymous = await post(client, None, {"query": query, "variables": {"representations": representations[:1]}})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", anonymous.text


async def test_an_indicator_entity_resolves_with_its_fields_where_the_caller_may_read(client, token):  # noqa: F811
    listed = await post(client, token, {"query": '{ organisation(code: "RXW") { indicators(first: 1) { nodes { code name latest { rag } } } } }'})
    first = listed.json()["data"]["organisation"]["indicators"]["nodes"][0]
    query = """query($representations: [_Any!]!) { _entities(representations: $representations) {
        ... on Indicator { organisationCode code name target latest { rag } } } }"""
    representations = [{"__typename": "Indicator", "organisationCode": "RXW", "code": first["code"]},
                        {"__typename": "Indicator", "organisationCode": "RWD", "code": first["code"]}]
    response = await post(client, token, {"query": query, "variables": {"representations": representations}})
    found, hidden = response.json()["data"]["_entities"]
    assert hidden is None, response.text
    assert (found["organisationCode"], found["code"], found["name"], found["latest"]) == ("RXW", first["code"], first["name"], first["latest"])
