"""Rows pasted from a spreadsheet (CSV or tab-separated), parsed into measurement items.

Columns by header name: indicator, unit, period, value, numerator, denominator, status (the last
four optional as the indicator needs). A header is required so columns are never guessed.
"""
from __future__ import annotations

import csv
import io

from server.measurements.record import MeasurementItem, RowProblem

REQUIRED = ("indicator", "unit", "period")
KNOWN = (*REQUIRED, "value", "numerator", "denominator", "status")


def parse_rows(text: str) -> tuple[list[MeasurementItem], list[RowProblem]]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return [], [RowProblem(1, "rows", "paste at least a header row and one data row")]
    dialect = "excel-tab" if "\t" in lines[0] else "excel"
    reader = csv.DictReader(io.StringIO("\n".join(lines)), dialect=dialect)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in KNOWN]
    if missing or unknown:
        message = "; ".join(filter(None, [
            f"missing column(s): {', '.join(missing)}" if missing else "", f"unknown column(s): {', '.join(unknown)}" if unknown else "",
        ]))
        return [], [RowProblem(1, "header", message)]
    reader.fieldnames = header
    items = []
    for row in reader:
        cells = {key: (value or "").strip() for key, value in row.items() if key}
        items.append(MeasurementItem(
            indicator_code=cells["indicator"], unit_code=cells["unit"], period=cells["period"],
            value=cells.get("value") or None, numerator=cells.get("numerator") or None, denominator=cells.get("denominator") or None,
            status=cells.get("status") or "provisional",
        ))
    return items, []
