"""Submitters enter data through a form (per-field errors) or pasted rows (all or nothing)."""
from __future__ import annotations

import html
import re

from sqlalchemy import text

from server.db.session import AccessContext
from tests.conftest import login
from server.web.pages.measurements import typed_value
from tests.web.test_plan_pages import fresh_client, post_form


async def _leaf_rate_indicator(database, org_id):
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text(
            "select i.code, u.code from indicator i, org_unit u where i.org_id = :o and u.org_id = :o and i.rollup = 'rate' and i.unit = 'percent'"
            " and not exists (select 1 from org_unit c where c.parent_id = u.id) order by i.position, u.code limit 1"), params={"o": org_id})).one()


async def test_per_field_errors_name_what_is_wrong(app, database, org_ids):
    indicator, unit = await _leaf_rate_indicator(database, org_ids["RXW"])
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get("/organisations/RXW/measurements/new")
        assert page.status_code == 200
        response = await post_form(submitter, "/organisations/RXW/measurements", page.text,
                                   {"indicator": indicator, "unit": unit, "period": "2026-03-15", "value": "0.9"})
    assert response.status_code == 400
    assert "first day of the month" in response.text
    assert "give numerator and denominator" in response.text
    # The form shows no value field for a rate: the problem sits by its numerator.
    assert 'href="#period"' in response.text and 'href="#numerator"' in response.text and 'href="#value"' not in response.text


async def test_a_good_row_is_saved_and_rated(app, database, org_ids):
    indicator, unit = await _leaf_rate_indicator(database, org_ids["RXW"])
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get("/organisations/RXW/measurements/new")
        response = await post_form(submitter, "/organisations/RXW/measurements", page.text,
                                   {"indicator": indicator, "unit": unit, "period": "2018-05-01", "numerator": "45", "denominator": "50"})
        assert response.status_code == 303
        confirmation = await submitter.get(response.headers["location"])
    assert "1 measurement(s) saved" in confirmation.text


async def test_pasted_rows_are_all_or_nothing_with_row_numbers(app, database, org_ids):
    indicator, unit = await _leaf_rate_indicator(database, org_ids["RXW"])
    rows = f"indicator\tunit\tperiod\tnumerator\tdenominator\n{indicator}\t{unit}\t2016-02-01\t40\t50\n{indicator}\tNOWHERE\t2016-03-01\t40\t50\n"
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get("/organisations/RXW/measurements/new")
        response = await post_form(submitter, "/organisations/RXW/measurements/paste", page.text, {"rows": rows})
    assert response.status_code == 400
    # The summary names the row's indicator in words (its unit is the unknown one), not only the row number.
    assert re.search(r"Row 2 \([^),]+\), unit", response.text) and "nothing was saved" in response.text
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        stored = (await session.exec(text("select count(*) from measurement where org_id = :o and period = '2016-02-01'"), params={"o": org_ids["RXW"]})).scalar_one()
    assert stored == 0


async def test_a_viewer_cannot_enter_data(app):
    async with await fresh_client(app) as viewer:
        await login(viewer, "scht.viewer@accord.example")
        assert (await viewer.get("/organisations/R1D/measurements/new")).status_code == 403



def test_a_percentage_is_typed_as_people_say_it_and_stored_as_a_fraction():
    assert typed_value("95.5%", "percent") == (repr(0.955), None)
    assert typed_value("95", "percent") == (repr(0.95), None)
    assert typed_value("ninety", "percent") == (None, "Enter the percentage as a number, for example 95 or 95.5")
    assert typed_value("ninety", "percent", "Staff with a current appraisal") == (
        None, "Enter Staff with a current appraisal as a number, for example 95 or 95.5")
    assert typed_value("950", "percent", "Staff with a current appraisal") == (
        None, "Enter Staff with a current appraisal as a percentage from 0 to 100")
    assert typed_value("1234", "count") == ("1234", None)
    assert typed_value("", "percent") == (None, None)


