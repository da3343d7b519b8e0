"""Recording a judgement in a real browser, without JavaScript: the escalation page's form posts,
the judgement shows as in force, and it is withdrawn from the same page; axe-core finds nothing
serious with and without JavaScript (issue 11)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import OpenPage, assert_accessible, screenshot
from tests.judgements.helpers import rows

pytestmark = pytest.mark.browser
ULHT = "ulht.performance@accord.example"


async def _division_escalation(database, org_ids) -> int:  # type: ignore[no-untyped-def]
    found = await rows(database, org_ids["RWD"], "select id from escalation where org_id = :o and subject_type = 'unit'"
                       " and status <> 'closed' order by id limit 1")
    assert found, "the demo data escalates a ULHT division"
    return found[0][0]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
async def test_the_judgement_form_is_accessible(page_as: OpenPage, database, org_ids, javascript):
    page = await page_as(ULHT, javascript=javascript)
    response = await page.goto(f"/organisations/RWD/escalations/{await _division_escalation(database, org_ids)}#judgements")
    assert response is not None and response.status == 200
    assert await page.locator("#judgements-title").inner_text() == "Judgements"
    await screenshot(page, f"escalation-judgements-{'js' if javascript else 'nojs'}")
    await assert_accessible(page)


async def test_a_severity_judged_and_withdrawn_without_javascript(page_as: OpenPage, database, org_ids):
    page = await page_as(ULHT, javascript=False)
    await page.goto(f"/organisations/RWD/escalations/{await _division_escalation(database, org_ids)}")
    form = page.locator("form", has=page.locator("input[name='kind'][value='risk_rating']")).filter(
        has=page.locator("textarea[name='reason']")).first
    await form.get_by_label("High").check()
    await form.get_by_label("Reason").fill("Two never events this quarter")
    async with page.expect_navigation():
        await form.get_by_role("button", name="Record judgement").click()
    main = await page.inner_text("main")
    assert "Judgement recorded (Severity of the division's failure: high" in main and "Two never events this quarter" in main
    await page.get_by_text("Withdraw this judgement").first.click()  # <details>: opens without JavaScript
    withdraw = page.locator("form", has=page.locator("input[name='withdraw']")).first
    await withdraw.get_by_label("Why it is withdrawn").fill("Recorded for the wrong quarter")
    async with page.expect_navigation():
        await withdraw.get_by_role("button", name="Withdraw").click()
    main = await page.inner_text("main")
    assert "Judgement withdrawn" in main and "Withdraw this judgement" not in main
