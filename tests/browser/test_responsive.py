"""Every page at a phone's, a tablet's and a desktop's width: no sideways scrolling of the page
(WCAG 1.4.10: wide tables scroll inside their own keyboard-reachable region), the header's items
that do not fit move into its "More" menu, and axe-core finds nothing serious at any width."""
from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage, assert_accessible, screenshot

pytestmark = pytest.mark.browser

WIDTHS = (320, 768, 1280)
PAGES = [
    ("home", "stw.lead@accord.example", "/"),
    ("system-position", "stw.lead@accord.example", "/systems/STW"),
    ("systems", "stw.lead@accord.example", "/systems"),
    ("ipr-organisation", "ulht.performance@accord.example", "/organisations/RWD"),
    ("ipr-division", "ulht.performance@accord.example", "/organisations/RWD?unit=RWD-MED"),
    ("ipr-earlier-month", "ulht.performance@accord.example", "/organisations/RWD?unit=RWD-MED&period=2026-09-01"),
    ("indicator", "sath.exec@accord.example", "/organisations/RXW/indicators/AE4H"),
    ("plans", "stw.lead@accord.example", "/plans"),
    ("escalations", "ulht.performance@accord.example", "/organisations/RWD/escalations"),
    ("meetings", "ulht.performance@accord.example", "/organisations/RWD/meetings"),
    ("reports", "ulht.performance@accord.example", "/organisations/RWD/reports"),
    ("audit", "admin@accord.example", "/organisations/STW/audit"),
    ("measurement-entry", "sath.performance@accord.example", "/organisations/RXW/measurements/new"),
    ("imports", "sath.performance@accord.example", "/organisations/RXW/imports"),
    ("api", "stw.lead@accord.example", "/api"),
    ("help", "stw.lead@accord.example", "/help"),
    ("accessibility", "stw.lead@accord.example", "/accessibility"),
    ("privacy", "stw.lead@accord.example", "/privacy"),
    ("status", "stw.lead@accord.example", "/status"),
]


async def page_width(page: Page) -> int:
    return int(await page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "email", "path"), PAGES, ids=[p[0] for p in PAGES])
async def test_page_fits_the_width_and_is_accessible(page_as: OpenPage, name, email, path, width):
    page = await page_as(email)
    await page.set_viewport_size({"width": width, "height": 900})
    response = await page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    assert await page_width(page) <= width, f"{path} scrolls sideways at {width} px ({await page_width(page)} px wide)"
    if width in (320, 1280):
        await screenshot(page, f"responsive-{name}-{width}")
    await assert_accessible(page)


async def test_header_items_that_do_not_fit_go_into_the_more_menu(page_as: OpenPage):
    page = await page_as("stw.lead@accord.example")
    await page.set_viewport_size({"width": 320, "height": 900})
    await page.goto("/")
    toggle = page.locator(".nhsuk-header__menu-toggle")
    await toggle.wait_for(state="visible")
    await toggle.click()
    assert await toggle.get_attribute("aria-expanded") == "true"
    menu = page.locator(".nhsuk-header__menu-list")
    assert "Meetings and reports" in await menu.inner_text()
    await assert_accessible(page)


async def test_footer_pages_answer_without_signing_in(browser, live_server):
    context = await browser.new_context(base_url=live_server, viewport={"width": 320, "height": 900})
    try:
        page = await context.new_page()
        for path, heading in (("/help", "Help"), ("/accessibility", "Accessibility statement"), ("/privacy", "Privacy notice"), ("/status", "Service status")):
            response = await page.goto(path)
            assert response is not None and response.status == 200, f"{path}: {response and response.status} {await page.inner_text('main')}"
            assert heading in await page.inner_text("h1")
            assert await page_width(page) <= 320
        assert "working normally" in await page.inner_text("main")
        footer = await page.eval_on_selector_all("footer a", "links => links.map(a => a.getAttribute('href'))")
        assert {"/help", "/accessibility", "/privacy", "/status", "/api"} <= set(footer)
    finally:
        await context.close()
