"""The SPIP sign-off through the pages, as plain form posts (no JavaScript) and as htmx."""
from __future__ import annotations

import re

import httpx
import pytest_asyncio

from tests.conftest import csrf_from, login


async def fresh_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)), base_url="http://testserver")


async def post_form(client, url, page_html, data):
    return await client.post(url, data={"csrf_token": csrf_from(page_html), **data})


def version_in(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


@pytest_asyncio.fixture(loop_scope="session")
async def drafted_plan(app) -> int:
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        form = await lead.get("/plans/new?owner=STW")
        assert form.status_code == 200 and "Responsible partners" in form.text
        response = await post_form(lead, "/plans", form.text, {
            "owner": "STW", "kind": "spip", "title": "Orthopaedic elective recovery", "sro": "Director of Planning",
            "partners": ["RXW", "RL1"], "programme": "Elective", "trajectory-2026-04-01": "150", "started_on": "2026-04-01",
        })
        assert response.status_code == 303, response.text
        return int(response.headers["location"].split("/")[2].split("?")[0])


async def test_missing_fields_are_named_in_an_error_summary(app):
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        form = await lead.get("/plans/new?owner=STW")
        response = await post_form(lead, "/plans", form.text, {"owner": "STW", "kind": "spip", "title": "", "sro": "", "trajectory-2026-05-01": "lots"})
    assert response.status_code == 400
    for message in ("Enter a title for the plan", "Enter the senior responsible owner", "Choose every organisation responsible", "as a number"):
        assert message in response.text
    assert "nhsuk-error-summary" in response.text


async def test_full_sign_off_without_javascript(app, drafted_plan):
    plan_url = f"/plans/{drafted_plan}"
    async with await fresh_client(app) as delivery, await fresh_client(app) as sath, await fresh_client(app) as rjah, await fresh_client(app) as cwg:
        await login(delivery, "stw.delivery@accord.example")
        page = await delivery.get(plan_url)
        assert "Record delivery group critique" in page.text
        critique = await post_form(delivery, f"{plan_url}/steps", page.text, {"action": "critique", "version": version_in(page.text), "reason": "Add theatre capacity"})
        assert critique.status_code == 303

        await login(sath, "sath.exec@accord.example")
        sath_page = await sath.get(plan_url)
        assert "Agree for SaTH" in sath_page.text or "Agree for The Shrewsbury" in sath_page.text
        assert "Agree for RJAH" not in sath_page.text  # buttons only for those who may act
        forged = await post_form(sath, f"{plan_url}/agree", sath_page.text, {"partner": "RL1", "version": version_in(sath_page.text)})
        assert forged.status_code == 403 and "You may not sign for" in forged.text
        agreed = await post_form(sath, f"{plan_url}/agree", sath_page.text, {"partner": "RXW", "version": version_in(sath_page.text)})
        assert agreed.status_code == 303

        await login(rjah, "rjah.exec@accord.example")
        rjah_page = await rjah.get(plan_url)
        done = await post_form(rjah, f"{plan_url}/agree", rjah_page.text, {"partner": "RL1", "version": version_in(rjah_page.text)})
        assert done.status_code == 303 and "notice" not in done.headers["location"]
        assert "Every responsible partner" in (await rjah.get(done.headers["location"])).text  # the flash, shown once

        await login(cwg, "stw.cwg@accord.example")
        cwg_page = await cwg.get(plan_url)
        assert "Formally sign off" in cwg_page.text
        signed = await post_form(cwg, f"{plan_url}/steps", cwg_page.text, {"action": "sign_off", "version": version_in(cwg_page.text)})
        assert signed.status_code == 303
        final = await cwg.get(plan_url)
    assert "Signed off" in final.text
    for step in ("Drafted", "Critique", "Partner agreed", "All partners agreed", "Sign off"):
        assert step in final.text


async def test_stale_form_is_refused_with_a_clear_message(app, drafted_plan):
    plan_url = f"/plans/{drafted_plan}"
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        edit_page = await lead.get(f"{plan_url}/edit")
        first = await post_form(lead, f"{plan_url}/edit", edit_page.text, {"version": version_in(edit_page.text), "title": "Orthopaedic elective recovery", "narrative": "One"})
        assert first.status_code == 303
        second = await post_form(lead, f"{plan_url}/edit", edit_page.text, {"version": version_in(edit_page.text), "title": "Orthopaedic elective recovery", "narrative": "Two"})
    assert second.status_code == 409
    assert "changed by someone else" in second.text


async def test_htmx_agreement_returns_only_the_sign_off_panel(app):
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        form = await lead.get("/plans/new?owner=STW")
        created = await post_form(lead, "/plans", form.text, {"owner": "STW", "kind": "spip", "title": "UEC flow", "sro": "COO", "partners": ["RXW"]})
        plan_url = created.headers["location"].split("?")[0]
    async with await fresh_client(app) as delivery, await fresh_client(app) as sath:
        await login(delivery, "stw.delivery@accord.example")
        page = await delivery.get(plan_url)
        await post_form(delivery, f"{plan_url}/steps", page.text, {"action": "critique", "version": version_in(page.text)})
        await login(sath, "sath.exec@accord.example")
        page = await sath.get(plan_url)
        response = await sath.post(f"{plan_url}/agree", data={"csrf_token": csrf_from(page.text), "partner": "RXW", "version": version_in(page.text)},
                                   headers={"HX-Request": "true", "HX-Target": "signoffs"})
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="signoffs"' in response.text
    assert "Every responsible partner has now agreed" in response.text


async def test_a_user_outside_the_plan_cannot_see_it(app, drafted_plan):
    async with await fresh_client(app) as ulht:
        await login(ulht, "ulht.performance@accord.example")
        response = await ulht.get(f"/plans/{drafted_plan}")
    assert response.status_code == 404
    assert "Orthopaedic" not in response.text


async def test_clearing_a_required_field_is_an_error_not_silently_ignored(app, drafted_plan):
    plan_url = f"/plans/{drafted_plan}"
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        edit_page = await lead.get(f"{plan_url}/edit")
        response = await post_form(lead, f"{plan_url}/edit", edit_page.text, {"version": version_in(edit_page.text), "title": "Kept", "sro": ""})
        after = await lead.get(plan_url)
    assert response.status_code == 400 and "Enter the senior responsible owner" in response.text
    assert "Director of Planning" in after.text and "Kept" not in after.text
