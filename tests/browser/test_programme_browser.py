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


@pytest.mark.parametrize("width", [1280, 375])
async def test_the_create_programme_form_is_accessible_and_works_without_javascript(page_as: OpenPage, database, org_ids, width):
    """The PMO's create form at desktop and phone widths: axe-clean, then an error beside the field and in the
    summary, then the programme created, all without JavaScript."""
    page = await page_as(PMO, javascript=True)
    await page.set_viewport_size({"width": width, "height": 900})
    response = await page.goto("/organisations/03N/programmes/new")
    assert response is not None and response.status == 200
    await screenshot(page, f"programme-new-{width}")
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    plain = await page_as(PMO, javascript=False)
    await plain.set_viewport_size({"width": width, "height": 900})
    await plain.goto("/organisations/03N/programmes/new")
    code = f"BR{width}{org_ids['03N']}"
    await plain.get_by_label("Programme name").fill("Ageing well programme")
    await plain.get_by_label("Short code").fill(code)
    await plain.get_by_label("Senior Responsible Owner").select_option(label="Tom Hale")
    await plain.get_by_label("Starts").fill("2026-12-01")
    async with plain.expect_navigation():
        await plain.get_by_role("button", name="Create programme").click()
    assert "There is a problem" in await plain.locator(".nhsuk-error-summary").inner_text()
    assert "QIPP saving" in await plain.locator("#programme-qipp-error").inner_text()
    await screenshot(plain, f"programme-new-error-{width}")
    try:
        await plain.get_by_label("QIPP target for the financial year, in pounds").fill("48000")
        async with plain.expect_navigation():
            await plain.get_by_role("button", name="Create programme").click()
        assert await plain.locator("h1").inner_text() == "Ageing well programme"
        assert "Tom Hale its Senior Responsible Owner" in await plain.locator("[role=status]").inner_text()
    finally:
        await retire(database, org_ids["03N"], code)
