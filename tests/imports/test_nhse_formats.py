"""Each NHS England sample, in its published layout, maps to the right indicators and units."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from server.imports.mapping import detect_format, load_mappings, parse_mapped
from server.imports.read import read_file
from tests.imports.conftest import sample

MARCH_2024 = dt.date(2024, 3, 1)


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(sample(name).decode("utf-8"))))


def _number(text: str) -> int:
    return int(text) if text.strip() else 0


def _mapped(name: str, framework):  # type: ignore[no-untyped-def]
    sheet = read_file(sample(name), name)
    format_name = detect_format(sheet, load_mappings())
    return format_name, parse_mapped(sheet, framework, format_name, load_mappings())


def _by_indicator(mapped) -> dict:  # type: ignore[no-untyped-def]
    return {line.indicator_code: line for line in mapped.lines}


async def test_ae_file_gives_the_four_hour_standard_at_the_emergency_department(sath):
    name = "ae-provider-march-2024.csv"
    format_name, mapped = _mapped(name, sath)
    assert format_name == "nhse-ae" and not mapped.problems
    row = next(r for r in _rows(name) if r["Org Code"] == "RXW")
    attendances = sum(_number(v) for k, v in row.items() if k.startswith("A&E attendances"))
    over = sum(_number(v) for k, v in row.items() if k.startswith("Attendances over 4hrs"))
    line = _by_indicator(mapped)["AE4H"]
    assert (line.unit_code, line.period) == ("RXW-MEC-ED-RSH", MARCH_2024)
    assert (line.numerator, line.denominator) == (attendances - over, attendances) == (8983, 13300)
    assert mapped.other_providers == 4  # Sheffield, Manchester and the total row are not SaTH's


async def test_rtt_file_adds_up_incomplete_pathways_over_commissioners(sath):
    name = "rtt-full-march-2024.csv"
    format_name, mapped = _mapped(name, sath)
    assert format_name == "nhse-rtt" and not mapped.problems
    rows = [r for r in _rows(name) if r["Provider Org Code"] == "RXW" and r["RTT Part Type"] == "Part_2" and r["Treatment Function Code"] == "C_999"]
    assert len(rows) == 2
    within = sum(int(r[f"Gt {w:02d} To {w + 1:02d} Weeks SUM 1"]) for r in rows for w in range(18))
    over_65 = sum(int(r[f"Gt {w:02d} To {w + 1:02d} Weeks SUM 1"]) for r in rows for w in range(65, 104)) + sum(int(r["Gt 104 Weeks SUM 1"]) for r in rows)
    lines = _by_indicator(mapped)
    assert (lines["RTT18"].numerator, lines["RTT18"].denominator) == (within, sum(int(r["Total"]) for r in rows))
    assert lines["RTT65"].value == over_65 and lines["RTT65"].unit_code == "RXW-SAC-GS"
    assert "RTT52" in mapped.not_in_framework  # SaTH does not watch 52-week waits


async def test_cancer_extract_gives_62_day_and_faster_diagnosis_standards(sath):
    format_name, mapped = _mapped("cancer-provider-march-2024.csv", sath)
    assert format_name == "nhse-cancer" and not mapped.problems
    lines = _by_indicator(mapped)
    assert (lines["CAN62"].numerator, lines["CAN62"].denominator) == (19 + 8 + 5, 22 + 15 + 7)
    assert (lines["CANFDS"].numerator, lines["CANFDS"].denominator) == (371 + 342 + 90, 412 + 520 + 96)
    assert {line.unit_code for line in mapped.lines} == {"RXW-SAC-ONC"}


async def test_dm01_workbook_reads_the_period_from_its_title_block(sath):
    format_name, mapped = _mapped("dm01-provider-march-2024.xlsx", sath)
    assert format_name == "nhse-dm01" and not mapped.problems
    line = _by_indicator(mapped)["DM01"]
    bands = [1710, 1450, 1190, 980, 820, 690, 520, 410, 330, 250, 180, 120, 90, 260]
    assert (line.period, line.unit_code) == (MARCH_2024, "RXW-CSS-RAD")
    assert (line.numerator, line.denominator) == (sum(bands[6:]), sum(bands))
    assert line.cells["denominator"].row == 16  # the file's own row: title block, blank row, header on 14, England on 15


async def test_a_commissioner_records_each_provider_at_its_contract_unit(database, org_ids):
    from server.db.session import AccessContext
    from server.imports.framework import load_framework

    async with database.session(AccessContext.for_orgs([org_ids["03N"]])) as session:
        sheffield = await load_framework(session, org_id=org_ids["03N"])
    _, mapped = _mapped("ae-provider-march-2024.csv", sheffield)
    assert not mapped.problems
    assert {(line.unit_code, line.denominator) for line in mapped.lines} == {
        ("03N-PROV-STH", Decimal(13480 + 4520 + 210 + 85)), ("03N-PROV-SCH", Decimal(4890 + 35)),
    }
