"""The import page: upload without JavaScript (a plain multipart form), see the answer, download the template."""
from __future__ import annotations

from tests.conftest import csrf_from, login
from tests.imports.conftest import sample, stored_count
from tests.web.test_plan_pages import fresh_client

PAGE = "/organisations/RXW/imports"


async def test_upload_without_javascript_checks_then_stores(app, database, org_ids):
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get(PAGE)
        assert page.status_code == 200
        assert 'enctype="multipart/form-data"' in page.text and 'name="csrf_token"' in page.text
        files = {"file": ("rtt-full-march-2024.csv", sample("rtt-full-march-2024.csv"), "text/csv")}
        before = await stored_count(database, org_ids["RXW"], "2024-03-01")
        checked = await submitter.post(PAGE, data={"csrf_token": csrf_from(page.text), "dry_run": "1"}, files=files)
        assert checked.status_code == 200, checked.text
        assert "Checked: nothing saved yet" in checked.text and "RTT incomplete pathways within 18 weeks" in checked.text
        assert await stored_count(database, org_ids["RXW"], "2024-03-01") == before
        stored = await submitter.post(PAGE, data={"csrf_token": csrf_from(page.text)}, files=files)
    assert stored.status_code == 200 and "Import complete" in stored.text and "2 measurements saved" in stored.text
    assert await stored_count(database, org_ids["RXW"], "2024-03-01") == before + 2


async def test_a_refused_file_shows_an_error_summary_naming_rows(app):
    bad = "Indicator code,Indicator,Unit code,Unit,Measured as,Period,Value,Numerator,Denominator\nAE4H,x,RXW-MEC-ED-RSH,y,z,2013-09-01,,12,abc\n"
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get(PAGE)
        response = await submitter.post(PAGE, data={"csrf_token": csrf_from(page.text)}, files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert response.status_code == 400
    assert "nhsuk-error-summary" in response.text and "nothing was saved" in response.text
    assert "Row 2, column I (Denominator): A&amp;E patients seen within 4 hours: &#39;abc&#39; is not a number" in response.text


async def test_htmx_gets_the_answer_as_a_fragment(app):
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get(PAGE)
        response = await submitter.post(PAGE, data={"csrf_token": csrf_from(page.text), "dry_run": "1"},
                                        files={"file": ("dm01.xlsx", sample("dm01-provider-march-2024.xlsx"), "application/octet-stream")},
                                        headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.text.lstrip().startswith('<div id="import-result"')
    assert "Diagnostic patients waiting 6 weeks or more" in response.text and "<html" not in response.text


async def test_templates_download_for_submitters_only(app):
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        xlsx = await submitter.get(f"{PAGE}/template.xlsx")
        csv = await submitter.get(f"{PAGE}/template.csv")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK" and "RXW" in xlsx.headers["content-disposition"]
    assert csv.status_code == 200 and "A&E patients seen within 4 hours" in csv.content.decode("utf-8-sig")
    async with await fresh_client(app) as viewer:
        await login(viewer, "scht.viewer@accord.example")
        assert (await viewer.get("/organisations/R1D/imports")).status_code == 403
        assert (await viewer.get("/organisations/R1D/imports/template.csv")).status_code == 403
