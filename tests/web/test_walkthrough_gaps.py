"""Gaps found walking issue 15 through the running demo as each seed's users (VERIFY15): a commissioner
reaches each provider's contract from the home page and from the provider's own IPR; a system's lead sees
the system organisation's related pages (decided by system roles); forms never prefill "None"; a system
figure made from one member says so in words that fit one member; README lists every demo account."""
from __future__ import annotations

import re

from server.demo.users import DEMO_USERS
from server.settings import PROJECT_ROOT
from tests.conftest import login
from tests.web.test_plan_pages import fresh_client


async def test_home_lists_own_organisations_first_then_each_provider_with_its_contract(app):
    async with await fresh_client(app) as client:
        await login(client, "whssc.commissioner@accord.example")
        home = (await client.get("/")).text
    own, providers = home.index("Welsh Health Specialised Services Committee</a></h2>"), home.index("Providers you commission")
    assert own < providers
    # Alder Hey is not a tenant: its figures are WHSSC's contract unit, so the home page leads to the contract,
    # not to an empty IPR of the provider.
    section = home[home.index('id="org-RBS"'):]
    section = section[:section.index("</section>")]
    assert 'href="/organisations/WHSSC/contracts/RBS"' in section
    assert 'href="/organisations/RBS"' not in section
    # RJAH is a tenant whose contractual indicators WHSSC reads: both its IPR and the contract are linked.
    section = home[home.index('id="org-RL1"'):]
    section = section[:section.index("</section>")]
    assert 'href="/organisations/RL1"' in section and 'href="/organisations/WHSSC/contracts/RL1"' in section
    assert "key indicators" in section


async def test_a_providers_ipr_seen_by_its_commissioner_links_to_the_contract(app):
    async with await fresh_client(app) as client:
        await login(client, "sheffield.contracts@accord.example")
        page = await client.get("/organisations/RHQ")
    assert page.status_code == 200
    assert "contractual indicators only" in page.text
    assert 'href="/organisations/03N/contracts/RHQ"' in page.text


async def test_a_systems_own_ipr_links_its_pages_for_the_system_roles(app):
    async with await fresh_client(app) as client:
        await login(client, "stw.lead@accord.example")
        page = await client.get("/organisations/STW")
        pages = {href for href in re.findall(r'<nav aria-label="Pages for this organisation">(.*?)</nav>', page.text, re.DOTALL)[0].split('"')
                 if href.startswith("/organisations/STW/")}
        for href in pages:
            assert (await client.get(href)).status_code == 200, href
    assert {"/organisations/STW/escalations", "/organisations/STW/maturity", "/organisations/STW/meetings"} <= pages
    assert "/organisations/STW/measurements/new" not in pages  # a lead of the system enters no data for it


async def test_empty_text_areas_are_empty_not_none(app):
    async with await fresh_client(app) as manager, await fresh_client(app) as ulht:
        await login(manager, "sheffield.contracts@accord.example")
        contract = (await manager.get("/organisations/03N/contracts/RHQ")).text
        await login(ulht, "ulht.performance@accord.example")
        autonomy = (await ulht.get("/organisations/RWD/autonomy")).text
    for text in (contract, autonomy):
        assert not re.search(r"<textarea[^>]*>\s*None\s*</textarea>", text)
        assert "<textarea" in text


async def test_a_system_figure_from_one_member_is_worded_for_one(app):
    async with await fresh_client(app) as client:
        await login(client, "stw.lead@accord.example")
        page = (await client.get("/organisations/STW/indicators/AE4H")).text
    assert "RXW&#39;s AE4H, as reported, once it is reported." in page or "RXW's AE4H, as reported, once it is reported." in page
    assert "once every one of them" not in page


def test_readme_lists_every_demo_account():
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [user.email for user in DEMO_USERS if f"`{user.email}`" not in readme]
    assert not missing, missing


async def test_an_ipr_without_visible_indicators_claims_nothing_at_a_glance(app):
    async with await fresh_client(app) as client:
        await login(client, "sheffield.contracts@accord.example")
        empty = (await client.get("/organisations/RHQ")).text
        own = (await client.get("/organisations/03N")).text
    assert "No indicators are visible to you" in empty
    assert "At a glance" not in empty and "Every indicator with a target meets it" not in empty
    assert "At a glance" in own


async def test_a_notice_tells_the_contract_manager_who_takes_its_next_steps(app):
    async with await fresh_client(app) as manager:
        await login(manager, "sheffield.contracts@accord.example")
        contract = (await manager.get("/organisations/03N/contracts/RHQ")).text
        notice_href = re.search(r'href="(/organisations/03N/contracts/RHQ/notices/\d+)"', contract).group(1)
        page = (await manager.get(notice_href)).text
    # The demo's notice has its remedial plan agreed: closing or withdrawing it is the director's (an executive's).
    assert "Your roles take no step on this notice now" in page
    assert "close the notice, by the role executive" in page and "withdraw the notice, by the role executive" in page
