"""The programmes pages (Sheffield 3.1): the list and each programme's page with milestones, QIPP planned
against realised with the year-to-date gap, risks and the escalation level and why; the forms, for the
roles the policy allows, with errors beside the field; nothing for another organisation's people."""
from __future__ import annotations

import datetime as dt
import re

import pytest_asyncio
from sqlalchemy import text

from server.db.session import AccessContext
from server.programmes.facts import add_months, month_start
from tests.conftest import login
from tests.graphql.test_tool_questions import counted_statements
from tests.programmes.helpers import CONTRACTS, LEAD, PMO, open_escalation, retire, slipping_programme
from tests.web.test_plan_pages import fresh_client, post_form


@pytest_asyncio.fixture(loop_scope="session")
async def slipping(database, org_ids):  # type: ignore[no-untyped-def]
    code = await slipping_programme(database, org_ids["03N"])
    yield code
    await retire(database, org_ids["03N"], code)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_list_shows_each_programme_with_its_qipp_gap_and_escalation(app, database):
    async with await fresh_client(app) as client:
        await login(client, CONTRACTS)
        organisation = await client.get("/organisations/03N")
        assert 'href="/organisations/03N/programmes"' in organisation.text  # the organisation's pages link to it
        with counted_statements(database) as sent:
            page = await client.get("/organisations/03N/programmes")
    assert page.status_code == 200
    words = _text(page.text)
    assert "Urgent care programme" in words and "Tom Hale" in words  # its SRO: the Director of Delivery, by name
    assert "Integrated Performance and Delivery Board (first point of escalation)" in words  # urgent care, slipping
    assert "Exception raised with the PMO" in words  # mental health, a red risk this month
    assert re.search(r"£[\d,]+ short \(\d+%\)", words)
    assert len([s for s in sent if "programme" in s]) == 1  # every programme, its milestones, QIPP, risks and escalation in one


async def test_the_programme_page_explains_the_level_and_shows_the_year_to_date_gap(app):
    async with await fresh_client(app) as client:
        await login(client, CONTRACTS)
        page = await client.get("/organisations/03N/programmes/UEC")
    assert page.status_code == 200
    words = _text(page.text)
    assert "Level 3: Integrated Performance and Delivery Board" in words
    assert re.search(r"1 milestone overdue; QIPP £[\d,]+ \([\d.]+%\) behind plan April to \w+ \d{4}; 1 red risk \(score 15 or more\)\. "
                     r"The exception has stayed unresolved since \w+ \d{4}, 2 months after the month it was raised", words), words
    assert "Single point of access for urgent care open" in words and "Overdue" in words
    assert "Winter demand exceeds the urgent care capacity commissioned" in words and "16 high" in words
    assert re.search(r"realised against £[\d,]+ planned, April to \w+ \d{4}: £[\d,]+ short", words)
    assert "Record a milestone achieved" not in words  # a contract manager reads, the PMO and programme leads record


async def test_a_programme_lead_records_a_milestone_achieved_on_the_page(app, database, org_ids, slipping):
    sheffield = org_ids["03N"]
    async with await fresh_client(app) as client:
        await login(client, LEAD)
        page = await client.get(f"/organisations/03N/programmes/{slipping}")
        assert "Record a milestone achieved" in page.text and "Add a milestone" not in page.text  # adding is the PMO's
        milestone = re.search(r'<option value="(\d+)"[^>]*>Test hub open', page.text).group(1)
        future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
        refused = await post_form(client, f"/organisations/03N/programmes/{slipping}/milestones/achieved", page.text,
                                  {"milestone": milestone, "achieved_on": future})
        assert refused.status_code == 400
        assert 'href="#milestone-achieved"' in refused.text and "must be today or in the past" in refused.text
        saved = await post_form(client, f"/organisations/03N/programmes/{slipping}/milestones/achieved", page.text,
                                {"milestone": milestone, "achieved_on": dt.date.today().isoformat()})
        assert saved.status_code == 303
        after = await client.get(saved.headers["location"])
    assert "Achieved late" in after.text and "recorded as achieved" in after.text
    assert await open_escalation(database, sheffield, slipping) is None


async def test_the_pmo_sets_the_plan_and_the_lead_reports_the_saving(app, database, org_ids, slipping):
    last_month = add_months(month_start(dt.date.today()), -1)
    async with await fresh_client(app) as pmo:
        await login(pmo, PMO)
        page = await pmo.get(f"/organisations/03N/programmes/{slipping}")
        assert "Set a month&#39;s QIPP plan" in page.text or "Set a month's QIPP plan" in page.text
        planned = await post_form(pmo, f"/organisations/03N/programmes/{slipping}/qipp", page.text,
                                  {"month": last_month.isoformat(), "planned": "£12,000"})
        assert planned.status_code == 303
    async with await fresh_client(app) as lead:
        await login(lead, LEAD)
        page = await lead.get(f"/organisations/03N/programmes/{slipping}")
        refused = await post_form(lead, f"/organisations/03N/programmes/{slipping}/qipp", page.text,
                                  {"month": last_month.isoformat(), "realised": "lots"})
        assert refused.status_code == 400 and 'href="#qipp-realised"' in refused.text
        saved = await post_form(lead, f"/organisations/03N/programmes/{slipping}/qipp", page.text,
                                {"month": last_month.isoformat(), "realised": "9000"})
        assert saved.status_code == 303
        after = _text((await lead.get(saved.headers["location"])).text)
    assert "£3,000 short" in after  # planned £12,000 last month, realised £9,000
    async with database.session(AccessContext.for_orgs([org_ids["03N"]])) as session:
        stored = (await session.exec(text(
            "select b.planned, b.realised from programme_benefit b join programme p on p.org_id = b.org_id and p.id = b.programme_id"
            " where p.code = :code and b.month = :month"), params={"code": slipping, "month": last_month})).one()
    assert tuple(map(float, stored)) == (12000.0, 9000.0)


