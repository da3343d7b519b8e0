"""Year-to-date and forecast outturn through the read paths (issue 15): exact figures from known
months, the indicator page and its CSV, the IPR (page and PDF) and GraphQL, in one statement
whatever the number of indicators."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pypdfium2
import pytest
from sqlalchemy import text

from server.assessment.outturn import OutturnMonth, outturn_series
from server.measurements.record import MeasurementItem
from server.measurements.submit import submit_measurements
from server.reporting.outturn import indicator_outturns
from server.web.templating import format_number
from tests.conftest import login
from tests.graphql.test_tool_questions import _token, ask, counted_statements
from tests.measurements.factories import create_trust

ULHT = "ulht.performance@accord.example"


@pytest.fixture(scope="module")
async def trust(database):
    trust = await create_trust(database, "OUTT1", wards=2)
    async with database.session(trust.access) as session:
        await session.exec(text("update indicator set outturn = '{\"year_start_month\": 4, \"method\": \"run_rate\"}' where id = :i"),
                           params={"i": trust.indicators["FALLS"]})
        # April to June 2025: 4 + 5, 7 + 5, 3 + 3 falls (target 10 a month, lower is better), and March 2025 before the year.
        values = {dt.date(2025, 3, 1): (20, 0), dt.date(2025, 4, 1): (4, 5), dt.date(2025, 5, 1): (7, 5), dt.date(2025, 6, 1): (3, 3)}
        items = [MeasurementItem("FALLS", ward, month, value=value) for month, pair in values.items() for ward, value in zip(trust.leaf_codes, pair)]
        outcome = await submit_measurements(session, org_id=trust.org_id, user_id=None, items=items, reason="test")
        assert outcome.ok, outcome.problems
    return trust


async def test_the_outturn_of_known_months_is_exact(database, trust) -> None:
    async with database.session(trust.access) as session:
        found = await indicator_outturns(session, [trust.indicators["FALLS"], trust.indicators["AE4H"]])
    assert list(found) == [trust.indicators["FALLS"]], "only the indicator that declares an outturn"
    falls = found[trust.indicators["FALLS"]]
    march, latest = falls.points[0], falls.latest
    assert (march.year_start, march.ytd_actual, march.months_reported) == (dt.date(2024, 4, 1), 20, 1)
    assert (latest.year_start, latest.months_reported, latest.ytd_actual, latest.ytd_plan) == (dt.date(2025, 4, 1), 3, 27, 30)
    assert latest.ytd_variance == -3 and latest.ytd_favourable is True  # fewer falls than the plan
    assert latest.forecast == 27 + 9 * 9 and latest.annual_plan == 120 and latest.forecast_variance == -12


async def test_the_ulht_ipr_indicator_page_and_csv_show_the_outturn(client, database, org_ids) -> None:
    await login(client, ULHT)
    async with database.session(await _reader(org_ids["RWD"])) as session:
        agency_id = (await session.exec(text("select id from indicator where org_id = :o and code = 'AGENCY'"), params={"o": org_ids["RWD"]})).scalar_one()
        expected = (await indicator_outturns(session, [agency_id]))[agency_id].latest
        stored = (await session.exec(text(
            "select period, value, coalesce(trajectory, target) from assessment where indicator_id = :i and unit_id is null order by period"),
            params={"i": agency_id})).all()
    # The read path gives what the arithmetic gives on the stored series.
    again = outturn_series([OutturnMonth(p, float(v), float(plan)) for p, v, plan in stored], year_start_month=4, method="run_rate",
                           polarity=-1, plan_otherwise=float(stored[-1][2]))[-1]
    assert (expected.ytd_actual, expected.ytd_plan, expected.forecast) == (again.ytd_actual, again.ytd_plan, again.forecast)
    with counted_statements(database) as statements:
        page = (await client.get("/organisations/RWD")).text
    assert "Year to date and forecast outturn" in page and "Agency staff spend" in page
    assert sum("i.outturn is not null" in s for s in statements) == 1  # both of ULHT's outturn indicators in one statement
    earlier = (await indicator_outturns_of(database, org_ids["RWD"], agency_id)).points[-4]
    as_it_stood = (await client.get("/organisations/RWD", params={"period": earlier.period.isoformat()})).text
    assert format_number(earlier.ytd_actual, "currency") in as_it_stood  # the month chosen: the outturn as it stood then
    indicator = (await client.get("/organisations/RWD/indicators/AGENCY")).text
    assert "Forecast outturn" in indicator and "run rate" in indicator
    rows = list(csv.DictReader(io.StringIO((await client.get("/organisations/RWD/indicators/AGENCY/series.csv")).text)))
    assert float(rows[-1]["forecast_outturn"]) == pytest.approx(expected.forecast)
    assert float(rows[-1]["ytd_actual"]) == pytest.approx(expected.ytd_actual) and rows[-1]["year_start"] == expected.year_start.isoformat()
    response = await client.get("/organisations/RWD/ipr.pdf")
    document = pypdfium2.PdfDocument(response.content)
    try:
        body = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    assert "Year to date and forecast outturn" in " ".join(body.split())


async def test_graphql_gives_the_outturn_of_many_indicators_in_one_statement(client, database) -> None:
    token = await _token(database, ULHT, ["performance_manager"], org_code="RWD")
    query = """query { organisation(code: "RWD") { indicators(first: 50) { nodes { code
                 outturn { method yearStartMonth latest { yearStart ytdActual ytdPlan ytdVariance forecast annualPlan forecastFavourable }
                           months { period ytdActual } } } } } }"""
    with counted_statements(database) as statements:
        data = await ask(client, token, query)
    nodes = {node["code"]: node["outturn"] for node in data["organisation"]["indicators"]["nodes"]}
    assert nodes["AE4H"] is None and nodes["AGENCY"]["method"] == "RUN_RATE" and nodes["IEVAR"]["method"] == "LINEAR"
    latest = nodes["AGENCY"]["latest"]
    assert latest["ytdVariance"] == pytest.approx(latest["ytdActual"] - latest["ytdPlan"])
    assert nodes["AGENCY"]["months"][-1]["ytdActual"] == latest["ytdActual"]
    assert sum("i.outturn is not null" in s for s in statements) == 1


async def indicator_outturns_of(database, org_id: int, indicator_id: int):  # type: ignore[no-untyped-def]
    async with database.session(await _reader(org_id)) as session:
        return (await indicator_outturns(session, [indicator_id]))[indicator_id]


async def _reader(org_id: int):  # type: ignore[no-untyped-def]
    from server.db.session import AccessContext

    return AccessContext.for_orgs([org_id])
