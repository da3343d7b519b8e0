"""Who may do what, as the seeds say (issue 15), tried through the pages: WHSSC's commissioner schedules
WHSSC's own (SLA) meetings; THGPCG's operational lead drafts an exception action plan for THGPCG."""
from __future__ import annotations

from tests.conftest import login
from tests.web.test_plan_pages import fresh_client


async def test_whssc_commissioner_schedules_its_sla_meetings(app):
    async with await fresh_client(app) as commissioner:
        await login(commissioner, "whssc.commissioner@accord.example")
        page = await commissioner.get("/organisations/WHSSC/meetings")
        assert page.status_code == 200 and 'action="/organisations/WHSSC/meetings/schedule"' in page.text


async def test_thgpcg_operational_lead_may_draft_its_own_plan(app):
    async with await fresh_client(app) as lead:
        await login(lead, "thgpcg.ops@accord.example")
        form = await lead.get("/plans/new")
        assert form.status_code == 200 and 'value="NL4"' in form.text  # THGPCG is offered as the plan's owner
