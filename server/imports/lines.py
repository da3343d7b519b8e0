"""One measurement read from a file, remembering which cells it came from."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from server.imports.problems import Cell


@dataclass(frozen=True)
class Line:
    indicator_code: str
    unit_code: str
    period: dt.date
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    cells: dict[str, Cell] = field(default_factory=dict)  # field name -> where it came from

    def cell(self, name: str) -> Cell | None:
        return self.cells.get(name) or self.cells.get("row")

    @property
    def key(self) -> tuple[str, str, dt.date]:
        return (self.indicator_code, self.unit_code, self.period)
