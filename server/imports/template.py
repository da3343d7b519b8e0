"""The tenant's own template: one row per indicator and recording unit, filled in and sent back.

Percentages are typed as people type them (95 or 95% is 0.95); rates take a numerator and a
denominator. The CSV copy guards text that a spreadsheet would run as a formula.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from server.imports.framework import Framework
from server.imports.lines import Line
from server.imports.numbers import NotANumber, as_fraction, parse_number
from server.imports.periods import NotAPeriod, parse_period
from server.imports.problems import ImportProblem
from server.imports.read import Sheet, is_blank, text_of
from server.imports.table import Table, find_table, header_position, unheaded_cell_problems

NAME = "template"
HEADINGS = ("Indicator code", "Indicator", "Unit code", "Unit", "Measured as", "Period", "Value", "Numerator", "Denominator")
REQUIRED = ("Indicator code", "Unit code", "Period", "Value", "Numerator", "Denominator")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def template_rows(framework: Framework, period: dt.date) -> list[list[str]]:
    rows = [list(HEADINGS)]
    for indicator in framework.indicators.values():
        for unit in framework.recording_units(indicator):
            rows.append([indicator.code, indicator.name, unit.code, unit.name, indicator.measured_as, period.isoformat(), "", "", ""])
    return rows


def neutralise(cell: str) -> str:
    """OWASP CSV injection: text starting like a formula is kept as text by a leading apostrophe."""
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def template_csv(framework: Framework, period: dt.date) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in template_rows(framework, period):
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM tells Excel the file is UTF-8


def template_xlsx(framework: Framework, period: dt.date) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("Data")
    bold = workbook.add_format({"bold": True, "bg_color": "#E8EDEE", "border": 1})
    text_format = workbook.add_format({"num_format": "@"})
    for row_index, row in enumerate(template_rows(framework, period)):
        for column, value in enumerate(row):
            if row_index == 0:
                sheet.write_string(row_index, column, value, bold)
            elif value:
                sheet.write_string(row_index, column, value, text_format if column == 5 else None)
    sheet.freeze_panes(1, 0)
    for column, width in enumerate((14, 48, 18, 40, 28, 12, 10, 12, 12)):
        sheet.set_column(column, column, width)
    about = workbook.add_worksheet("How to fill in")
    for row_index, line in enumerate(_instructions(framework)):
        about.write_string(row_index, 0, line)
    about.set_column(0, 0, 110)
    workbook.close()
    return buffer.getvalue()


def _instructions(framework: Framework) -> list[str]:
    return [
        f"{framework.org_name}: data template",
        "Fill in the Data sheet and upload it on Accord's Import data page, or run: accord import FILE --org " + framework.org_code,
        "Period: the first day of the month, e.g. 2026-03-01 (March 2026 also works). Copy rows to give several months.",
        "Rates (Measured as 'numerator and denominator'): give both, e.g. 4,512 patients seen within 4 hours of 5,890 attendances.",
        "Percentages: type them as you would say them: 95 or 95% is 95%. A cell formatted as a percentage also works.",
        "Leave a row's numbers empty to say nothing about it. Every row is saved, or none: errors name the row and column.",
        "Do not add columns: a cell in a column with no heading is refused rather than ignored.",
    ]


def is_template(sheet: Sheet) -> bool:
    return header_position(sheet, list(REQUIRED)) is not None


def parse_template(sheet: Sheet, framework: Framework) -> tuple[list[Line], list[ImportProblem]]:
    table = find_table(sheet, list(REQUIRED))
    if table is None:
        return [], [ImportProblem(1, None, None, f"the header row needs the columns {', '.join(REQUIRED)}")]
    problems = unheaded_cell_problems(table)
    columns = {name: table.index(name) for name in REQUIRED}
    lines: list[Line] = []
    for number, cells in table.rows:
        line, row_problems = _parse_row(table, columns, number, cells, framework)
        problems.extend(row_problems)
        if line is not None:
            lines.append(line)
    return lines, problems


def _parse_row(table: Table, columns: dict, number: int, cells: list, framework: Framework) -> tuple[Line | None, list[ImportProblem]]:  # type: ignore[type-arg]
    def cell(name: str):  # type: ignore[no-untyped-def]
        return table.cell(number, columns[name])

    def raw(name: str) -> object:
        return table.value(cells, columns[name])

    numbers = {"value": raw("Value"), "numerator": raw("Numerator"), "denominator": raw("Denominator")}
    if all(is_blank(value) for value in numbers.values()):
        return None, []  # a template row left empty says nothing
    code = text_of(raw("Indicator code"))
    indicator = framework.indicators.get(code)
    name = indicator.name if indicator else None
    problems: list[ImportProblem] = []
    try:
        period = parse_period(raw("Period"))
    except NotAPeriod as error:
        problems.append(ImportProblem.at(cell("Period"), str(error), name))
        period = None
    parsed: dict[str, Decimal | None] = {}
    for field, value in numbers.items():
        parsed[field] = None
        if is_blank(value):
            continue
        try:
            amount, percent_sign = parse_number(value)
            if field == "value" and indicator is not None and indicator.unit == "percent":
                amount = as_fraction(amount, percent_sign)
            elif percent_sign:
                raise NotANumber(f"'{text_of(value)}': a {field} is a number of cases, not a percentage")
            parsed[field] = amount
        except NotANumber as error:
            problems.append(ImportProblem.at(cell(field.capitalize()), str(error), name))
    if period is None or problems:
        return None, problems
    cells_of = {
        "indicator": cell("Indicator code"), "unit": cell("Unit code"), "period": cell("Period"),
        "value": cell("Value"), "numerator": cell("Numerator"), "denominator": cell("Denominator"),
    }
    return Line(code, text_of(raw("Unit code")), period, parsed["value"], parsed["numerator"], parsed["denominator"], cells_of), []
