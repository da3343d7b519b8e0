"""NHS England statistics files read through the declarative mapping in tenants/mappings/nhse.yaml."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Union

import yaml
from pydantic import BaseModel, ConfigDict, Field

from server.imports.framework import Framework
from server.imports.lines import Line
from server.imports.numbers import NotANumber, parse_number
from server.imports.periods import NotAPeriod, parse_period
from server.imports.problems import Cell, ImportProblem
from server.imports.read import CellValue, Sheet, is_blank, text_of
from server.imports.table import Table, find_table, header_position, normalise, unheaded_cell_problems
from server.settings import PROJECT_ROOT

MAPPING_FILE = PROJECT_ROOT / "tenants" / "mappings" / "nhse.yaml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ColumnRange(Strict):
    first: str = Field(alias="from")
    last: str = Field(alias="to")


ColumnRef = Union[str, ColumnRange]


class Expression(Strict):
    sum: list[ColumnRef] = Field(min_length=1)
    minus: list[ColumnRef] = []


class IndicatorMapping(Strict):
    where: dict[str, str] = {}
    value: Expression | None = None
    numerator: Expression | None = None
    denominator: Expression | None = None


class PeriodSpec(Strict):
    column: str | None = None
    label: str | None = None  # a title-block label above the header, e.g. "Period:"
    formats: list[str]


class FormatSpec(Strict):
    title: str
    detect: list[str] = Field(min_length=1)
    organisation: str
    period: PeriodSpec
    where: dict[str, str] = {}
    indicators: dict[str, IndicatorMapping]


class MappingFile(Strict):
    formats: dict[str, FormatSpec]
    placements: dict[str, dict[str, dict[str, str]]]  # organisation -> provider -> indicator|default -> unit


@lru_cache(maxsize=4)
def load_mappings(path: Path = MAPPING_FILE) -> MappingFile:
    return MappingFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def detect_format(sheet: Sheet, mappings: MappingFile) -> str | None:
    for name, spec in mappings.formats.items():
        if header_position(sheet, spec.detect) is not None:
            return name
    return None


@dataclass
class _Total:
    """A numerator, denominator or value being added up over a provider's rows."""

    amount: Decimal = Decimal(0)
    reported: bool = False
    first: Cell | None = None


@dataclass
class _Group:
    provider: str
    period: dt.date
    totals: dict[str, _Total] = field(default_factory=dict)
    row: int = 0


@dataclass(frozen=True)
class MappedFile:
    lines: list[Line]
    problems: list[ImportProblem]
    other_providers: int  # rows left out: providers the organisation does not record
    not_in_framework: list[str]  # indicators the file gives that the organisation does not have


def parse_mapped(sheet: Sheet, framework: Framework, format_name: str, mappings: MappingFile) -> MappedFile:
    spec = mappings.formats[format_name]
    table = find_table(sheet, spec.detect)
    if table is None:
        return MappedFile([], [ImportProblem(None, None, None, f"this is not a {spec.title} file: its header needs {', '.join(spec.detect)}")], 0, [])
    placements = mappings.placements.get(framework.org_code)
    if placements is None:
        return MappedFile([], [ImportProblem(None, None, None,
            f"{framework.org_name} has no placements in tenants/mappings/nhse.yaml: name the unit that records each provider's figures")], 0, [])
    problems = unheaded_cell_problems(table)
    columns, column_problems = _columns(table, spec)
    problems.extend(column_problems)
    if column_problems:
        return MappedFile([], problems, 0, [])
    used = {code: mapping for code, mapping in spec.indicators.items() if code in framework.indicators}
    missing = [code for code in spec.indicators if code not in framework.indicators]
    groups, other, row_problems = _add_up(table, spec, used, columns, placements)
    problems.extend(row_problems)
    lines = []
    for (code, provider, period), group in groups.items():
        unit = placements[provider].get(code) or placements[provider].get("default")
        if unit is None:
            problems.append(ImportProblem(group.row, None, framework.indicators[code].name,
                                          f"tenants/mappings/nhse.yaml does not say which unit records {provider}'s {code}"))
            continue
        if not any(total.reported for total in group.totals.values()):
            continue  # the provider reported nothing for this indicator this month
        values = {name: total.amount for name, total in group.totals.items()}
        cells = {name: total.first for name, total in group.totals.items() if total.first is not None}
        cells["row"] = cells.get("denominator") or cells.get("value") or Cell(group.row, columns["organisation"], spec.organisation)
        lines.append(Line(code, unit, period, values.get("value"), values.get("numerator"), values.get("denominator"), cells))
    return MappedFile(lines, problems, other, missing)