async def test_the_month_is_an_nhs_date_input_of_month_and_year(app, database, org_ids):
    indicator, unit = await _leaf_rate_indicator(database, org_ids["RXW"])
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get(f"/organisations/RXW/measurements/new?indicator={indicator}")
        assert 'name="period[month]"' in page.text and 'name="period[year]"' in page.text
        bad_month = await post_form(submitter, "/organisations/RXW/measurements", page.text,
                                    {"indicator": indicator, "unit": unit, "period[month]": "13", "period[year]": "2017", "numerator": "4", "denominator": "5"})
        assert bad_month.status_code == 400 and "Enter the month as a number from 1 to 12" in bad_month.text
        assert 'value="13"' in bad_month.text  # what was typed is kept
        saved = await post_form(submitter, "/organisations/RXW/measurements", page.text,
                                {"indicator": indicator, "unit": unit, "period[month]": "3", "period[year]": "2017", "numerator": "45", "denominator": "50"})
        assert saved.status_code == 303, saved.text
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]])) as session:
        stored = (await session.exec(text(
            "select m.numerator from measurement m join indicator i on i.id = m.indicator_id join org_unit u on u.id = m.unit_id"
            " where i.org_id = :o and i.code = :i and u.code = :u and m.period = '2017-03-01'"),
            params={"o": org_ids["RXW"], "i": indicator, "u": unit})).scalar_one()
    assert float(stored) == 45


async def _leaf_indicator(database, org_id, condition):
    async with database.session(AccessContext.for_orgs([org_id])) as session:
        return (await session.exec(text(
            f"select i.code, i.name, u.code from indicator i, org_unit u where i.org_id = :o and u.org_id = :o and {condition}"
            " and not exists (select 1 from org_unit c where c.parent_id = u.id) order by i.position, u.code limit 1"), params={"o": org_id})).one()


def _fields(page: str) -> set[str]:
    form = page.split('action="/organisations/RXW/measurements" method="post"')[1].split("</form>")[0]
    return set(re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', form))


async def test_the_form_asks_only_for_the_numbers_the_chosen_indicator_needs(app, database, org_ids):
    rate, rate_name, _ = await _leaf_indicator(database, org_ids["RXW"], "i.rollup = 'rate'")
    single, single_name, _ = await _leaf_indicator(database, org_ids["RXW"], "i.rollup <> 'rate' and i.unit = 'weeks'")
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        rate_page = (await submitter.get(f"/organisations/RXW/measurements/new?indicator={rate}")).text
        single_page = (await submitter.get(f"/organisations/RXW/measurements/new?indicator={single}")).text
        first_page = (await submitter.get("/organisations/RXW/measurements/new")).text
    assert {"numerator", "denominator"} <= _fields(rate_page) and "value" not in _fields(rate_page)
    assert f"The count that meets the measure, for {html.escape(rate_name)}" in rate_page
    assert "value" in _fields(single_page) and not {"numerator", "denominator"} & _fields(single_page)
    assert f'<h3 class="nhsuk-heading-s" id="indicator">{html.escape(single_name)}</h3>' in single_page
    assert re.search(r'class="nhsuk-input-wrapper__suffix"[^>]*>weeks<', single_page)  # the unit beside the number
    assert re.search(r'<label class="nhsuk-label" for="value">\s*Value, in weeks\s*</label>', single_page)  # and in its label
    # The chooser is a GET form: it works without JavaScript.
    assert 'action="/organisations/RXW/measurements/new" method="get"' in first_page
    assert f'<option value="{single}" selected>' in single_page


async def test_a_rate_with_a_zero_denominator_is_refused_beside_the_denominator_naming_the_indicator(app, database, org_ids):
    code, name, unit = await _leaf_indicator(database, org_ids["RXW"], "i.rollup = 'rate'")
    async with await fresh_client(app) as submitter:
        await login(submitter, "sath.performance@accord.example")
        page = await submitter.get(f"/organisations/RXW/measurements/new?indicator={code}")
        refused = await post_form(submitter, "/organisations/RXW/measurements", page.text,
                                  {"indicator": code, "unit": unit, "period[month]": "4", "period[year]": "2015", "numerator": "3", "denominator": "0"})
    assert refused.status_code == 400
    assert f"Must be greater than zero for &#39;{html.escape(name)}&#39;" in refused.text and 'href="#denominator"' in refused.text
    assert _fields(refused.text) >= {"numerator", "denominator"}  # still the chosen indicator's form
