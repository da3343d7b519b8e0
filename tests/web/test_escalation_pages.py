"""The escalation register: visible to the organisation, acted on only by roles the matrix names,
overrides need a reason, stale forms refused, and the ladder respects a level set by hand."""
from __future__ import annotations

import re

from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.escalation_store.run import run_ladders
from tests.conftest import csrf_from, login
from tests.web.test_plan_pages import fresh_client, post_form


def first_escalation(html: str) -> str:
    return re.search(r'href="(/organisations/RXW/escalations/\d+)"', html).group(1)


async def test_register_lists_open_escalations_with_links(app):
    async with await fresh_client(app) as sath:
        await login(sath, "sath.performance@accord.example")
        page = await sath.get("/organisations/RXW/escalations")
    assert page.status_code == 200
    assert "Escalation register" in page.text and "Open escalations" in page.text


async def test_foreign_register_is_not_found(app):
    async with await fresh_client(app) as ulht:
        await login(ulht, "ulht.performance@accord.example")
        assert (await ulht.get("/organisations/RXW/escalations")).status_code == 404


async def test_override_needs_a_reason_and_a_role_that_may_override(app, database, org_ids):
    async with await fresh_client(app) as manager, await fresh_client(app) as executive:
        await login(manager, "sath.performance@accord.example")
        register = await manager.get("/organisations/RXW/escalations")
        url = first_escalation(register.text)
        detail = await manager.get(url)
        version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)
        # A performance manager may acknowledge but not override the ladder.
        refused = await post_form(manager, url, detail.text, {"kind": "closed", "version": version, "reason": "fixed"})
        assert refused.status_code == 403
        acknowledged = await post_form(manager, url, detail.text, {"kind": "acknowledged", "version": version})
        assert acknowledged.status_code == 303
        stale = await post_form(manager, url, detail.text, {"kind": "acknowledged", "version": version})
        assert stale.status_code == 409

        await login(executive, "sath.exec@accord.example")
        detail = await executive.get(url)
        version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)
        no_reason = await post_form(executive, url, detail.text, {"kind": "escalated", "version": version, "to_level": "4"})
        assert no_reason.status_code == 400 and "needs a reason" in no_reason.text
        escalated = await post_form(executive, url, detail.text, {"kind": "escalated", "version": version, "to_level": "4", "reason": "Patient safety risk"})
        assert escalated.status_code == 303
        after = await executive.get(url)
    assert "set by hand" in after.text and "Patient safety risk" in after.text
    # The ladder does not undo a level a person set.
    async with database.session(await runner_access(database, org_ids["RXW"])) as session:
        await run_ladders(session, org_ids["RXW"])
        escalation_id = int(url.rsplit("/", 1)[1])
        level = (await session.exec(text("select level from escalation where id = :i"), params={"i": escalation_id})).scalar_one()
    assert level == 4


def test_facts_read_as_words():
    from server.web.pages.escalations import chart_href, fact_words

    assert [fact_words(v) for v in (True, False, None, "hit_and_miss", "red", "special_cause_concerning", 2, "monthly_prm")] == [
        "Yes", "No", "Not known", "Hit and miss: the target lies within the process limits", "Off target", "Special cause concerning", "2", "monthly prm"]
    assert chart_href("RWD", "indicator:AE4H") == "/organisations/RWD/indicators/AE4H"
    assert chart_href("RWD", "unit:RWD-MED") is None
