"""In a real browser: htmx requests carry the page's CSRF token as a header and are accepted, and
the pages raise no Content-Security-Policy violations (no inline script or style)."""
from __future__ import annotations

import asyncio
import socket
import threading

import pytest

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live_server(database, test_settings):  # type: ignore[no-untyped-def]
    """The app under uvicorn on a free local port, in its own thread and event loop (and engine)."""
    import uvicorn

    from server.app import build_services, create_app
    from server.db.session import Database

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    own_database = Database(database.urls, pool_size=2)
    server = uvicorn.Server(uvicorn.Config(create_app(services=build_services(test_settings, own_database)), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off"))

    async def serve() -> None:
        try:
            await server.serve()
        finally:
            await own_database.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the live server did not start")
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_htmx_requests_send_the_csrf_header_and_pages_break_no_csp_rule(live_server):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            violations: list[str] = []
            page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)

            await page.goto(f"{live_server}/login")
            await page.fill("#email", "admin@accord.example")
            await page.fill("#password", "accord-demo-2026")
            await page.click("button.nhsuk-button")
            await page.wait_for_url(f"{live_server}/")
            for path in ("/", "/organisations/QOC/admin", "/organisations/QOC/admin/tokens", "/organisations/QOC/audit"):
                await page.goto(f"{live_server}{path}")
                await page.wait_for_load_state("load")
            token = await page.get_attribute('meta[name="csrf-token"]', "content")
            assert token

            async with page.expect_request(lambda request: request.url.endswith("/logout")) as captured:
                await page.evaluate("htmx.ajax('POST', '/logout', {target: 'body', swap: 'none'})")
            request = await captured.value
            assert request.headers.get("x-csrf-token") == token
            response = await request.response()
            assert response is not None and response.status in (200, 303)  # 303 to /login, followed by the browser

            await page.goto(f"{live_server}/organisations/QOC/admin")
            assert page.url.startswith(f"{live_server}/login"), "the htmx logout was accepted: the session is over"
            assert violations == [], "\n".join(sorted(set(violations)))
        finally:
            await browser.close()
