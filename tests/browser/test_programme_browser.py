"""The programme page in a real browser (Sheffield 3.1): the PMO's view with every form, with and without
JavaScript, passes axe-core; a programme lead records a risk without JavaScript."""
from __future__ import annotations

import pytest

from tests.browser.conftest import OpenPage, assert_accessible, screenshot
from tests.programmes.helpers import LEAD, PMO, retire, slipping_programme

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
async def test_the_programme_page_is_accessible(page_as: OpenPage, javascript):
    page = await page_as(PMO, javascript=javascript)
    response = await page.goto("/organisations/03N/programmes/UEC")
    assert response is not None and response.status == 200
    assert await page.locator("h1").inner_text() == "Urgent care programme"
    await screenshot(page, f"programme-{'js' if javascript else 'nojs'}")
    await assert_accessible(page)
    listing = await page.goto("/organisations/03N/programmes")
    assert listing is not None and listing.status == 200
    await screenshot(page, f"programmes-{'js' if javascript else 'nojs'}")
    await assert_accessible(page)


async def test_a_lead_adds_a_risk_without_javascript(page_as: OpenPage, database, org_ids):
    code = await slipping_programme(database, org_ids["03N"])
    try:
        page = await page_as(LEAD, javascript=False)
        await page.goto(f"/organisations/03N/programmes/{code}")
        await page.locator("summary", has_text="Add a risk").click()
        form = page.locator("form", has=page.locator("#risk-description"))
        await form.get_by_label("Risk").fill("Clinical leadership capacity")
        await form.get_by_label("Likelihood (1 rare to 5 almost certain)").select_option("3")
        await form.get_by_label("Impact (1 negligible to 5 catastrophic)").select_option("5")
        await form.get_by_label("Owner").fill("Clinical Director")
        async with page.expect_navigation():
            await form.get_by_role("button", name="Add risk").click()
        assert "Risk added" in await page.locator("[role=status]").inner_text()
        assert "15 high" in await page.locator("table", has_text="Clinical leadership capacity").inner_text()
    finally:
        await retire(database, org_ids["03N"], code)
