"""The tenant's own template: downloaded, filled in as people type, sent back."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from server.imports.read import read_file
from server.imports.template import HEADINGS, parse_template, template_csv, template_xlsx

PERIOD = dt.date(2013, 4, 1)


def _filled(rows: list[list[str]], values: dict[tuple[str, str], tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        key = (row[0], row[2])
        writer.writerow(row[:6] + list(values[key]) if key in values else row)
    return buffer.getvalue().encode("utf-8")


def test_template_lists_indicators_by_name_at_their_lowest_units(sath):
    rows = list(csv.reader(io.StringIO(template_csv(sath, PERIOD).decode("utf-8-sig"))))
    assert rows[0] == list(HEADINGS)
    ae = [row for row in rows if row[0] == "AE4H"]
    assert {row[2] for row in ae} == {code for code, unit in sath.units.items() if unit.is_leaf}
    assert ae[0][1] == "A&E patients seen within 4 hours" and ae[0][4] == "numerator and denominator" and ae[0][5] == "2013-04-01"


def test_xlsx_template_round_trips_with_percentages_as_people_type_them(sath):
    from dataclasses import replace

    from server.imports.framework import IndicatorInfo

    # No seeded tenant keeps a percentage as a single value; one that did would type it like this.
    percent_single = IndicatorInfo(id=0, code="SURVEY", name="Staff survey response", unit="percent", rollup="max", frequency="monthly")
    sath = replace(sath, indicators={**sath.indicators, "SURVEY": percent_single})
    sheet = read_file(template_xlsx(sath, PERIOD), "template.xlsx")
    assert [str(cell) for cell in sheet.rows[0]] == list(HEADINGS)
    rows = [[str(cell) for cell in row] for row in sheet.rows]
    unit = sath.recording_units(percent_single)[0].code
    content = _filled(rows, {("AE4H", "RXW-MEC-ED-RSH"): ("", "4512", "5,890.0"), (percent_single.code, unit): ("95%", "", "")})
    lines, problems = parse_template(read_file(content, "filled.csv"), sath)
    assert problems == []
    by_code = {line.indicator_code: line for line in lines}
    assert (by_code["AE4H"].numerator, by_code["AE4H"].denominator) == (Decimal(4512), Decimal(5890))
    assert by_code[percent_single.code].value == Decimal("0.95")
    assert len(lines) == 2  # rows left empty say nothing


def test_csv_template_neutralises_formula_like_cells(sath):
    from dataclasses import replace

    from server.imports.framework import IndicatorInfo

    risky = IndicatorInfo(id=0, code="RISK", name="=HYPERLINK(\"http://evil\")", unit="count", rollup="sum", frequency="monthly")
    framework = replace(sath, indicators={"RISK": risky})
    text = template_csv(framework, PERIOD).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    # ...and the guard is taken off again when the file comes back
    lines, _ = parse_template(read_file(text.replace(",,,", ",7,,").encode(), "back.csv"), framework)
    assert [line.value for line in lines if line.indicator_code == "RISK"][:1] == [Decimal(7)]
