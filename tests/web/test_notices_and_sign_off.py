"""Notices come from the session (a flash read once), never from the address; the sign-off panel
says who is awaited and since when."""
from __future__ import annotations

from server.web.flash import FLASH_COOKIE
from tests.conftest import login
from tests.web.test_plan_pages import drafted_plan, fresh_client, post_form, version_in  # noqa: F401 (drafted_plan: a fixture)


async def test_a_notice_in_the_address_is_not_shown(app, drafted_plan):
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        page = await lead.get(f"/plans/{drafted_plan}", params={"notice": "NHS England has approved this plan"})
    assert page.status_code == 200
    assert "NHS England has approved this plan" not in page.text


async def test_a_step_redirects_without_the_notice_and_the_page_shows_it_once(app, drafted_plan):
    plan_url = f"/plans/{drafted_plan}"
    async with await fresh_client(app) as delivery:
        await login(delivery, "stw.delivery@accord.example")
        page = await delivery.get(plan_url)
        critique = await post_form(delivery, f"{plan_url}/steps", page.text, {"action": "critique", "version": version_in(page.text), "reason": "Add lists"})
        assert critique.status_code == 303 and critique.headers["location"] == plan_url
        assert FLASH_COOKIE in critique.headers["set-cookie"]
        shown = await delivery.get(plan_url)
        assert "Plan is now critiqued" in shown.text
        again = await delivery.get(plan_url)
        assert "Plan is now critiqued" not in again.text


async def test_a_flash_is_ignored_in_another_session_and_when_tampered_with(app, drafted_plan):
    plan_url = f"/plans/{drafted_plan}"
    async with await fresh_client(app) as delivery, await fresh_client(app) as other:
        await login(delivery, "stw.delivery@accord.example")
        page = await delivery.get(plan_url)
        await post_form(delivery, f"{plan_url}/steps", page.text, {"action": "critique", "version": version_in(page.text), "reason": "x"})
        stolen = delivery.cookies.get(FLASH_COOKIE)
        assert stolen
        await login(other, "stw.lead@accord.example")
        other.cookies.set(FLASH_COOKIE, stolen)
        assert "Plan is now critiqued" not in (await other.get(plan_url)).text
        payload, signature = stolen.rsplit(".", 1)
        delivery.cookies.set(FLASH_COOKIE, f"{payload}.{'0' * len(signature)}")
        assert "Plan is now critiqued" not in (await delivery.get(plan_url)).text


async def test_the_panel_names_the_partners_awaited_and_since_when(app, drafted_plan):
    plan_url = f"/plans/{drafted_plan}"
    async with await fresh_client(app) as lead, await fresh_client(app) as delivery, await fresh_client(app) as sath:
        await login(lead, "stw.lead@accord.example")
        drafted = await lead.get(plan_url)
        assert "The programme delivery group, to critique the plan" in drafted.text
        await login(delivery, "stw.delivery@accord.example")
        page = await delivery.get(plan_url)
        await post_form(delivery, f"{plan_url}/steps", page.text, {"action": "critique", "version": version_in(page.text), "reason": "x"})
        await login(sath, "sath.exec@accord.example")
        sath_page = await sath.get(plan_url)
        await post_form(sath, f"{plan_url}/agree", sath_page.text, {"partner": "RXW", "version": version_in(sath_page.text)})
        after = (await lead.get(plan_url)).text
    panel = after.split('id="signoffs"')[1].split("</div>")[0:6]
    text = " ".join(panel)
    assert "Waiting for" in text
    assert "The Robert Jones and Agnes Hunt Orthopaedic Hospital NHS Foundation Trust, to agree the plan" in text
    assert "Shrewsbury and Telford Hospital NHS Trust, to agree" not in text
    assert "Waiting since today" in text
