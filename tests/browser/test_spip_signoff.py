"""The SPIP sign-off in a real browser, each person in their own session, with and without JavaScript.

A planning lead drafts an elective-recovery SPIP shared by SaTH and RJAH; the delivery group
critiques it; a SaTH executive and an RJAH executive each agree in their own browser; a SaTH
user cannot sign for RJAH (no button, and the server refuses a forged post); the ICB Commissioning
Working Group signs it off; the history shows every step. Every page is checked with axe-core and
screenshotted.
"""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser


async def look(page: Page, name: str) -> None:
    await assert_accessible(page)
    await screenshot(page, name)


async def click_and_wait(page: Page, selector: str, *, javascript: bool, expect_text: str) -> None:
    """Submit a form: a full navigation without JavaScript, an htmx swap or navigation with it."""
    if javascript:
        await page.click(selector)
    else:
        async with page.expect_navigation():
            await page.click(selector)
    await expect(page.locator("main")).to_contain_text(expect_text)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
async def test_spip_sign_off_by_every_partner_then_the_commissioning_working_group(page_as, javascript):
    suffix = "js" if javascript else "nojs"
    title = f"Elective orthopaedic recovery {uuid.uuid4().hex[:6]}"

    lead = await page_as("stw.lead@accord.example", javascript=javascript)
    await lead.goto("/plans/new?owner=STW")
    await look(lead, f"spip-{suffix}-1-draft-form")
    await lead.fill("#title", title)
    await lead.select_option("#kind", "spip")
    await lead.check("#partner-RXW")
    await lead.check("#partner-RL1")
    await lead.fill("#sro", "Director of Planning and Performance")
    await lead.fill("#programme", "Elective")
    await lead.fill("#trajectory-2026-04-01", "180")
    async with lead.expect_navigation():
        await lead.click("text=Save draft plan")
    await expect(lead.locator("h1")).to_have_text(title)
    plan_url = re.sub(r"\?.*$", "", lead.url)
    await look(lead, f"spip-{suffix}-2-drafted")

    delivery = await page_as("stw.delivery@accord.example", javascript=javascript)
    await delivery.goto(plan_url)
    await delivery.fill("#reason-critique", "Add weekend theatre lists; align RJAH trajectory")
    async with delivery.expect_navigation():
        await delivery.click("text=Record delivery group critique")
    await expect(delivery.locator("main")).to_contain_text("Plan is now critiqued")

    sath = await page_as("sath.exec@accord.example", javascript=javascript)
    await sath.goto(plan_url)
    await look(sath, f"spip-{suffix}-3-sath-before-agreeing")
    buttons = await sath.locator("#signoffs button").all_inner_texts()
    assert not any("RJAH" in text or "Robert Jones" in text for text in buttons), buttons
    # The server refuses a forged post regardless of which buttons were shown.
    token = await sath.get_attribute("#signoffs input[name=csrf_token]", "value")
    version = await sath.get_attribute("#signoffs input[name=version]", "value")
    forged = await sath.request.post(f"{plan_url}/agree", form={"csrf_token": token, "version": version, "partner": "RL1"})
    assert forged.status == 403
    await click_and_wait(sath, "#signoffs form[action$='/agree'] button", javascript=javascript, expect_text="Waiting for")

    rjah = await page_as("rjah.exec@accord.example", javascript=javascript)
    await rjah.goto(plan_url)
    await click_and_wait(rjah, "#signoffs form[action$='/agree'] button", javascript=javascript, expect_text="Every responsible partner has now agreed")
    await look(rjah, f"spip-{suffix}-4-all-partners-agreed")

    cwg = await page_as("stw.cwg@accord.example", javascript=javascript)
    await cwg.goto(plan_url)
    async with cwg.expect_navigation():
        await cwg.click("text=Formally sign off")
    await expect(cwg.locator("main")).to_contain_text("Plan is now signed off")
    history = cwg.locator("ol.accord-history")
    for step in ("Drafted by Priya Shah", "Critique by Tom Evans", "Partner agreed by Helen Morris", "Partner agreed by Owen Price",
                 "All partners agreed", "Sign off by Grace Okafor"):
        await expect(history).to_contain_text(step)
    await look(cwg, f"spip-{suffix}-5-signed-off")
