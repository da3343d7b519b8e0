"""The lists people work from filter and sort with plain GET forms; the audit trail reads in people's words."""
from __future__ import annotations

import datetime as dt
import re

from server.audit.history import AuditEntry
from server.web.pages.audit import changes, describe, role_words
from tests.conftest import login
from tests.web.test_plan_pages import drafted_plan, fresh_client  # noqa: F401 (drafted_plan: a fixture)


def entry(action: str, object_type: str, object_id: str | None, before=None, after=None, role="data_submitter,executive") -> AuditEntry:
    return AuditEntry(1, dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC), "Priya Shah", "p@x", role, action, object_type, object_id, before, after, None)


def test_audit_entries_read_as_sentences_with_role_names_and_links():
    critique = describe(entry("plan.critique", "improvement_plan", "7"), "STW")
    assert critique.sentence == "Recorded the delivery group's critique of plan 7" and critique.href == "/plans/7"
    opened = describe(entry("escalation.opened", "escalation", "55"), "RWD")
    assert opened.sentence == "Opened escalation 55" and opened.href == "/organisations/RWD/escalations/55"
    unknown = describe(entry("widget.polished", "widget", None), "RWD")
    assert unknown.sentence == "Widget polished (widget)" and unknown.href is None
    assert role_words("data_submitter,executive") == "Data submitter, Executive"
    granted = changes(entry("role.granted", "role_assignment", "3", {"roles": ["viewer"]}, {"roles": ["viewer", "data_submitter"], "domain": "org:RWD"}))
    assert [(c.field, c.before, c.after) for c in granted] == [("Roles", "Viewer", "Viewer, Data submitter"), ("Where", "", "Org RWD")]


async def test_plans_filter_by_state_and_kind_and_sort_by_title(app, drafted_plan):
    async with await fresh_client(app) as lead:
        await login(lead, "stw.lead@accord.example")
        everything = (await lead.get("/plans", params={"state": "all", "sort": "title"})).text
        titles = re.findall(r'<a href="/plans/\d+">([^<]+)</a>', everything)
        assert titles == sorted(titles, key=str.lower) and titles
        closed = (await lead.get("/plans", params={"state": "closed"})).text
        # Other tests may have closed or escalated plans of their own: the draft is never among them.
        assert f'href="/plans/{drafted_plan}"' not in closed and f'href="/plans/{drafted_plan}"' in everything
        assert '<option value="closed" selected>' in closed
        recovery = (await lead.get("/plans", params={"kind": "recovery"})).text
        assert f'href="/plans/{drafted_plan}"' not in recovery  # the drafted plan is a SPIP
        bogus = await lead.get("/plans", params={"state": "<script>", "sort": "x"})
        assert bogus.status_code == 200 and '<option value="open" selected>' in bogus.text


async def test_escalation_register_filters_by_level_and_status(client):
    await login(client, "ulht.performance@accord.example")
    everything = (await client.get("/organisations/RWD/escalations", params={"status": "all"})).text
    level_three = (await client.get("/organisations/RWD/escalations", params={"status": "all", "level": "3"})).text
    levels = [int(n) for n in re.findall(r'<td class="nhsuk-table__cell">(\d): ', level_three)]
    assert all(level >= 3 for level in levels)
    assert len(re.findall(r"/escalations/\d+\"", everything)) >= len(levels)
    closed = (await client.get("/organisations/RWD/escalations", params={"status": "closed"})).text
    assert "Open escalations" not in closed


async def test_audit_trail_filters_by_kind_and_keeps_the_filter_across_pages(client):
    await login(client, "admin@accord.example")
    plans_only = (await client.get("/organisations/STW/audit", params={"kind": "plans", "sort": "oldest"})).text
    assert "Opened escalation" not in plans_only
    assert '<option value="plans" selected>' in plans_only and '<option value="oldest" selected>' in plans_only
    everything = (await client.get("/organisations/STW/audit")).text
    assert "as System planning lead" in everything or "Accord, automatically" in everything
    assert "data_submitter" not in everything and "improvement_plan 1" not in everything


async def test_meetings_filter_by_forum_and_say_why_in_words(client):
    await login(client, "ulht.performance@accord.example")
    page = await client.get("/organisations/RWD/meetings")
    await client.post("/organisations/RWD/meetings/schedule", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)})
    board_only = (await client.get("/organisations/RWD/meetings", params={"forum": "BOARD"})).text
    listed = board_only.split('id="meeting-list"')[1].split('id="forums"')[0]
    assert "Trust Board" in listed and "Executive Team</a>" not in listed
    assert "tenant file" not in listed and "under its terms of reference" in listed
