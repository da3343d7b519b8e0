"""Recalculating an indicator's limits in a real browser with JavaScript off (plain forms): record
the period and cause, see the decision and the new segment, withdraw it with a reason. Screenshots
at 1280 and 375 px, and axe on the page with the decision shown."""
from __future__ import annotations

import pytest

from tests.browser.conftest import OpenPage, assert_accessible, screenshot

pytestmark = pytest.mark.browser

INDICATOR = "/organisations/RXW/indicators/AE4H"
CAUSE = "Browser check: new streaming model in the emergency department"


async def test_record_and_withdraw_a_recalculation_without_javascript(page_as: OpenPage):
    page = await page_as("sath.performance@accord.example", javascript=False)
    await page.goto(INDICATOR)
    panel = page.locator("#recalculations")
    assert await panel.count() == 1
    form = page.locator("details:has(#period)")
    if await form.get_attribute("open") is None:  # open already when the engine flags a candidate
        await page.click("summary:has-text('Record a recalculation')")
    options = await page.locator("#period option").evaluate_all("options => options.map(o => o.value).filter(Boolean)")
    assert len(options) > 8
    await page.select_option("#period", options[6])  # newest first: seven periods before the latest
    await page.fill("#reason", CAUSE)
    async with page.expect_navigation():
        await page.click("button:has-text('Recalculate limits')")
    row = page.locator("tr[data-recalculation]", has_text=CAUSE)
    assert await row.count() == 1 and "In use" in await row.inner_text()
    await screenshot(page, "indicator-recalculated-1280")
    await assert_accessible(page)
    await page.set_viewport_size({"width": 375, "height": 800})
    await screenshot(page, "indicator-recalculated-375")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at 375 px ({width} px wide)"
    await page.set_viewport_size({"width": 1280, "height": 900})

    await row.locator("summary:has-text('Withdraw')").click()
    await row.locator("textarea").fill("Browser check finished")
    async with page.expect_navigation():
        await row.locator("button:has-text('Withdraw recalculation')").click()
    withdrawn = page.locator("tr[data-recalculation]", has_text=CAUSE)
    assert "Withdrawn" in await withdrawn.inner_text() and "Browser check finished" in await withdrawn.inner_text()
