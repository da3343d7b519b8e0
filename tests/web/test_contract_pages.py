"""The contract pages (issue 15): a commissioner's contracts, one provider's figures recorded at its
contract unit with the finance outturn, and a notice raised, issued and withdrawn through the forms,
each step in the notice's history; errors sit beside the field; a provider's own people never see
the commissioner's notices."""
from __future__ import annotations

import re

from sqlalchemy import text

from server.db.session import AccessContext
from tests.conftest import login
from tests.web.test_plan_pages import fresh_client, post_form

CONTRACTS, DIRECTOR = "sheffield.contracts@accord.example", "sheffield.director@accord.example"
WHSSC = "whssc.commissioner@accord.example"


async def test_the_contract_list_shows_every_provider_and_its_route(app):
    async with await fresh_client(app) as manager:
        await login(manager, CONTRACTS)
        page = await manager.get("/organisations/03N/contracts")
    assert page.status_code == 200
    for name in ("Sheffield Teaching Hospitals", "Sheffield Children", "Sheffield Health and Social Care"):
        assert name in page.text
    assert "Recorded by Sheffield CCG" in page.text


async def test_whssc_sees_its_providers_side_by_side_and_filters_them_by_patient_cohort(app, database, org_ids):
    """WHSSC CPAF appendix 1: the measure domains applied to patient cohorts, across the providers WHSSC records
    figures for (WHSSC is in no system: its providers' position is where its cohorts are used)."""
    async with await fresh_client(app) as commissioner:
        await login(commissioner, WHSSC)
        everything = (await commissioner.get("/organisations/WHSSC/contracts")).text
        cohort = (await commissioner.get("/organisations/WHSSC/contracts?cohort=referred_not_treated")).text
    matrix = everything[everything.index('id="provider-matrix"'):]
    assert "5 indicators across 8 providers" in matrix  # the eight it records; RJAH reports its own (a tenant)
    for code in ("PRIORITISED", "ACTIVITY", "MORT30", "READMIT30", "LONGWAIT"):
        assert f'<span class="accord-code">{code}</span>' in matrix
    # The cohorts of the measures recorded for providers, by the file's names (no provider measure is of the diverted cohort).
    assert '<option value="referred_not_treated">Patients referred but not treated</option>' in everything
    assert 'value="diverted"' not in everything
    shown = cohort[cohort.index('id="provider-matrix"'):]
    assert "1 indicator across 8 providers, patient cohort: Patients referred but not treated" in shown
    assert re.findall(r'<span class="accord-code">(\w+)</span>', shown) == ["LONGWAIT"]
    # A value is WHSSC's figure at the provider's contract unit, and opens that series' chart.
    async with database.session(AccessContext.for_orgs([org_ids["WHSSC"]])) as session:
        stored = (await session.exec(text(
            "select a.value from assessment a join indicator i on i.id = a.indicator_id join org_unit u on u.id = a.unit_id"
            " where a.org_id = :org and i.code = 'LONGWAIT' and u.code = 'WHSSC-PROV-RET' and a.is_latest"), params={"org": org_ids["WHSSC"]})
        ).scalar_one()
    link = re.search(r'href="/organisations/WHSSC/indicators/LONGWAIT\?unit=WHSSC-PROV-RET"><span class="nhsuk-u-visually-hidden">'
                     r'Longest wait for specialised treatment, The Walton Centre NHS Foundation Trust: </span>([\d.]+)\s*weeks', shown)
    assert link is not None and float(link.group(1)) == round(stored, 1)


async def test_a_commissioner_without_cohorts_sees_its_providers_without_the_cohort_filter(app):
    async with await fresh_client(app) as manager:
        await login(manager, CONTRACTS)
        page = (await manager.get("/organisations/03N/contracts")).text
    assert 'id="provider-matrix"' in page and "across 3 providers" in page
    assert 'name="cohort"' not in page


async def test_a_contract_page_shows_the_providers_figures_and_the_outturn(app):
    async with await fresh_client(app) as manager:
        await login(manager, CONTRACTS)
        page = await manager.get("/organisations/03N/contracts/RHQ")
    assert page.status_code == 200
    assert "A&amp;E patients seen within 4 hours" in page.text and "Longest RTT wait" in page.text
    assert "QIPP savings" not in page.text  # the CCG's own programme measure is not the provider's
    assert "Forecast outturn" in page.text and "against a contract value of £380,000,000" in page.text
    assert "Raise a notice" in page.text


async def test_a_notice_is_raised_issued_and_withdrawn_through_the_pages(app):
    async with await fresh_client(app) as manager, await fresh_client(app) as director:
        await login(manager, CONTRACTS)
        await login(director, DIRECTOR)
        page = await manager.get("/organisations/03N/contracts/TAH")
        refused = await post_form(manager, "/organisations/03N/contracts/TAH/notices", page.text, {"kind": "performance", "title": "", "reason": "r"})
        assert refused.status_code == 400
        assert 'href="#notice-title"' in refused.text and "Enter a title" in refused.text
        raised = await post_form(manager, "/organisations/03N/contracts/TAH/notices", page.text,
                                 {"kind": "performance", "title": "IAPT access below plan", "reason": "Four months below 1.25%",
                                  "indicators": "IAPT"})
        assert raised.status_code == 303
        url = raised.headers["location"]
        assert re.fullmatch(r"/organisations/03N/contracts/TAH/notices/\d+", url)
        as_manager = await manager.get(url)
        assert "Issue the notice" not in as_manager.text  # a contract manager raises; the board issues
        notice = await director.get(url)
        assert "Issue the notice to the provider" in notice.text
        version = re.search(r'name="version" value="(\d+)"', notice.text).group(1)  # type: ignore[union-attr]
        issued = await post_form(director, url, notice.text, {"step": "issue", "version": version})
        assert issued.status_code == 303
        notice = await director.get(url)
        assert "Issued to the provider" in notice.text
        stale = await post_form(director, url, notice.text, {"step": "withdraw", "version": version, "note": "raised in error"})
        assert stale.status_code == 409 and "Someone changed this notice" in stale.text
        version = re.findall(r'name="version" value="(\d+)"', notice.text)[-1]
        no_reason = await post_form(director, url, notice.text, {"step": "withdraw", "version": version, "note": ""})
        assert no_reason.status_code == 400 and 'href="#withdraw-note"' in no_reason.text
        withdrawn = await post_form(director, url, notice.text, {"step": "withdraw", "version": version, "note": "Agreed at the board instead"})
        assert withdrawn.status_code == 303
        final = await director.get(url)
        assert "Withdrawn" in final.text and "Agreed at the board instead" in final.text and "Tom Hale" in final.text
        assert "Ruth Barker" in final.text  # who raised it, in the history
        contract = await manager.get("/organisations/03N/contracts/TAH")
        assert "IAPT access below plan" in contract.text


async def test_another_organisation_cannot_open_a_commissioners_contract_pages(app):
    async with await fresh_client(app) as other:
        await login(other, "sath.performance@accord.example")
        assert (await other.get("/organisations/03N/contracts")).status_code == 404
        assert (await other.get("/organisations/03N/contracts/RHQ")).status_code == 404
