"""Find the header row of a sheet and give its data rows, refusing cells that have no heading."""
from __future__ import annotations

from dataclasses import dataclass

from server.imports.problems import Cell, ImportProblem
from server.imports.read import CellValue, Sheet, is_blank, text_of

HEADER_SEARCH_ROWS = 40  # NHS England workbooks put a title block above the header


def normalise(heading: str) -> str:
    return " ".join(heading.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Table:
    header_row: int  # the file's row number of the header
    headings: list[str]
    rows: list[tuple[int, list[CellValue]]]  # (the file's row number, cells), blank rows left out
    above: list[list[CellValue]]  # the rows above the header (title blocks)

    def index(self, heading: str) -> int | None:
        wanted = normalise(heading)
        for position, name in enumerate(self.headings):
            if normalise(name) == wanted:
                return position
        return None

    def cell(self, row: int, column: int) -> Cell:
        heading = self.headings[column] if column < len(self.headings) else ""
        return Cell(row, column, heading)

    @staticmethod
    def value(cells: list[CellValue], column: int) -> CellValue:
        return cells[column] if column < len(cells) else None


def header_position(sheet: Sheet, required: list[str]) -> int | None:
    """The index of the first row (within the title block's reach) holding every required heading."""
    wanted = {normalise(name) for name in required}
    for position, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        if wanted <= {normalise(text_of(value)) for value in row}:
            return position
    return None


def find_table(sheet: Sheet, required: list[str]) -> Table | None:
    position = header_position(sheet, required)
    if position is None:
        return None
    headings = [text_of(value) for value in sheet.rows[position]]
    while headings and not headings[-1]:
        headings.pop()
    rows = [(position + 2 + offset, cells) for offset, cells in enumerate(sheet.rows[position + 1:]) if not _blank(cells)]
    return Table(header_row=position + 1, headings=headings, above=sheet.rows[:position], rows=rows)


def _blank(cells: list[CellValue]) -> bool:
    try:
        return not "".join(cells).strip()  # type: ignore[arg-type]  # a CSV row: all text, one join
    except TypeError:
        return all(is_blank(value) for value in cells)


def unheaded_cell_problems(table: Table) -> list[ImportProblem]:
    """A cell with no heading above it would be dropped without a word: refuse it instead."""
    problems = []
    unheaded = [column for column, heading in enumerate(table.headings) if not heading]
    width = len(table.headings)
    for number, cells in table.rows:
        for column in [*unheaded, *range(width, len(cells))]:
            value = cells[column] if column < len(cells) else None
            if is_blank(value):
                continue
            problems.append(ImportProblem.at(
                Cell(number, column),
                f"'{text_of(value)}' is in a column with no heading (the header, row {table.header_row}, has "
                f"{len(table.headings)} columns); remove the extra cell or give its column a heading",
            ))
            break
    return problems
