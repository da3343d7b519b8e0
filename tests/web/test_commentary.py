"""The owner's commentary on a period (issue 14): written on the indicator page by a role the matrix
allows, kept version by version, and printed beside the chart in the IPR PDF. Refusals name the field
and store nothing; other roles see no form and are refused."""
from __future__ import annotations

import pypdfium2
from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from tests.conftest import login
from tests.web.test_plan_pages import fresh_client, post_form

PAGE = "/organisations/RWD/indicators/AGENCY"
FIRST = "Agency use fell after the winter escalation wards closed."
SECOND = "Agency spend down for a third month: bank rates agreed with the Medicine division."


async def _versions(database, org_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with database.session(await runner_access(database, org_id)) as session:
        return list((await session.exec(text(
            "select c.body from commentary c join indicator i on i.id = c.indicator_id"
            " where c.org_id = :org and i.code = 'AGENCY' and c.unit_id is null order by c.id"
        ), params={"org": org_id})).scalars())


def _pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    try:
        return " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


async def test_write_commentary_and_see_it_in_the_ipr(app, database, org_ids):
    rwd = org_ids["RWD"]
    before = await _versions(database, rwd)
    async with await fresh_client(app) as lead:
        await login(lead, "ulht.performance@accord.example")
        page = await lead.get(PAGE)
        assert page.status_code == 200 and 'id="commentary"' in page.text and 'name="commentary"' in page.text
        period = page.text.split('name="period" value="', 1)[1].split('"', 1)[0]

        empty = await post_form(lead, f"{PAGE}/commentary", page.text, {"period": period, "commentary": "  "})
        assert empty.status_code == 400 and "Enter the commentary" in empty.text and 'href="#commentary-text"' in empty.text
        old = await post_form(lead, f"{PAGE}/commentary", page.text, {"period": "2001-01-01", "commentary": FIRST})
        assert old.status_code == 400 and "Choose a period that has a value" in old.text
        assert await _versions(database, rwd) == before

        assert (await post_form(lead, f"{PAGE}/commentary", page.text, {"period": period, "commentary": FIRST})).status_code == 303
        assert (await post_form(lead, f"{PAGE}/commentary", page.text, {"period": period, "commentary": SECOND})).status_code == 303
        shown = await lead.get(PAGE)
        assert SECOND in shown.text and "Mark Wilson" in shown.text
        pdf = await lead.get("/organisations/RWD/ipr.pdf")
    assert await _versions(database, rwd) == [*before, FIRST, SECOND]  # every version kept
    words = " ".join(_pdf_text(pdf.content).split())
    assert "Commentary:" in words and "bank rates agreed" in words


async def test_only_roles_the_matrix_names_write_commentary(app):
    async with await fresh_client(app) as viewer:
        await login(viewer, "whssc.commissioner@accord.example")
        home = await viewer.get("/")
        refused = await post_form(viewer, f"{PAGE}/commentary", home.text, {"period": "2026-10-01", "commentary": "x"})
        assert refused.status_code == 404  # another organisation's indicator is not found
    async with await fresh_client(app) as division:
        await login(division, "ulht.division@accord.example")
        page = await division.get(PAGE)
        assert 'name="commentary"' in page.text  # a divisional triumvirate writes its own narrative
