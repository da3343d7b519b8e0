"""The Host header is checked against ACCORD_ALLOWED_HOSTS and never written into a page."""
from __future__ import annotations

import dataclasses

import httpx

from server.app import create_app
from server.web.templating import make_templates


async def test_an_unlisted_host_is_refused(client):
    response = await client.get("/login", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.text


async def test_asset_urls_are_relative_whatever_the_host(client):
    page = await client.get("/login")
    assert page.status_code == 200
    assert 'src="/static/app.js"' in page.text and 'href="/static/app.css"' in page.text
    assert "http://testserver" not in page.text


async def test_asset_urls_use_the_configured_origin_and_hosts(services):
    settings = services.settings.model_copy(update={"public_origin": "https://accord.example.nhs.uk", "allowed_hosts": ["accord.example.nhs.uk"]})
    app = create_app(services=dataclasses.replace(services, settings=settings, templates=make_templates(settings)))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50004))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.example.nhs.uk") as client:
        page = await client.get("/login")
        assert 'src="https://accord.example.nhs.uk/static/app.js"' in page.text
        assert 'href="https://accord.example.nhs.uk/static/vendor/nhsuk/nhsuk-frontend.min.css"' in page.text
        assert (await client.get("/login", headers={"host": "testserver"})).status_code == 400
