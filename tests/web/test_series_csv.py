"""An indicator's whole series as CSV (issue 14): every stored period with its value, target, rating,
SPC mean, limits and rules, at the organisation or a unit; the same rows the page's data table shows;
another organisation's series is not found; text that a spreadsheet would run as a formula is defused."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

from server.reporting.export import SERIES_HEADER, series_csv
from server.reporting.indicator import SeriesPoint
from server.reporting.scorecard import IndicatorRef
from tests.conftest import login
from tests.web.test_plan_pages import fresh_client


async def test_the_whole_series_downloads_as_csv_matching_the_data_table(app):
    async with await fresh_client(app) as lead:
        await login(lead, "ulht.performance@accord.example")
        page = await lead.get("/organisations/RWD/indicators/AE4H")
        assert 'href="/organisations/RWD/indicators/AE4H/series.csv"' in page.text
        download = await lead.get("/organisations/RWD/indicators/AE4H/series.csv")
        unit = await lead.get("/organisations/RWD/indicators/AE4H/series.csv", params={"unit": "RWD-MED"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="RWD-all-AE4H.csv"' in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    periods = re.findall(r'<tr class="nhsuk-table__row" data-period="([0-9-]+)">', page.text)
    assert tuple(rows[0].keys()) == SERIES_HEADER
    assert sorted(row["period"] for row in rows) == sorted(periods) and len(rows) > 12
    assert all(row["indicator_code"] == "AE4H" and row["unit_code"] == "RWD" for row in rows)
    assert any(row["mean"] and row["upper_limit"] for row in rows)
    unit_rows = list(csv.DictReader(io.StringIO(unit.text)))
    assert unit_rows and all(row["unit_code"] == "RWD-MED" for row in unit_rows)


async def test_another_organisations_series_is_not_found(app):
    async with await fresh_client(app) as outsider:
        await login(outsider, "sath.exec@accord.example")
        assert (await outsider.get("/organisations/RWD/indicators/AE4H/series.csv")).status_code == 404


def test_formula_like_text_is_defused():
    indicator = IndicatorRef(id=1, code="X1", name="=HYPERLINK(\"http://evil\")", unit="count", polarity="higher_is_better",
                             frequency="monthly", is_key=False, owner=None)
    assert series_csv("ORG", "ORG", "Org", indicator, []).count("\r\n") == 1  # no points: the header alone
    point = SeriesPoint(index=0, period=dt.date(2026, 1, 1), label="Jan 2026", value=1.0, target=None, trajectory=None, rag="green",
                        masked_failure=False)
    row = list(csv.reader(io.StringIO(series_csv("ORG", "ORG", "Org", indicator, [point]))))[1]
    assert row[4].startswith("'=")
