"""The reporting pages through the HTTP client: system position, IPR and its exports, indicator."""
from __future__ import annotations

import datetime as dt
import html

import csv
import io
import re

import pytest
from sqlalchemy import text

from server.db.session import AccessContext
from server.reporting.export import CSV_HEADER
from tests.conftest import login
from tests.reporting.test_board_paper import save_pages

LEAD = "stw.lead@accord.example"
SATH = "sath.exec@accord.example"
ULHT = "ulht.performance@accord.example"


async def test_system_position_shows_every_member_with_spectrum_and_maturity(client):
    await login(client, LEAD)
    response = await client.get("/systems/STW?set=all")
    assert response.status_code == 200, response.text
    page = response.text
    for member in ("SaTH", "RJAH", "SCHT"):
        assert f">{member}</a>" in page
    assert 'id="system-matrix"' in page
    assert "Performance spectrum" in page
    assert any(level in page for level in ("Unacceptable", "Requires improvement", "Good", "Outstanding"))
    # Every member's self-assessment from the demo (server/demo/stories.py), each linked with its date.
    assert '<a href="/organisations/RL1/maturity">Level 3</a>' in page and '<a href="/organisations/QOC/maturity">Level 4</a>' in page
    assert "Not assessed" not in page and "(self-assessed " in page
    assert "Special cause" in page  # icon text alternatives, not colour alone


async def test_system_position_marks_indicators_a_member_does_not_report(client):
    await login(client, LEAD)
    page = (await client.get("/systems/STW?set=all")).text
    assert "Not reported" in page  # A&E is SaTH's and the system's, not RJAH's


async def test_systems_list_offers_the_system_to_its_lead_only(client):
    await login(client, LEAD)
    assert 'href="/systems/STW"' in (await client.get("/systems")).text
    client.cookies.clear()
    await login(client, SATH)
    assert 'href="/systems/STW"' not in (await client.get("/systems")).text


async def test_trust_executive_cannot_see_the_system_position(client):
    await login(client, SATH)
    response = await client.get("/systems/STW?set=all")
    assert response.status_code == 404
    assert "Robert Jones" not in response.text


async def test_domain_filter_works_as_a_plain_get_form(client):
    await login(client, LEAD)
    page = (await client.get("/systems/STW", params={"set": "all", "domain": "cancer"})).text
    matrix = page[page.index('id="system-matrix"'):]
    assert "CAN62" in matrix
    assert "AE4H" not in matrix
    assert re.search(r'<option value="cancer" selected', page)


