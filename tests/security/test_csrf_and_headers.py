"""Cross-site request forgery is refused; every response carries the security headers; no page
needs inline script (so the CSP can forbid it)."""
from __future__ import annotations

import re

import pytest

from server.web.routes import page_routes
from server.settings import PROJECT_ROOT
from tests.conftest import csrf_from, login

REQUIRED_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


async def _logged_in(client, email: str = "sath.exec@accord.example") -> str:
    await login(client, email)
    return csrf_from((await client.get("/")).text)


@pytest.mark.parametrize("how", ["no token", "wrong form token", "wrong header", "non-ascii token", "anonymous cookie token"])
async def test_a_logged_in_post_without_the_right_csrf_token_is_refused(client, how):
    token = await _logged_in(client)
    data, headers = {}, {}
    if how == "wrong form token":
        data["csrf_token"] = token[:-2] + "xx"
    elif how == "wrong header":
        headers["X-CSRF-Token"] = "not-" + token
    elif how == "non-ascii token":
        data["csrf_token"] = "é" * len(token)
    elif how == "anonymous cookie token":  # the pre-login double-submit value is not the session's token
        data["csrf_token"] = client.cookies.get("accord_csrf")
    response = await client.post("/logout", data=data, headers=headers)
    assert response.status_code == 403
    assert (await client.get("/")).status_code == 200, "the session must survive a forged logout"


@pytest.mark.parametrize("how", ["form", "header"])
async def test_the_right_csrf_token_is_accepted_as_a_form_field_or_a_header(client, how):
    token = await _logged_in(client)
    if how == "form":
        response = await client.post("/logout", data={"csrf_token": token})
    else:
        response = await client.post("/logout", headers={"X-CSRF-Token": token})
    assert response.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_graphql_posts_with_a_session_cookie_need_the_csrf_header(client):
    token = await _logged_in(client)
    query = {"query": "{ organisations { nodes { code } } }"}
    assert (await client.post("/graphql", json=query)).status_code == 403
    assert (await client.post("/graphql", json=query, headers={"X-CSRF-Token": "wrong"})).status_code == 403
    response = await client.post("/graphql", json=query, headers={"X-CSRF-Token": token})
    assert response.status_code == 200 and response.json()["data"]["organisations"]["nodes"] == [{"code": "RXW"}]


async def test_graphql_mutations_cannot_ride_a_get_request(client):
    await _logged_in(client, "sath.performance@accord.example")
    mutation = 'mutation { recordMeasurements(organisationCode: "RXW", measurements: []) { __typename } }'
    response = await client.get("/graphql", params={"query": mutation})
    assert response.status_code in (400, 405)
    assert "MeasurementsRecorded" not in response.text


async def test_the_login_form_needs_the_double_submit_token(client):
    await client.get("/login")
    data = {"email": "sath.exec@accord.example", "password": "accord-demo-2026"}
    assert (await client.post("/login", data=data)).status_code == 403
    assert (await client.post("/login", data={**data, "csrf_token": "guessed"})).status_code == 403
    client.cookies.clear()  # a forged cross-site post carries no cookie of ours to double-submit against
    assert (await client.post("/login", data={**data, "csrf_token": "guessed"})).status_code == 403


async def test_logged_in_pages_carry_the_session_token_for_htmx(client):
    token = await _logged_in(client)
    page = await client.get("/")
    assert f'<meta name="csrf-token" content="{token}">' in page.text
    script = (PROJECT_ROOT / "server" / "static" / "app.js").read_text()
    assert "htmx:configRequest" in script and '"X-CSRF-Token"' in script and 'meta[name="csrf-token"]' in script


def _own_pages(code: str) -> list[str]:
    """Every GET page that needs at most an organisation code, for that organisation."""
    paths = []
    for route in page_routes():
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        if "GET" in route.methods and set(re.findall(r"\{(\w+)\}", path)) <= {"code"} and route.path != "/login":
            paths.append(path.replace("{code}", code))
    return paths


def _assert_security_headers(response, what: str) -> None:
    for name in REQUIRED_HEADERS:
        assert name in response.headers, f"{what}: no {name}"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'", what
    assert "unsafe-inline" not in response.headers["content-security-policy"], what
    assert policy["frame-ancestors"] == "'none'", what
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'", what
    assert response.headers["x-content-type-options"] == "nosniff", what
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), what
    assert response.headers["x-frame-options"] == "DENY", what


async def test_every_response_carries_the_security_headers(client):
    anonymous = [
        await client.get("/login"), await client.get("/healthz"), await client.get("/static/app.js"),
        await client.get("/no/such/page"), await client.get("/"), await client.post("/graphql", json={"query": "{ organisations { nodes { code } } }"}),
        await client.post("/logout"),
    ]
    token = await _logged_in(client, "admin@accord.example")
    pages = [await client.get(path) for path in _own_pages("QOC")]
    refused = await client.post("/logout", data={"csrf_token": "wrong"})
    graphql = await client.post("/graphql", json={"query": "{ organisations { nodes { code } } }"}, headers={"X-CSRF-Token": token})
    responses = [*anonymous, *pages, refused, graphql]
    assert {r.status_code for r in responses} >= {200, 303, 403, 404}
    for response in responses:
        _assert_security_headers(response, f"{response.request.method} {response.request.url.path} -> {response.status_code}")


async def test_no_page_relies_on_inline_script_or_style(client):
    await _logged_in(client, "admin@accord.example")
    client_pages = [await client.get(path, follow_redirects=True) for path in ["/login", *_own_pages("QOC")]]
    for page in client_pages:
        if not page.headers.get("content-type", "").startswith("text/html"):
            continue
        assert page.status_code < 500, page.request.url
        for tag in re.findall(r"<script\b[^>]*>", page.text):
            assert "src=" in tag, f"inline script on {page.request.url.path}: {tag}"
        assert not re.search(r"\son[a-z]+\s*=", page.text), f"inline event handler on {page.request.url.path}"
        assert not re.search(r"\sstyle\s*=", page.text), f"inline style on {page.request.url.path}"
        assert "javascript:" not in page.text


async def test_an_oversized_body_is_refused_before_it_is_buffered(app):
    import httpx

    from tests.conftest import login

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50002)), base_url="http://testserver") as http:
        await login(http, "sath.performance@accord.example")
        response = await http.post("/organisations/RXW/measurements/paste", content=b"rows=" + b"x" * 5_100_000,
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
