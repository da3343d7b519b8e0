"""The reporting pages in a real browser: with and without JavaScript, screenshots, axe-core, and
the system position's domain filter as a plain form and through htmx."""
from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OpenPage, assert_accessible, screenshot

pytestmark = pytest.mark.browser

PAGES = [
    ("system-position", "stw.lead@accord.example", "/systems/STW", "Shropshire, Telford and Wrekin ICS"),
    ("systems", "stw.lead@accord.example", "/systems", "Systems"),
    ("ipr-organisation", "ulht.performance@accord.example", "/organisations/RWD", "United Lincolnshire"),
    ("ipr-division", "ulht.performance@accord.example", "/organisations/RWD?unit=RWD-MED", "division of United Lincolnshire"),
    ("ipr-sath", "sath.exec@accord.example", "/organisations/RXW", "Shrewsbury and Telford"),
    ("indicator-organisation", "sath.exec@accord.example", "/organisations/RXW/indicators/AE4H", "A&E patients seen within 4 hours"),
    ("indicator-unit", "ulht.performance@accord.example", "/organisations/RWD/indicators/AE4H?unit=RWD-MED", "(division)"),
    ("indicator-outturn", "ulht.performance@accord.example", "/organisations/RWD/indicators/AGENCY", "Year to date and forecast outturn"),
    ("indicator-from-members", "stw.lead@accord.example", "/organisations/STW/indicators/RTT18", "Computed from members"),
    ("benchmark", "stw.lead@accord.example", "/organisations/RXW/indicators/RTT18/benchmark", "Benchmark"),
    # Issue 15: peers by mutual agreement, one of which has not agreed to share A&E (the note in words).
    ("benchmark-agreed-peers", "ulht.performance@accord.example", "/organisations/RWD/indicators/AE4H/benchmark?group=peers:ACUTE-PEERS",
     "has not agreed to share this indicator"),
    ("maturity", "sath.performance@accord.example", "/organisations/RXW/maturity", "Maturity self-assessment"),
]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize(("name", "email", "path", "heading_text"), PAGES, ids=[p[0] for p in PAGES])
async def test_page_loads_for_an_entitled_user_and_is_accessible(page_as: OpenPage, name, email, path, heading_text, javascript):
    page = await page_as(email, javascript=javascript)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    response = await page.goto(path)
    assert response is not None and response.status == 200
    assert heading_text in await page.inner_text("main")
    await screenshot(page, f"{name}-{'js' if javascript else 'nojs'}")
    await assert_accessible(page)
    # The NHS.UK stylesheet asks for its fonts from assets.nhs.uk, which the CSP refuses (a
    # layout-wide matter); anything else refused, such as an inline style or script, is ours.
    ours = [problem for problem in problems if "Content Security Policy" in problem and "font" not in problem]
    assert not ours, ours


async def test_chart_and_table_are_the_accessible_pair(page_as: OpenPage):
    page = await page_as("sath.exec@accord.example")
    await page.goto("/organisations/RXW/indicators/AE4H")
    chart = page.locator("main svg.accord-chart__svg[role=img]")
    assert await chart.count() == 1
    labelled_by = (await chart.get_attribute("aria-labelledby") or "").split()
    assert [await page.locator(f"#{part}").count() for part in labelled_by] == [1, 1]
    assert await page.locator("main table tbody tr[data-period]").count() > 12


async def test_domain_filter_works_without_javascript(lead_page_without_javascript: Page):
    page = lead_page_without_javascript
    await page.goto("/systems/STW?set=all")
    await page.select_option("#domain", "cancer")
    async with page.expect_navigation():
        await page.click("form.accord-filter button")
    # The form sends every filter (period and sort keep their defaults).
    assert "/systems/STW?domain=cancer&" in page.url
    matrix = await page.inner_text("#system-matrix")
    assert "CAN62" in matrix and "AE4H" not in matrix
    await screenshot(page, "system-position-filtered-nojs")


async def test_domain_filter_swaps_only_the_matrix_with_htmx_and_pushes_the_url(lead_page: Page):
    page = lead_page
    await page.goto("/systems/STW?set=all")
    await page.wait_for_function("() => window.htmx !== undefined")
    # A marker on the window survives a partial swap but not a full page load.
    await page.evaluate("() => { window.accordMarker = 'still here'; }")
    async with page.expect_response(lambda r: "/systems/STW?domain=cancer" in r.url) as response_info:
        await page.select_option("#domain", "cancer")
    response = await response_info.value
    assert response.request.headers.get("hx-request") == "true"
    assert "<html" not in await response.text()
    await page.wait_for_url("**/systems/STW?domain=cancer&*")
    await page.wait_for_function("() => !document.querySelector('#system-matrix').innerText.includes('AE4H')")
    assert await page.evaluate("() => window.accordMarker") == "still here"
    matrix = await page.inner_text("#system-matrix")
    assert "CAN62" in matrix
    assert await page.locator("#system-matrix").count() == 1
    await screenshot(page, "system-position-filtered-htmx")
    await assert_accessible(page)


async def test_system_position_is_not_found_for_a_trust_executive(page_as: OpenPage):
    page = await page_as("sath.exec@accord.example")
    response = await page.goto("/systems/STW?set=all")
    assert response is not None and response.status == 404