async def test_risks_are_added_and_closed_on_the_page(app, slipping):
    async with await fresh_client(app) as client:
        await login(client, LEAD)
        page = await client.get(f"/organisations/03N/programmes/{slipping}")
        missing = await post_form(client, f"/organisations/03N/programmes/{slipping}/risks", page.text,
                                  {"description": "Estates slippage", "likelihood": "", "impact": "3", "owner": "Estates lead", "status": "open"})
        assert missing.status_code == 400 and 'href="#risk-likelihood"' in missing.text
        added = await post_form(client, f"/organisations/03N/programmes/{slipping}/risks", page.text,
                                {"description": "Estates slippage", "likelihood": "2", "impact": "3", "owner": "Estates lead", "status": "open"})
        assert added.status_code == 303
        page = await client.get(f"/organisations/03N/programmes/{slipping}")
        risk = re.search(r'name="risk" value="(\d+)"', page.text).group(1)
        closed = await post_form(client, f"/organisations/03N/programmes/{slipping}/risks", page.text,
                                 {"risk": risk, "version": "1", "description": "Estates slippage", "likelihood": "2", "impact": "3",
                                  "owner": "Estates lead", "status": "closed"})
        assert closed.status_code == 303
        stale = await post_form(client, f"/organisations/03N/programmes/{slipping}/risks", page.text,
                                {"risk": risk, "version": "1", "description": "Estates slippage", "likelihood": "5", "impact": "5",
                                 "owner": "Estates lead", "status": "open"})
        assert stale.status_code == 409
        after = _text((await client.get(f"/organisations/03N/programmes/{slipping}")).text)
    assert "Estates slippage" in after and "Closed " in after


async def test_other_organisations_people_see_nothing_and_readers_cannot_record(app, slipping):
    async with await fresh_client(app) as outsider:
        await login(outsider, "ulht.performance@accord.example")
        assert (await outsider.get("/organisations/03N/programmes")).status_code == 404
        assert (await outsider.get("/organisations/03N/programmes/UEC")).status_code == 404
    async with await fresh_client(app) as reader:
        await login(reader, CONTRACTS)
        page = await reader.get(f"/organisations/03N/programmes/{slipping}")
        refused = await post_form(reader, f"/organisations/03N/programmes/{slipping}/risks", page.text,
                                  {"description": "x", "likelihood": "2", "impact": "2", "owner": "x", "status": "open"})
        assert refused.status_code == 403
        missing = await reader.get("/organisations/03N/programmes/NOT-A-PROGRAMME")
        assert missing.status_code == 404


async def test_the_pmo_adds_a_milestone_and_keeps_the_record(app, database, org_ids, slipping):
    async with await fresh_client(app) as pmo:
        await login(pmo, PMO)
        page = await pmo.get(f"/organisations/03N/programmes/{slipping}")
        assert "Add a milestone" in page.text and "Edit the programme" in page.text
        undated = await post_form(pmo, f"/organisations/03N/programmes/{slipping}/milestones", page.text, {"title": "Business case", "due_on": ""})
        assert undated.status_code == 400 and 'href="#milestone-due"' in undated.text
        added = await post_form(pmo, f"/organisations/03N/programmes/{slipping}/milestones", page.text,
                                {"title": "Business case approved", "due_on": (dt.date.today() + dt.timedelta(days=60)).isoformat()})
        assert added.status_code == 303
        director = re.search(r'<option value="(\d+)"[^>]*>Tom Hale</option>', page.text).group(1)  # an executive: one who may be SRO
        backwards = await post_form(pmo, f"/organisations/03N/programmes/{slipping}", page.text,
                                    {"version": "1", "name": "Renamed", "sro": director, "status": "active",
                                     "starts_on": "2026-06-01", "ends_on": "2026-01-01"})
        assert backwards.status_code == 400 and 'href="#programme-ends"' in backwards.text
        saved = await post_form(pmo, f"/organisations/03N/programmes/{slipping}", page.text,
                                {"version": "1", "name": "Renamed programme", "sro": director, "status": "paused",
                                 "starts_on": "2026-04-01", "ends_on": "2027-03-31"})
        assert saved.status_code == 303
        after = _text((await pmo.get(saved.headers["location"])).text)
    assert "Renamed programme" in after and "Tom Hale" in after and "Paused" in after and "Business case approved" in after
    async with database.session(AccessContext.for_orgs([org_ids["03N"]])) as session:
        actions = (await session.exec(text(
            "select action, actor_role, after ->> 'sro' from audit_event where org_id = :org and action in ('programme.edited', 'programme.milestone_added')"
            " and after ->> 'programme' is distinct from 'x' and (after ->> 'name' = 'Renamed programme' or after ->> 'title' = 'Business case approved')"
            " order by id"), params={"org": org_ids["03N"]})).all()
    assert actions == [("programme.milestone_added", "programme_office", None), ("programme.edited", "programme_office", "Tom Hale")]


async def test_closing_an_escalated_programme_is_refused_beside_the_status(app):
    async with await fresh_client(app) as pmo:
        await login(pmo, PMO)
        page = await pmo.get("/organisations/03N/programmes/UEC")
        refused = await post_form(pmo, "/organisations/03N/programmes/UEC", page.text,
                                  {"name": "Urgent care programme", "sro": "", "status": "closed", "starts_on": "", "ends_on": ""})
    assert refused.status_code == 400 and 'href="#programme-status"' in refused.text
    assert "closes the escalation (on the escalation page) before the programme is closed" in refused.text
