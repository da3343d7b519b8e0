"""Bad input is refused with a message naming the file's row, column and indicator; nothing is stored."""
from __future__ import annotations

import pytest

from server.db.session import AccessContext
from server.imports.service import import_file
from tests.imports.conftest import stored_count

HEADER = "Indicator code,Indicator,Unit code,Unit,Measured as,Period,Value,Numerator,Denominator"
AE = "AE4H,A&E patients seen within 4 hours,RXW-MEC-ED-RSH,ED RSH,numerator and denominator"
GOOD = "AE4H,A&E patients seen within 4 hours,RXW-MEC-ED-PRH,ED PRH,numerator and denominator,2013-05-01,,4500,5000"


async def _import(database, org_ids, text: str | bytes, *, filename: str = "data.csv", dry_run: bool = False):  # type: ignore[no-untyped-def]
    content = text.encode("utf-8") if isinstance(text, str) else text
    async with database.session(AccessContext.for_orgs([org_ids["RXW"]], write=True)) as session:
        return await import_file(session, org_id=org_ids["RXW"], user_id=None, content=content, filename=filename, dry_run=dry_run)


@pytest.mark.parametrize(("row", "where", "words"), [
    (f"{AE},2013-05-01,,1e15,5000", "column H (Numerator)", "too large"),
    (f"{AE},2013-05-01,,4500,0.0000001", "column I (Denominator)", "too small"),
    (f"{AE},2013-05-01,,\"1,234\",5000", "column H (Numerator)", "ambiguous: it could be 1234"),
    (f"{AE},2013-05-01,,4500,5000,surplus", "column J", "no heading"),
    (f"{AE},2013-05-01,,4\x00500,5000", "column H", "control character (U+0000)"),
    (f"{AE},2013-05-15,,4500,5000", "column F (Period)", "not the first day of a month"),
    (f"{AE},2013-05-01,,5500,5000", "column H (Numerator)", "more than the denominator"),
    (f"{AE},2013-05-01,95%,,", "column G (Value)", "give the numerator and denominator"),
    (f"{AE},someday,,4500,5000", "column F (Period)", "is not a month"),
    (f"AE4H,x,RXW-MEC,Medicine,y,2013-05-01,,4500,5000", "column C (Unit code)", "record at the lowest level"),
])
async def test_each_problem_names_row_column_and_indicator(database, org_ids, row, where, words):
    outcome = await _import(database, org_ids, f"{HEADER}\n{GOOD}\n\n{row}\n")
    assert not outcome.ok
    problem = outcome.problems[0]
    assert problem.row == 4, problem  # the blank row 3 is skipped but still counted, as a spreadsheet counts
    assert f"column {problem.column}".startswith(where) and words in problem.message, problem
    if "control" not in words and "no heading" not in words:
        assert problem.indicator == "A&E patients seen within 4 hours"
    assert await stored_count(database, org_ids["RXW"], "2013-05-01") == 0


async def test_a_byte_order_mark_in_the_header_is_not_part_of_a_heading(database, org_ids):
    outcome = await _import(database, org_ids, ("\ufeff" + f"{HEADER}\n{AE},2013-06-01,,4500,5000\n").encode("utf-8"), dry_run=True)
    assert outcome.ok, outcome.problems
    assert outcome.format == "template" and outcome.changes[0].new == 1


async def test_decimal_commas_that_cannot_be_thousands_are_read(database, org_ids):
    outcome = await _import(database, org_ids, f"{HEADER}\n{AE},2013-06-01,,\"4500,5\",\"5000,25\"\n", dry_run=True)
    assert outcome.ok, outcome.problems


async def test_a_file_that_is_not_a_spreadsheet_is_refused(database, org_ids):
    outcome = await _import(database, org_ids, b"%PDF-1.7 ...", filename="report.pdf")
    assert not outcome.ok and "not a CSV or XLSX" in outcome.problems[0].message


async def test_an_unknown_header_says_which_formats_are_known(database, org_ids):
    outcome = await _import(database, org_ids, "name,score\nx,1\n")
    assert not outcome.ok and "matches no known format" in outcome.problems[0].message


async def test_one_bad_row_stores_nothing_from_the_good_ones(database, org_ids):
    outcome = await _import(database, org_ids, f"{HEADER}\n{AE},2013-07-01,,4500,5000\n{AE},2013-08-01,,x,5000\n")
    assert [(p.row, p.column) for p in outcome.problems] == [(3, "H (Numerator)")]
    assert await stored_count(database, org_ids["RXW"], "2013-07-01") == 0


async def test_a_workbook_with_a_far_away_cell_is_refused_before_it_is_unpacked(database, org_ids):
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    sheet.write(0, 0, "Indicator code")
    sheet.write(1048575, 16383, "far")  # a 5 KB file whose grid would need half a terabyte
    workbook.close()
    outcome = await _import(database, org_ids, buffer.getvalue(), filename="far.xlsx")
    assert not outcome.ok and "as far as row 1,048,576 and column 16,384" in outcome.problems[0].message
