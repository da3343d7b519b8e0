"""Read a CSV or XLSX file into rows of cells, refusing what would be silently mangled.

Row numbers are the file's own: the first row is row 1, as a spreadsheet shows it. XLSX is read
with python-calamine (Rust's calamine: fast, maintained, reads values not formulas).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass

from server.imports.problems import Cell, ImportProblem, ImportRefused

CellValue = str | float | int | bool | dt.date | dt.datetime | dt.timedelta | dt.time | None
# C0 controls and DEL, except tab, line feed and carriage return (which a quoted CSV cell may hold).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BOM = "\ufeff"
MAX_ROWS = 200_000
MAX_COLUMNS = 1_000
MAX_CELLS = 3_000_000
MAX_UNPACKED_BYTES = 200_000_000
# Where a workbook puts its cells: calamine sizes its grid from the furthest one before reading.
ROW_OR_CELL_NUMBER = re.compile(rb'\sr="[A-Za-z$]*(\d+)"')
WIDE_COLUMN = re.compile(rb'\sr="\$?([A-Za-z]{2,})\$?\d')
NARROW_COLUMN = re.compile(rb'\sr="\$?[A-Za-z]\$?\d')


@dataclass(frozen=True)
class Sheet:
    """All rows of the file's first sheet; ``rows[i]`` is the file's row ``i + 1``."""

    rows: list[list[CellValue]]
    kind: str  # "csv" or "xlsx"
    may_hold_controls: bool = True  # False when the whole text was searched once and found clean


def read_file(content: bytes, filename: str) -> Sheet:
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or content[:4] == b"PK\x03\x04":
        sheet = _read_xlsx(content)
    elif name.endswith((".csv", ".txt")) or not name.rpartition(".")[1]:
        sheet = _read_csv(content)
    else:
        raise ImportRefused([ImportProblem(None, None, None, f"'{filename}' is not a CSV or XLSX file")])
    problems = control_character_problems(sheet) if sheet.may_hold_controls else []
    if problems:
        raise ImportRefused(problems)
    return sheet


def _read_csv(content: bytes) -> Sheet:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Files saved by older Excel for Windows: every byte is a character in Windows-1252.
        text = content.decode("cp1252", errors="replace")
    text = text.removeprefix(BOM)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    rows: list[list[CellValue]] = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    _check_size(rows)
    return Sheet(rows=rows, kind="csv", may_hold_controls=CONTROL.search(text) is not None)


def _read_xlsx(content: bytes) -> Sheet:
    from python_calamine import CalamineWorkbook

    _check_xlsx_extent(content)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (zipfile.BadZipFile, ValueError, OSError, Exception) as error:  # noqa: BLE001 (calamine raises its own error types)
        raise ImportRefused([ImportProblem(None, None, None, f"the file could not be read as an XLSX workbook ({type(error).__name__})")]) from None
    _check_size(rows)
    return Sheet(rows=[list(row) for row in rows], kind="xlsx")


def _check_xlsx_extent(content: bytes) -> None:
    """Refuse a workbook whose cells lie far apart, or that unpacks to far more than it weighs,
    before calamine allocates its grid: a 5 KB file with one cell at XFD1048576 would otherwise
    ask for half a terabyte and abort the process."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked, rows, columns, cells = 0, 0, 0, 0
        for entry in archive.infolist():
            is_sheet = entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml")
            with archive.open(entry) as stream:
                tail = b""
                while chunk := stream.read(1 << 20):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNPACKED_BYTES:
                        raise ImportRefused([ImportProblem(None, None, None, "the workbook unpacks to more than 200 MB; send it as CSV")])
                    if is_sheet:
                        text = tail + chunk
                        rows, columns, cells = _furthest(text, rows, columns, cells)
                        tail = text[-64:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
        raise ImportRefused([ImportProblem(None, None, None, f"the file could not be read as an XLSX workbook ({type(error).__name__})")]) from None
    if rows > MAX_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_CELLS or cells > MAX_CELLS:
        raise ImportRefused([ImportProblem(None, None, None, (
            f"the workbook has cells as far as row {rows:,} and column {columns:,}; send at most {MAX_ROWS:,} rows and "
            f"{MAX_COLUMNS:,} columns ({MAX_CELLS:,} cells), or delete the far cells"))])


def _furthest(text: bytes, rows: int, columns: int, cells: int) -> tuple[int, int, int]:
    """The furthest row and column referred to so far, and the cells counted (ones without a
    reference follow the one before them, so their count bounds how far they reach)."""
    numbers = set(ROW_OR_CELL_NUMBER.findall(text))
    rows = max(rows, *map(int, numbers)) if numbers else rows
    wide = set(WIDE_COLUMN.findall(text))
    columns = max(columns, *(_column_number(letters.decode().upper()) for letters in wide)) if wide else columns
    if not wide and columns < 26 and NARROW_COLUMN.search(text):
        columns = 26
    return rows, columns, cells + text.count(b"<c ") + text.count(b"<c>")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _check_size(rows: list) -> None:  # type: ignore[type-arg]
    if len(rows) > MAX_ROWS:
        raise ImportRefused([ImportProblem(None, None, None, f"the file has {len(rows):,} rows; send at most {MAX_ROWS:,} at a time")])


def control_character_problems(sheet: Sheet) -> list[ImportProblem]:
    problems = []
    for row_index, row in enumerate(sheet.rows):
        if not CONTROL.search("\n".join(value for value in row if isinstance(value, str))):
            continue  # one search per row; the cell is found only when there is something to name
        for column, value in enumerate(row):
            if isinstance(value, str) and (match := CONTROL.search(value)):
                code = f"U+{ord(match.group()):04X}"
                problems.append(ImportProblem.at(Cell(row_index + 1, column), f"contains a control character ({code}); remove it and try again"))
                if len(problems) >= 50:
                    return problems
    return problems


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text_of(value: CellValue) -> str:
    """A cell as text, without a leading BOM or the apostrophe that guards formula-like text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip().removeprefix(BOM)
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text
