"""People's pages through an HTTP client: login, home, organisation, logout."""
from __future__ import annotations

from tests.conftest import csrf_from, login


async def test_anonymous_visitor_is_sent_to_login(client):
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2F")


async def test_login_page_renders_with_nhs_styling(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert "nhsuk-header" in response.text
    assert 'name="csrf_token"' in response.text
    assert "htmx.min.js" in response.text


async def test_wrong_password_is_refused_with_an_error_summary(client):
    response = await login(client, "sath.exec@accord.example", "not-the-password")
    assert response.status_code == 400
    assert "nhsuk-error-summary" in response.text
    assert "Email address or password is not right" in response.text


async def test_sath_user_sees_sath_key_indicators_with_ratings(client):
    response = await login(client, "sath.exec@accord.example")
    assert response.status_code == 303
    home = await client.get("/")
    assert home.status_code == 200
    assert "Shrewsbury and Telford Hospital" in home.text
    assert "United Lincolnshire" not in home.text
    assert any(word in home.text for word in ("Off target", "On target", "At risk"))


async def test_logout_ends_the_session(client):
    await login(client, "sath.exec@accord.example")
    home = await client.get("/")
    cookie = client.cookies.get("accord_session")
    response = await client.post("/logout", data={"csrf_token": csrf_from(home.text)})
    assert response.status_code == 303
    client.cookies.set("accord_session", cookie)  # replaying the old cookie must not work
    assert (await client.get("/")).status_code == 303


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