def _columns(table: Table, spec: FormatSpec) -> tuple[dict[str, int], list[ImportProblem]]:
    columns: dict[str, int] = {}
    problems = []
    names = [spec.organisation, *([spec.period.column] if spec.period.column else []), *spec.where]
    for mapping in spec.indicators.values():
        names.extend(mapping.where)
        for expression in (mapping.value, mapping.numerator, mapping.denominator):
            if expression is not None:
                names.extend(ref for ref in (*expression.sum, *expression.minus) if isinstance(ref, str))
    for name in names:
        index = table.index(name)
        if index is None:
            problems.append(ImportProblem(table.header_row, None, None, f"the header has no column '{name}'"))
        else:
            columns[name] = index
    columns["organisation"] = columns.get(spec.organisation, 0)
    return columns, problems


def _indices(table: Table, refs: list[ColumnRef]) -> Iterator[int]:
    for ref in refs:
        if isinstance(ref, str):
            index = table.index(ref)
            if index is not None:
                yield index
        else:
            first, last = table.index(ref.first), table.index(ref.last)
            if first is not None and last is not None:
                yield from range(first, last + 1)


def _add_up(table: Table, spec: FormatSpec, used: dict[str, IndicatorMapping], columns: dict[str, int],
            placements: dict[str, dict[str, str]]) -> tuple[dict, int, list[ImportProblem]]:  # type: ignore[type-arg]
    problems: list[ImportProblem] = []
    groups: dict[tuple[str, str, dt.date], _Group] = {}
    other = 0
    title_period = _title_period(table, spec, problems)
    if spec.period.label is not None and title_period is None:
        return groups, other, problems
    for number, cells in table.rows:
        provider = text_of(table.value(cells, columns[spec.organisation])).upper()
        if provider not in placements:
            other += 1  # most rows of a national file: left before anything else is read
            continue
        if not _matches(table, cells, columns, spec.where):
            continue
        period = title_period or _row_period(table, spec, number, cells, columns, problems)
        if period is None:
            continue
        for code, mapping in used.items():
            if not _matches(table, cells, columns, mapping.where):
                continue
            group = groups.setdefault((code, provider, period), _Group(provider, period, row=number))
            for name in ("value", "numerator", "denominator"):
                expression = getattr(mapping, name)
                if expression is not None:
                    _add(table, number, cells, expression, group.totals.setdefault(name, _Total()), problems, code)
    return groups, other, problems


def _matches(table: Table, cells: list[CellValue], columns: dict[str, int], where: dict[str, str]) -> bool:
    return all(normalise(text_of(table.value(cells, columns[name]))) == normalise(value) for name, value in where.items())


def _add(table: Table, number: int, cells: list[CellValue], expression: Expression, total: _Total, problems: list[ImportProblem],
         indicator: str) -> None:
    for sign, refs in ((1, expression.sum), (-1, expression.minus)):
        for index in _indices(table, refs):
            raw = table.value(cells, index)
            if is_blank(raw):
                continue
            cell = table.cell(number, index)
            try:
                amount, percent_sign = parse_number(raw)
            except NotANumber as error:
                problems.append(ImportProblem.at(cell, str(error), indicator))
                continue
            if percent_sign or amount < 0:
                problems.append(ImportProblem.at(cell, f"'{text_of(raw)}' is not a count of patients", indicator))
                continue
            total.amount += sign * amount
            total.reported = True
            total.first = total.first or cell


def _row_period(table: Table, spec: FormatSpec, number: int, cells: list[CellValue], columns: dict[str, int],
                problems: list[ImportProblem]) -> dt.date | None:
    assert spec.period.column is not None
    index = columns[spec.period.column]
    try:
        return parse_period(table.value(cells, index), tuple(spec.period.formats))
    except NotAPeriod as error:
        problems.append(ImportProblem.at(table.cell(number, index), str(error)))
        return None


def _title_period(table: Table, spec: FormatSpec, problems: list[ImportProblem]) -> dt.date | None:
    if spec.period.label is None:
        return None
    for offset, row in enumerate(table.above):
        texts = [text_of(value) for value in row]
        if normalise(spec.period.label) in [normalise(text) for text in texts]:
            position = [normalise(text) for text in texts].index(normalise(spec.period.label))
            value = next((row[i] for i in range(position + 1, len(row)) if not is_blank(row[i])), None)
            try:
                return parse_period(value, tuple(spec.period.formats))
            except NotAPeriod as error:
                problems.append(ImportProblem.at(Cell(offset + 1, position + 1), str(error)))
                return None
    problems.append(ImportProblem(None, None, None, f"the title block above the header has no '{spec.period.label}' row"))
    return None
