"""Problems found in a file, each naming the file's own row and column and the indicator."""
from __future__ import annotations

from dataclasses import dataclass


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the letters a spreadsheet shows above the column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@dataclass(frozen=True)
class Cell:
    """Where a value came from: the file's row number (as a spreadsheet counts) and column."""

    row: int
    column: int  # 0-based
    heading: str = ""

    @property
    def where(self) -> str:
        heading = f" ({self.heading})" if self.heading else ""
        return f"row {self.row}, column {column_letter(self.column)}{heading}"


@dataclass(frozen=True)
class ImportProblem:
    row: int | None
    column: str | None  # "F (Numerator)"
    indicator: str | None  # the indicator's name, as people know it
    message: str

    @classmethod
    def at(cls, cell: Cell | None, message: str, indicator: str | None = None) -> "ImportProblem":
        if cell is None:
            return cls(None, None, indicator, message)
        heading = f" ({cell.heading})" if cell.heading else ""
        return cls(cell.row, f"{column_letter(cell.column)}{heading}", indicator, message)

    def __str__(self) -> str:
        where = ", ".join(filter(None, [f"Row {self.row}" if self.row else "", f"column {self.column}" if self.column else ""]))
        about = f"{self.indicator}: " if self.indicator else ""
        return f"{where}: {about}{self.message}" if where else f"{about}{self.message}"


class ImportRefused(Exception):
    """The file cannot be read at all (wrong type, no header...): nothing is stored."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
