"""The Making Data Count summary matrix: indicators counted and named by variation (rows) and
assurance (columns), as NHS England's SPC summary visuals lay them out. Read top-left to
bottom-right: improving and passing first, concerning and failing last, so a board sees at once
what to celebrate and what to act on.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server.reporting.status import IndicatorStatus

VARIATION_ROWS = (
    ("special_cause_improving", "Special cause improvement"),
    ("common_cause", "Common cause"),
    ("special_cause_neutral", "Special cause, neither better"),
    ("special_cause_concerning", "Special cause concern"),
    ("none", "No variation verdict"),
)
ASSURANCE_COLUMNS = (
    ("consistently_pass", "Consistently passing"),
    ("hit_and_miss", "Hit and miss"),
    ("consistently_fail", "Consistently failing"),
    ("none", "No assurance verdict"),
)


@dataclass(frozen=True, slots=True)
class MatrixEntry:
    name: str
    href: str | None
    direction: int | None  # the variation's side (+1 high, -1 low), for the icon


@dataclass(frozen=True, slots=True)
class MatrixCell:
    variation: str
    assurance: str
    entries: tuple[MatrixEntry, ...]

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    variation: str
    label: str
    cells: tuple[MatrixCell, ...]

    @property
    def count(self) -> int:
        return sum(cell.count for cell in self.cells)


@dataclass(frozen=True, slots=True)
class SummaryMatrix:
    rows: tuple[MatrixRow, ...]
    columns: tuple[tuple[str, str], ...]
    total: int

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    def column_count(self, assurance: str) -> int:
        return sum(cell.count for row in self.rows for cell in row.cells if cell.assurance == assurance)


def statuses(items: Iterable[tuple[str, str | None, IndicatorStatus | None]]) -> Iterable[MatrixItem]:
    """(name, link, latest status) as matrix items; an indicator without a status is not counted."""
    return ((name, href, s.variation, s.assurance, s.variation_direction) for name, href, s in items if s is not None)


MatrixItem = tuple[str, str | None, str, str, int | None]  # name, link, variation, assurance, side of the signal


def summary_matrix(items: Iterable[MatrixItem]) -> SummaryMatrix:
    """``items``: (name, link or None, variation, assurance, side); ``statuses`` makes them from latest statuses.

    Rows and columns with no indicator in them are kept except the "no verdict" ones, so the grid
    has the same shape from one month to the next.
    """
    known_variations = {code for code, _ in VARIATION_ROWS}
    known_assurances = {code for code, _ in ASSURANCE_COLUMNS}
    grouped: dict[tuple[str, str], list[MatrixEntry]] = {}
    total = 0
    for name, href, variation, assurance, direction in items:
        variation = variation if variation in known_variations else "none"
        assurance = assurance if assurance in known_assurances else "none"
        grouped.setdefault((variation, assurance), []).append(MatrixEntry(name, href, direction))
        total += 1
    columns = tuple(
        (code, label) for code, label in ASSURANCE_COLUMNS
        if code != "none" or any(assurance == "none" for _, assurance in grouped)
    )
    rows = tuple(
        MatrixRow(code, label, tuple(
            MatrixCell(code, column, tuple(sorted(grouped.get((code, column), ()), key=lambda e: e.name))) for column, _ in columns
        ))
        for code, label in VARIATION_ROWS
        if code != "none" or any(variation == "none" for variation, _ in grouped)
    )
    return SummaryMatrix(rows, columns, total)
