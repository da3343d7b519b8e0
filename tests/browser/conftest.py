"""Browser tests: the real app under uvicorn in a background thread, driven by Debian's Chromium
through Playwright (TECH_NOTES "Browser tests"), with screenshots and an axe-core check.

The app's asyncpg engines belong to the event loop that created them, so the server thread opens
its own ``Database`` on the same URLs as the test database, inside its own loop. Chromium is not
optional: when /usr/bin/chromium is missing the tests fail and say how to install it.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

from server.app import build_services, create_app
from server.assets import fetch_assets
from server.db.server import DatabaseUrls
from server.db.session import Database
from server.demo.users import DEMO_PASSWORD
from server.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")

OpenPage = Callable[..., Awaitable[Page]]
# Set on contexts opened with JavaScript off, where axe-core cannot run (see assert_accessible).
# An attribute on the context rather than a module-level registry: pytest imports this conftest
# as "browser.conftest" while tests import "tests.browser.conftest", two separate module objects.
WITHOUT_JAVASCRIPT = "accord_without_javascript"


class LiveServer(threading.Thread):
    """uvicorn serving a fresh app on 127.0.0.1 and a free port, in its own thread and loop."""

    def __init__(self, settings: Settings, urls: DatabaseUrls):
        super().__init__(name="accord-live-server", daemon=True)
        self.settings = settings
        self.urls = urls
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.port: int | None = None
        self.server: uvicorn.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the fixture, which fails the tests with it
            self.error = error
        finally:
            self.ready.set()

    async def _serve(self) -> None:
        database = Database(self.urls, pool_size=4)
        try:
            app = create_app(services=build_services(self.settings, database))
            # ws="none": no websocket library is imported (nothing here speaks websockets).
            config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", ws="none", log_level="warning", access_log=False)
            self.server = uvicorn.Server(config)
            serving = asyncio.create_task(self.server.serve())
            while not self.server.started and not serving.done():
                await asyncio.sleep(0.02)
            if serving.done():
                serving.result()
                return
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
            self.ready.set()
            await serving
        finally:
            await database.dispose()

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(services, test_settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Base URL of the running app, over the shared test database (loaded by ``services``)."""
    fetch_assets(test_settings.static_dir)
    server = LiveServer(test_settings, services.database.urls)
    server.start()
    if not server.ready.wait(timeout=60) or server.port is None:
        server.stop()
        pytest.fail(f"the app did not start under uvicorn: {server.error!r}")
    yield server.base_url
    server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. Browser tests need Debian's Chromium: "
            "`apt-get install -y chromium` (CI installs it in .ci/run). Never `playwright install`."
        )
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page_as(browser: Browser, live_server: str) -> AsyncIterator[OpenPage]:
    """``await page_as(email, javascript=True)``: a new browser context logged in as a demo user."""
    contexts = []

    async def open_page(email: str, *, javascript: bool = True) -> Page:
        context = await browser.new_context(
            base_url=live_server, java_script_enabled=javascript, viewport={"width": 1280, "height": 900}, locale="en-GB",
        )
        contexts.append(context)
        setattr(context, WITHOUT_JAVASCRIPT, not javascript)
        page = await context.new_page()
        await page.goto("/login")
        await page.fill("#email", email)
        await page.fill("#password", DEMO_PASSWORD)
        async with page.expect_navigation():
            await page.click("form[action='/login'] button")
        assert "/login" not in page.url, f"could not log in as {email}"
        return page

    yield open_page
    for context in contexts:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def lead_page(page_as: OpenPage) -> Page:
    """The ICS planning and performance lead (system position), JavaScript on."""
    return await page_as("stw.lead@accord.example")


@pytest_asyncio.fixture(loop_scope="session")
async def lead_page_without_javascript(page_as: OpenPage) -> Page:
    return await page_as("stw.lead@accord.example", javascript=False)


async def screenshot(page: Page, name: str) -> Path:
    """Full-page screenshot at test-artifacts/screenshots/<name>.png (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical WCAG violation; the failure lists each one.

    With JavaScript off a page runs no timers, so axe (which needs them) would never finish. For
    such a page the same DOM is checked in a twin context with the same session: JavaScript on
    for axe, but every page script blocked and the page's own HTML replayed, so axe sees exactly
    what a person without JavaScript gets.
    """
    if await _javascript_off(page.context):
        results = await _axe_without_page_scripts(page)
    else:
        results = await Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"{page.url}: {len(blocking)} serious or critical accessibility violations"]
        for violation in blocking:
            targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} [{len(violation['nodes'])} nodes: {targets}]")
        pytest.fail("\n".join(lines))


async def _javascript_off(context: BrowserContext) -> bool:
    marked = getattr(context, WITHOUT_JAVASCRIPT, None)
    if marked is not None:
        return bool(marked)
    # A context from elsewhere: a page without JavaScript never runs a timer.
    probe = await context.new_page()
    try:
        await asyncio.wait_for(probe.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))"), timeout=3)
        return False
    except TimeoutError:
        return True
    finally:
        await probe.close()


async def _axe_without_page_scripts(page: Page):  # type: ignore[no-untyped-def]
    html, url = await page.content(), page.url
    browser = page.context.browser
    assert browser is not None
    twin = await browser.new_context(
        storage_state=await page.context.storage_state(), viewport=page.viewport_size, java_script_enabled=True, locale="en-GB",
    )

    async def replay(route: Route) -> None:
        request = route.request
        if request.resource_type == "script":
            await route.abort()
        elif request.is_navigation_request() and request.url == url:
            await route.fulfill(body=html, content_type="text/html; charset=utf-8")
        else:
            await route.continue_()

    try:
        await twin.route("**/*", replay)
        twin_page = await twin.new_page()
        await twin_page.goto(url)
        return await Axe().run(twin_page)
    finally:
        await twin.close()
