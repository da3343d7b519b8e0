"""The API page: documentation and a read-only explorer that runs as the signed-in person."""
from __future__ import annotations

import html

from tests.conftest import login


async def test_a_browser_opening_graphql_is_sent_to_the_api_page(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["location"] == "/api"


async def test_the_explorer_answers_with_the_persons_own_rights(client):
    await login(client, "sath.exec@accord.example")
    page = await client.get("/api", params={"query": '{ organisations { nodes { code } } }'})
    assert page.status_code == 200
    answer = html.unescape(page.text)
    assert '"code": "RXW"' in answer and '"code": "RWD"' not in answer
    assert "type Query" in answer, "the page shows the schema"


async def test_the_explorer_refuses_mutations_and_names_bad_variables(client):
    await login(client, "sath.exec@accord.example")
    mutation = await client.get("/api", params={"query": 'mutation { agreePlan(planId: 1, partnerCode: "RXW", version: 1) { __typename } }'})
    assert "runs queries only" in mutation.text
    bad = await client.get("/api", params={"query": "query($s: String!) { system(code: $s) { name } }", "variables": "{nope"})
    assert "The variables are not JSON" in bad.text and "nhsuk-error-message" in bad.text


async def test_the_api_page_needs_a_login(client):
    response = await client.get("/api")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
