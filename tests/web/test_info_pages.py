"""The footer's pages: public, in NHS.UK layout, and the status page tells the readiness in words."""
from __future__ import annotations

import pytest

FOOTER_PAGES = [
    ("/help", "Help"),
    ("/accessibility", "Accessibility statement for Accord"),
    ("/privacy", "Privacy notice"),
    ("/status", "Service status"),
]


@pytest.mark.parametrize(("path", "heading"), FOOTER_PAGES)
async def test_footer_page_is_public_and_linked_from_every_page(client, path, heading):
    response = await client.get(path)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.text
    assert f'href="{path}"' in response.text  # the footer of the page itself links to it


async def test_status_page_says_the_service_is_working_when_it_is_ready(client):
    response = await client.get("/status")
    assert "Accord is working normally" in response.text
    revision = (await client.get("/readyz")).json()["revision"]
    assert f"Database schema version {revision}" in response.text


async def test_status_page_says_when_the_database_cannot_be_reached(client, app, monkeypatch):
    class Unreachable:
        def session(self, *args, **kwargs):
            raise ConnectionRefusedError("database down")

    monkeypatch.setattr(app.state.services, "database", Unreachable())
    response = await client.get("/status")
    assert response.status_code == 503
    assert "cannot reach its database" in response.text


async def test_systems_is_offered_only_to_people_with_a_role_in_a_system(client):
    from tests.conftest import login

    await login(client, "stw.lead@accord.example")
    assert 'class="nhsuk-header__navigation-link" href="/systems"' in (await client.get("/")).text
    client.cookies.clear()
    await login(client, "sath.exec@accord.example")
    home = (await client.get("/")).text
    assert 'href="/systems"' not in home and 'href="/plans"' in home


async def test_home_page_indicator_names_link_to_their_chart(client):
    from tests.conftest import login

    await login(client, "sath.exec@accord.example")
    assert 'href="/organisations/RXW/indicators/' in (await client.get("/")).text
