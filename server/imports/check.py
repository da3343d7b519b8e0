"""Every line checked before anything is stored, with the rules the write path applies."""
from __future__ import annotations

import datetime as dt

from server.imports.framework import Framework
from server.imports.lines import Line
from server.imports.problems import ImportProblem

NON_NEGATIVE_UNITS = ("count", "minutes", "hours", "days", "weeks")


def check_lines(lines: list[Line], framework: Framework, *, today: dt.date | None = None) -> list[ImportProblem]:
    today = today or dt.date.today()
    problems: list[ImportProblem] = []
    first_row: dict[tuple[str, str, dt.date], Line] = {}
    for line in lines:
        problems.extend(_check_line(line, framework, today))
        earlier = first_row.setdefault(line.key, line)
        if earlier is not line:
            name = framework.indicators[line.indicator_code].name if line.indicator_code in framework.indicators else None
            where = earlier.cell("period")
            problems.append(ImportProblem.at(
                line.cell("period"), f"{line.unit_code} {line.period:%B %Y} is already given in row {where.row if where else '?'}", name,
            ))
    return problems


def _check_line(line: Line, framework: Framework, today: dt.date) -> list[ImportProblem]:
    indicator = framework.indicators.get(line.indicator_code)
    if indicator is None:
        return [ImportProblem.at(line.cell("indicator"), f"'{line.indicator_code}' is not an indicator of {framework.org_name}")]
    name = indicator.name
    problems: list[ImportProblem] = []

    def problem(field: str, message: str) -> None:
        problems.append(ImportProblem.at(line.cell(field), message, name))

    unit = framework.units.get(line.unit_code)
    if unit is None:
        problem("unit", f"'{line.unit_code}' is not a unit of {framework.org_name}")
    elif indicator.rollup == "none" and not unit.is_root:
        problem("unit", f"is recorded for the whole organisation only; use {framework.org_code}")
    elif indicator.rollup != "none" and not unit.is_leaf:
        problem("unit", f"'{unit.name}' has units below it; record at the lowest level")
    if indicator.frequency == "monthly" and line.period.day != 1:
        problem("period", f"{line.period.isoformat()} is not the first day of a month: monthly indicators take e.g. {line.period:%Y-%m}-01")
    if line.period > today:
        problem("period", f"{line.period:%B %Y} is in the future")
    if indicator.is_rate:
        if line.value is not None and (line.numerator is None or line.denominator is None):
            problem("value", "is a rate: give the numerator and denominator, not the percentage")
        elif line.numerator is None or line.denominator is None:
            problem("numerator" if line.numerator is None else "denominator", "is a rate: give both the numerator and the denominator")
        elif line.denominator <= 0:
            problem("denominator", "must be greater than zero")
        elif line.numerator < 0:
            problem("numerator", "cannot be negative")
        elif indicator.unit == "percent" and line.numerator > line.denominator:
            problem("numerator", f"{line.numerator:f} is more than the denominator {line.denominator:f}")
    else:
        if line.value is None:
            problem("value", "give a value")
        elif line.numerator is not None or line.denominator is not None:
            problem("numerator", "takes a single value: leave numerator and denominator empty")
        elif indicator.unit == "percent" and not (0 <= line.value <= 1):
            problem("value", "a percentage must be between 0% and 100%")
        elif indicator.unit in NON_NEGATIVE_UNITS and line.value < 0:
            problem("value", "cannot be negative")
        elif indicator.unit == "count" and line.value != line.value.to_integral_value():
            problem("value", f"{line.value:f} is not a whole number of {indicator.unit}s")
    return problems