async def test_htmx_filter_request_gets_only_the_matrix(client):
    await login(client, LEAD)
    response = await client.get("/systems/STW", params={"set": "all", "domain": "cancer"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="system-matrix"')
    assert "CAN62" in response.text
    assert response.headers["vary"] == "HX-Request"


async def test_htmx_history_restore_gets_the_whole_page(client):
    await login(client, LEAD)
    response = await client.get("/systems/STW", params={"set": "all", "domain": "cancer"},
                                headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.text and 'id="system-matrix"' in response.text


async def test_unknown_system_is_not_found(client):
    await login(client, LEAD)
    assert (await client.get("/systems/NOPE")).status_code == 404


async def test_ipr_groups_the_scorecard_by_the_tenants_own_domains_in_order(client):
    await login(client, ULHT)
    response = await client.get("/organisations/RWD")
    assert response.status_code == 200, response.text
    page = response.text
    # ULHT orders its balanced scorecard finance, workforce, quality, operational performance.
    positions = [page.index(f'id="domain-{code}"') for code in ("finance", "workforce", "quality", "operational")]
    assert positions == sorted(positions)
    assert "At a glance" in page
    assert "By division" in page


async def test_ipr_lists_open_escalations_and_actions(client, database, org_ids):
    from server.db.models import Action, ImprovementPlan

    async with database.session(AccessContext.for_orgs([org_ids["RXW"]], write=True)) as session:
        escalated = (await session.exec(text(
            "select subject_name from escalation where org_id = :o and status <> 'closed' order by level desc, opened_at limit 1"),
            params={"o": org_ids["RXW"]})).scalar_one()
        plan = ImprovementPlan(org_id=org_ids["RXW"], title="A&E flow recovery", sro="COO", partner_org_ids=[org_ids["RXW"]])
        session.add(plan)
        await session.flush()
        session.add(Action(org_id=org_ids["RXW"], plan_id=plan.id, description="Open the discharge lounge at weekends", owner="Site lead",
                           due_date=dt.date(2030, 1, 31)))
    await login(client, SATH)
    page = (await client.get("/organisations/RXW")).text
    assert '<h2 id="escalations">Escalations</h2>' in page
    assert '<h2 id="open-actions">Open actions</h2>' in page
    assert html.escape(escalated) in page
    assert "Open the discharge lounge at weekends" in page and "due 31 Jan 2030" in page


async def test_ipr_drills_down_through_the_unit_tiers(client, database, org_ids):
    await login(client, ULHT)
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        division = (await session.exec(text(
            "select code, name from org_unit where org_id = :org and depth = 1 order by code limit 1"), params={"org": org_ids["RWD"]})).one()
        service = (await session.exec(text(
            "select c.name from org_unit c join org_unit p on p.id = c.parent_id where p.code = :code order by c.name limit 1"),
            params={"code": division[0]})).scalar_one()
    page = (await client.get("/organisations/RWD", params={"unit": division[0]})).text
    assert f"<h1>{division[1]}</h1>" in page and "Integrated performance report: division of" in page
    assert "By service" in page
    assert service in page
    assert 'class="nhsuk-breadcrumb__link" href="/organisations/RWD"' in page


async def test_ipr_flags_masked_failures_in_words(client, database, org_ids):
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        masked = (await session.exec(text(
            "select o.code from assessment a join organisation o on o.id = a.org_id"
            " where a.is_latest and a.masked_failure and o.code in ('RWD', 'RXW', 'RL1', 'R1D') order by o.code limit 1"))).first()
    if masked is None:
        pytest.skip("the demo data has no masked failure in these organisations")
    await login(client, LEAD if masked[0] != "RWD" else ULHT)
    page = (await client.get(f"/organisations/{masked[0]}")).text
    assert "Failures masked by a compliant total" in page
    assert "meets the target." in page


async def test_unknown_unit_is_not_found(client):
    await login(client, SATH)
    assert (await client.get("/organisations/RXW", params={"unit": "RWD-MED"})).status_code == 404


@pytest.mark.parametrize("path", [
    "/organisations/RWD", "/organisations/RWD/ipr.csv", "/organisations/RWD/ipr.pdf", "/organisations/RWD/indicators/AE4H",
])
async def test_another_organisations_reports_are_not_found(client, path):
    await login(client, SATH)
    response = await client.get(path)
    assert response.status_code == 404
    assert "United Lincolnshire" not in response.text


@pytest.mark.parametrize("path", ["/systems/STW", "/organisations/RXW/ipr.csv", "/organisations/RXW/indicators/AE4H"])
async def test_reports_need_a_login(client, path):
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_ipr_csv_has_the_header_and_one_row_per_indicator(client, database, org_ids):
    await login(client, SATH)
    response = await client.get("/organisations/RXW/ipr.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_HEADER
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        stored = dict((await session.exec(text(
            "select i.code, a.value from indicator i left join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest"
            " where i.org_id = :org"), params={"org": org_ids["RXW"]})).all())
    body = {row[4]: row for row in rows[1:]}
    assert set(body) == set(stored)
    for code, value in stored.items():
        assert body[code][0] == "RXW"
        assert (float(body[code][10]) if body[code][10] else None) == (pytest.approx(value) if value is not None else None)


async def test_ipr_pdf_is_a_pdf_board_paper(client):
    await login(client, SATH)
    response = await client.get("/organisations/RXW/ipr.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


async def test_indicator_table_matches_the_stored_assessment_rows(client, database, org_ids):
    await login(client, SATH)
    response = await client.get("/organisations/RXW/indicators/AE4H")
    assert response.status_code == 200, response.text
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        stored = (await session.exec(text(
            "select a.period, a.value, a.rag from assessment a join indicator i on i.id = a.indicator_id"
            " where i.org_id = :org and i.code = 'AE4H' and a.unit_id is null order by a.period"), params={"org": org_ids["RXW"]})).all()
    shown = re.findall(r'data-period="([\d-]+)">.*?data-value="([^"]*)".*?data-rag="(\w+)"', response.text, re.S)
    assert len(shown) == len(stored) > 12
    assert sorted(shown) == [(period.isoformat(), repr(value), rag) for period, value, rag in stored]


async def test_indicator_page_draws_the_chart_and_explains_each_verdict(client):
    await login(client, SATH)
    page = (await client.get("/organisations/RXW/indicators/AE4H")).text
    assert 'role="img"' in page and "<title id=\"spc-title\">" in page and "<desc id=\"spc-desc\">" in page
    for heading in ("Rating against target", "Variation", "Process limits", "Assurance", "Periods under target", "Forecast"):
        assert f">{heading}</h3>" in page
    assert "Method and parameters" in page and "Run length" in page
    assert "Revision history" in page


async def test_indicator_page_at_a_unit_lists_that_units_revisions(client, database, org_ids):
    await login(client, SATH)
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        unit = (await session.exec(text(
            "select u.code, u.name from org_unit u join measurement m on m.unit_id = u.id join indicator i on i.id = m.indicator_id"
            " where i.code = 'AE4H' and u.org_id = :org limit 1"), params={"org": org_ids["RXW"]})).one()
    page = (await client.get("/organisations/RXW/indicators/AE4H", params={"unit": unit[0]})).text
    revisions = page[page.index('id="revisions-heading"'):]
    assert f"<td class=\"nhsuk-table__cell\">{unit[1]}</td>" in revisions


async def test_unknown_indicator_is_not_found(client):
    await login(client, SATH)
    assert (await client.get("/organisations/RXW/indicators/NOPE")).status_code == 404


async def test_commissioner_sees_only_the_contractual_indicators_of_its_provider(client, database, org_ids):
    await login(client, "whssc.commissioner@accord.example")
    response = await client.get("/organisations/RL1")
    assert response.status_code == 200
    assert "contractual indicators only" in response.text
    async with database.session(AccessContext.for_orgs([org_ids["RL1"]])) as session:
        local = (await session.exec(text(
            "select name from indicator where org_id = :org and source <> 'contractual' order by name limit 1"), params={"org": org_ids["RL1"]})).scalar_one()
    assert local not in response.text


async def test_revision_history_keeps_a_resubmission_beside_the_first_value(client, database, org_ids):
    """A validation resubmits the same value: both revisions show, newest first, with status and source."""
    from server.measurements.record import MeasurementItem, record_measurements

    org = org_ids["RL1"]
    async with database.session(AccessContext.for_orgs([org])) as session:
        unit_code, period, value = (await session.exec(text(
            "select u.code, m.period, m.value from measurement m join org_unit u on u.id = m.unit_id join indicator i on i.id = m.indicator_id"
            " where i.code = 'RTT65' and m.org_id = :org and m.revision = 1 and m.status = 'provisional' order by m.period, u.code limit 1"), params={"org": org})).one()
    async with database.session(AccessContext.for_orgs([org], write=True)) as session:
        outcome = await record_measurements(
            session, org_id=org, user_id=None, source="validation", reason="validated at month end",
            items=[MeasurementItem("RTT65", unit_code, period, value=str(value), status="validated")], may_validate=True,
        )
        assert outcome.ok, outcome.problems
    client.cookies.clear()
    await login(client, "rjah.exec@accord.example")
    page = (await client.get("/organisations/RL1/indicators/RTT65", params={"unit": unit_code})).text
    revisions = page[page.index('id="revisions-heading"'):]
    label = period.strftime("%b %Y")
    rows = re.findall(rf'<td class="nhsuk-table__cell accord-nowrap">{label}</td>.*?</tr>', revisions, re.S)
    assert len(rows) == 2
    assert "Validated" in rows[0] and "validation: validated at month end" in rows[0]
    assert ">2</td>" in rows[0] and ">1</td>" in rows[1]


async def test_ipr_links_only_the_pages_this_person_may_use(client, app):
    from tests.web.test_plan_pages import fresh_client

    await login(client, "sath.performance@accord.example")
    manager = (await client.get("/organisations/RXW")).text
    assert 'href="/organisations/RXW/measurements/new"' in manager and 'href="/organisations/RXW/escalations"' in manager
    assert 'href="/organisations/RXW/admin"' not in manager
    async with await fresh_client(app) as other:
        await login(other, "scht.viewer@accord.example")
        viewer = (await other.get("/organisations/R1D")).text
    assert 'href="/organisations/R1D/escalations"' in viewer and 'href="/organisations/R1D/measurements/new"' not in viewer


async def test_ipr_rows_have_a_trend_sparkline_with_its_words(client, database, org_ids):
    await login(client, ULHT)
    page = (await client.get("/organisations/RWD")).text
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        reported = (await session.exec(text(
            "select count(*) from (select indicator_id from assessment where org_id = :org and unit_id is null group by indicator_id having count(*) > 1) s"
        ), params={"org": org_ids["RWD"]})).scalar_one()
    assert page.count('class="accord-sparkline__svg"') == reported > 0
    assert '<th scope="col" class="nhsuk-table__header">Trend</th>' in page
    # The picture is hidden from assistive technology; its words say the same.
    assert re.search(r'aria-hidden="true"[^>]*xmlns="http://www.w3.org/2000/svg">', page)
    assert re.search(r'<span class="nhsuk-u-visually-hidden">Trend, [A-Z][a-z]{2} \d{4} to [A-Z][a-z]{2} \d{4}: [^<]+; lowest [^<]+, highest [^<]+\.</span>', page)


async def test_the_ipr_shows_an_earlier_month_and_its_exports_follow_it(client, database, org_ids):
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        latest = (await session.exec(text("select max(period) from assessment where org_id = :org and unit_id is null"),
                                     params={"org": org_ids["RWD"]})).scalar_one()
        month = dt.date(latest.year - (latest.month == 1), (latest.month - 2) % 12 + 1, 1)  # the month before
        stored = dict((await session.exec(text(
            "select i.code, a.value from indicator i join assessment a on a.indicator_id = i.id and a.unit_id is null"
            " where i.org_id = :org and i.frequency = 'monthly' and a.period = :month"), params={"org": org_ids["RWD"], "month": month})).all())
    await login(client, ULHT)
    query = f"?period={month.isoformat()}"
    response = await client.get(f"/organisations/RWD{query}")
    assert response.status_code == 200
    page = response.text
    assert f'<option value="{month.isoformat()}" selected>{month.strftime("%B %Y")}</option>' in page
    assert f"Showing {month.strftime('%B %Y')}." in page
    assert f'href="/organisations/RWD/ipr.csv{html.escape(query)}"' in page and f'href="/organisations/RWD/ipr.pdf{html.escape(query)}"' in page
    assert page.count(f"<td class=\"nhsuk-table__cell\">{month.strftime('%b %Y')}</td>") == len(stored) > 0
    # Each value's own SPC point gives its variation, so the summary matrix is filled, under "no assurance verdict".
    assert page.count('class="accord-summary__names"') >= 1

    rows = {row[4]: row for row in csv.reader(io.StringIO((await client.get(f"/organisations/RWD/ipr.csv{query}")).text))}
    for code, value in stored.items():
        assert rows[code][9] == month.isoformat() and float(rows[code][10]) == pytest.approx(value)

    pdf = (await client.get(f"/organisations/RWD/ipr.pdf{query}")).content
    import pypdfium2
    document = pypdfium2.PdfDocument(pdf)
    try:
        first = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert f"reporting period {month.strftime('%B %Y')}".lower() in " ".join(first.split()).lower()
    save_pages(pdf, "ipr-pdf-earlier-month")


async def test_a_past_months_links_open_each_indicator_as_it_stood_that_month(client, database, org_ids):
    """An earlier month's IPR: "At a glance" and the scorecard link to the indicator at that month, whose page
    shows the value, rating and series as they stood then (the IPR's figure), with a way back to the latest."""
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        latest = (await session.exec(text("select max(period) from assessment where org_id = :org and unit_id is null"),
                                     params={"org": org_ids["RWD"]})).scalar_one()
    month = dt.date(latest.year - (latest.month <= 3), (latest.month - 4) % 12 + 1, 1)  # three months before
    await login(client, ULHT)
    page = (await client.get(f"/organisations/RWD?period={month.isoformat()}")).text
    glance = page.split("At a glance")[1].split("</div>")[0]
    linked = re.findall(r'href="(/organisations/RWD/indicators/[^"]+)"', glance)
    assert linked and all(html.unescape(link).endswith(f"period={month:%Y-%m}") for link in linked), linked[:3]
    scorecard_links = re.findall(r'<a href="(/organisations/RWD/indicators/[^"]+)">', page.split('class="nhsuk-table accord-scorecard"')[1])
    assert scorecard_links and all(f"period={month:%Y-%m}" in link for link in scorecard_links)
    summary_links = re.findall(r'<li><a href="(/organisations/RWD/indicators/[^"]+)">', page.split('class="nhsuk-table accord-summary"')[1])
    assert summary_links and all(f"period={month:%Y-%m}" in link for link in summary_links)  # the summary matrix too
    code = re.search(r"/indicators/([^?]+)\?", linked[0]).group(1)
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        then = (await session.exec(text(
            "select a.period, a.value from assessment a join indicator i on i.id = a.indicator_id where i.org_id = :org and i.code = :code"
            " and a.unit_id is null and a.period < :before order by a.period desc limit 1"),
            params={"org": org_ids["RWD"], "code": code, "before": dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)})).one()
    indicator = (await client.get(html.unescape(linked[0]))).text
    assert f"As it stood in {month:%B %Y}" in indicator and "Show the latest position" in indicator
    rows = re.findall(r'<tr class="nhsuk-table__row" data-period="([^"]+)"', indicator)
    assert rows and max(rows) == then[0].isoformat()  # the data end at that month
    assert f"In {month:%B %Y}" in indicator
    current = (await client.get(f"/organisations/RWD/indicators/{code}")).text
    assert "As it stood in" not in current and max(re.findall(r'data-period="([^"]+)"', current)) > then[0].isoformat()
    assert (await client.get(f"/organisations/RWD/indicators/{code}?period=not-a-month")).status_code == 404


async def test_the_latest_month_is_the_default_and_a_month_that_is_not_one_is_not_found(client):
    await login(client, ULHT)
    page = (await client.get("/organisations/RWD")).text
    assert '<option value="" selected>Latest</option>' in page
    assert (await client.get("/organisations/RWD?period=October")).status_code == 404
    assert (await client.get("/organisations/RWD/ipr.csv?period=2026-13")).status_code == 404


async def test_ipr_icons_refer_to_drawings_the_page_defines_once(client):
    """The scorecard's 2 icons a row are drawn by reference to one set of symbols on the page."""
    await login(client, ULHT)
    page = (await client.get("/organisations/RWD")).text
    assert page.count('class="accord-mdc-symbols"') == 1
    defined = set(re.findall(r'<symbol id="([^"]+)"', page))
    referred = re.findall(r'<use href="#([^"]+)"/>', page)
    assert len(referred) > 10 and set(referred) <= defined
