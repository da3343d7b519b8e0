"""Recalculating SPC limits from the indicator page (issue 13): an entitled person records the period
and the known cause, the series is derived again in the same request with a new segment from that
period, the audit trail keeps the decision, and a withdrawal (with its own reason) puts the limits
back exactly as they were. Refusals name the field and leave nothing stored."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import text

from server.assessment_store.evidence import evidence_document
from server.assessment_store.methods import METHOD_OF
from server.assessment_store.recompute import runner_access
from tests.conftest import login
from tests.web.test_plan_pages import fresh_client, post_form

SERIES = "/organisations/RXW/indicators/{code}"


async def _indicator_with_long_series(database, org_id: int) -> tuple[str, int, list[dt.date], dict]:
    """An RXW indicator whose organisation-level series has at least 20 periods; prefer one the engine flags."""
    async with database.session(await runner_access(database, org_id)) as session:
        rows = (await session.exec(text(
            "select i.code, i.id, array_agg(a.period order by a.period), bool_or(coalesce((a.evidence #>> '{spc,recalculation,candidate}')::boolean, false))"
            " from assessment a join indicator i on i.id = a.indicator_id"
            " where a.org_id = :org and a.unit_id is null group by i.code, i.id having count(*) >= 20"
            " order by 4 desc, i.code limit 1"
        ), params={"org": org_id})).one()
    return rows[0], rows[1], list(rows[2]), await _latest_evidence(database, org_id, rows[1])


async def _latest_evidence(database, org_id: int, indicator_id: int) -> dict:
    async with database.session(await runner_access(database, org_id)) as session:
        evidence, points, method = (await session.exec(text(
            f"select evidence, spc_points, {METHOD_OF} from assessment a where indicator_id = :id and unit_id is null and is_latest"
        ), params={"id": indicator_id})).one()
    return evidence_document(evidence, points, method)  # as the indicator page reads it


async def _audit(database, org_id: int, action: str, reason: str) -> list:
    async with database.session(await runner_access(database, org_id)) as session:
        return (await session.exec(text(
            "select object_id, after, actor_user_id from audit_event where org_id = :org and action = :action"
            " and after ->> 'reason' = :reason order by id"
        ), params={"org": org_id, "action": action, "reason": reason})).all()


async def test_record_then_withdraw_a_recalculation_from_the_indicator_page(app, database, org_ids):
    rxw = org_ids["RXW"]
    code, indicator_id, periods, before = await _indicator_with_long_series(database, rxw)
    url = SERIES.format(code=code)
    chosen = periods[-8]
    async with await fresh_client(app) as manager:
        await login(manager, "sath.performance@accord.example")
        page = await manager.get(url)
        assert page.status_code == 200 and "Recalculated limits" in page.text and "Record a recalculation" in page.text
        if before["spc"]["recalculation"]["candidate"]:
            assert "is still going" in page.text  # the engine's candidate, in months

        # Refused, with the field named and nothing stored.
        no_reason = await post_form(manager, f"{url}/recalculations", page.text, {"period": chosen.isoformat(), "reason": "  "})
        assert no_reason.status_code == 400 and "Enter the reason for recalculating the limits" in no_reason.text
        assert 'href="#reason"' in no_reason.text
        first = await post_form(manager, f"{url}/recalculations", page.text, {"period": periods[0].isoformat(), "reason": "New model"})
        assert first.status_code == 400 and "already start at the first period" in first.text
        unknown = await post_form(manager, f"{url}/recalculations", page.text, {"period": "2001-01-01", "reason": "New model"})
        assert unknown.status_code == 400 and "has a value in this series" in unknown.text
        assert await _latest_evidence(database, rxw, indicator_id) == before

        recorded = await post_form(manager, f"{url}/recalculations", page.text,
                                   {"period": chosen.isoformat(), "reason": "Same-day emergency care unit opened"})
        assert recorded.status_code == 303 and recorded.headers["location"].endswith("#recalculations")
        after = await _latest_evidence(database, rxw, indicator_id)
        # A new segment starts at the chosen period; the verdicts now describe the latest segment.
        starts = [segment["first_period"] for segment in after["spc"]["segments"]]
        # Evidence points with a value pair, in order, with the stored rows (as the indicator page pairs them).
        chosen_index = [p for p in after["spc"]["points"] if p["value"] is not None][periods.index(chosen)]["index"]
        assert len(starts) == len(before["spc"]["segments"]) + 1 and starts[-1] == chosen_index
        assert after["spc"]["recalculation"]["candidate"] is False or after["spc"]["recalculation"]["from_period"] > starts[-1]
        [(object_id, audit_after, actor)] = await _audit(database, rxw, "spc_recalculation.record", "Same-day emergency care unit opened")
        assert audit_after["period"] == chosen.isoformat() and audit_after["reason"] == "Same-day emergency care unit opened" and actor

        duplicate = await post_form(manager, f"{url}/recalculations", page.text,
                                    {"period": chosen.isoformat(), "reason": "Again"})
        assert duplicate.status_code == 409 and "already recalculated" in duplicate.text

        shown = await manager.get(url)
        assert "Same-day emergency care unit opened" in shown.text and "In use" in shown.text and "Dev Patel" in shown.text
        withdraw_url = f"{url}/recalculations/{object_id}/withdraw"
        assert f'action="{withdraw_url}"' in shown.text

        unexplained = await post_form(manager, withdraw_url, shown.text, {"withdrawal_reason": ""})
        assert unexplained.status_code == 400 and "Enter the reason for withdrawing" in unexplained.text
        withdrawn = await post_form(manager, withdraw_url, shown.text, {"withdrawal_reason": "The unit opened a month later"})
        assert withdrawn.status_code == 303
        again = await post_form(manager, withdraw_url, shown.text, {"withdrawal_reason": "twice"})
        assert again.status_code == 409

        final = await manager.get(url)
    assert "Withdrawn" in final.text and "The unit opened a month later" in final.text
    # Withdrawn: the series is derived exactly as before the decision.
    restored = await _latest_evidence(database, rxw, indicator_id)
    assert restored["spc"]["segments"] == before["spc"]["segments"] and restored["spc"]["variation"] == before["spc"]["variation"]
    assert len(await _audit(database, rxw, "spc_recalculation.withdraw", "The unit opened a month later")) == 1


async def test_only_an_entitled_role_may_record_a_recalculation(app, database, org_ids):
    code, _, periods, _ = await _indicator_with_long_series(database, org_ids["RXW"])
    url = SERIES.format(code=code)
    async with await fresh_client(app) as executive, await fresh_client(app) as outsider:
        await login(executive, "sath.exec@accord.example")
        page = await executive.get(url)
        assert page.status_code == 200 and "Record a recalculation" not in page.text
        refused = await post_form(executive, f"{url}/recalculations", page.text, {"period": periods[-5].isoformat(), "reason": "Because"})
        assert refused.status_code == 403 and "does not allow you to recalculate" in refused.text

        await login(outsider, "ulht.performance@accord.example")
        own = await outsider.get("/")
        foreign = await post_form(outsider, f"{url}/recalculations", own.text, {"period": periods[-5].isoformat(), "reason": "Because"})
        assert foreign.status_code == 404
    async with database.session(await runner_access(database, org_ids["RXW"])) as session:
        stored = (await session.exec(text("select count(*) from spc_recalculation where reason = 'Because'"))).scalar_one()
    assert stored == 0


def test_the_form_works_without_javascript(project_root):
    template = (project_root / "templates" / "partials" / "recalculation_panel.html").read_text(encoding="utf-8")
    forms = re.findall(r"<form[^>]*>", template)
    assert forms and all('method="post"' in form for form in forms)
    assert "hx-" not in template
