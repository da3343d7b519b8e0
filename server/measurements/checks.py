"""Check a whole submission before anything is stored: every problem, by row and field, in words.

The checks run over the batch in one pass against the organisation's catalogue (indicators, units,
leaf units) read once. They also refuse what the database would reject with an error nobody can act
on: numbers outside NUMERIC(18,6), non-zero numbers that round to zero at six decimals, control
characters in text.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from server.db.models.measurements import STATUSES

# NUMERIC(18,6): twelve digits before the point, six after (PostgreSQL rounds half away from zero).
SCALE = Decimal("0.000001")
LIMIT = Decimal(10) ** 12
LARGEST = "999,999,999,999.999999"
INT32_MAX = 2**31 - 1

# C0 and C1 control characters and DEL; a reason typed in a text area may keep tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_PROSE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
_COUNTED_UNITS = ("count", "minutes", "hours", "days", "weeks")


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based, as a person counts rows; 0 for the submission as a whole (e.g. its reason)
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.row == 0 else f"row {self.row}, {self.field}: {self.message}"


@dataclass(frozen=True)
class IndicatorRef:
    id: int
    code: str
    name: str
    unit: str
    rollup: str
    frequency: str
    from_members: bool = False  # a system figure computed from its members' (issue 15): never entered

    @property
    def named(self) -> str:
        return f"'{self.name}' ({self.code})"


@dataclass(frozen=True)
class Catalogue:
    """What a submission is checked against: the organisation's indicators, units and leaf units."""

    indicators: dict[str, IndicatorRef]
    units: dict[str, int]
    leaf_unit_ids: frozenset[int]


class CleanRow(NamedTuple):
    indicator_id: int
    unit_id: int
    period: dt.date
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    status: str


def shown(raw: object) -> str:
    """Text as it may be echoed back: control characters written as escapes."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(raw))


def control_character_problem(text: str, *, prose: bool = False) -> str | None:
    match = (_CONTROL_IN_PROSE if prose else _CONTROL).search(text)
    if match is None:
        return None
    name = "a NUL character" if match.group() == "\x00" else f"a control character (\\x{ord(match.group()):02x})"
    return f"contains {name}; remove it and send the text again"


def check_submission(
    items: list, catalogue: Catalogue, *, may_validate: bool, reason: str | None, today: dt.date | None = None,  # type: ignore[type-arg]
) -> tuple[list[CleanRow], list[RowProblem]]:
    """Every row checked; the clean rows, or every problem found (then nothing may be stored)."""
    problems: list[RowProblem] = []
    if reason is not None and (problem := control_character_problem(reason, prose=True)):
        problems.append(RowProblem(0, "reason", problem))
    readers = _Readers(catalogue, may_validate, today or dt.date.today())
    clean: list[CleanRow] = []
    seen: set[tuple[int, int, dt.date]] = set()
    for row, item in enumerate(items, start=1):
        before = len(problems)
        checked = _check_row(row, item, readers, problems)
        if checked is None or len(problems) > before:
            continue
        key = (checked.indicator_id, checked.unit_id, checked.period)
        if key in seen:
            problems.append(RowProblem(row, "period", "the same indicator, unit and period appears twice in this submission"))
            continue
        seen.add(key)
        clean.append(checked)
    return clean, problems


def check_ids(**ids: int | None) -> list[RowProblem]:
    """Ids are 32-bit in the database: a larger one is a problem to report, not a database error."""
    return [RowProblem(0, name, f"{value} is not a known id") for name, value in ids.items()
            if value is not None and not 1 <= value <= INT32_MAX]


Reading = tuple[Any, str | None]  # (the value read, or None; what is wrong with it, or None)


class _Readers:
    """Each cell read once per distinct text: a month of returns repeats its codes, periods and
    statuses thousands of times, and reading is most of the cost of checking."""

    def __init__(self, catalogue: Catalogue, may_validate: bool, today: dt.date):
        self.indicator = _memoised(lambda code: _look_up(code, catalogue.indicators, "an indicator"))
        self.unit = _memoised(lambda code: _look_up(code, catalogue.units, "a unit"))
        self.status = _memoised(lambda status: _read_status(status, may_validate))
        self.period = _memoised(lambda period: _read_period(period, today))
        self.number = _memoised(read_number)
        self.leaf_unit_ids = catalogue.leaf_unit_ids


def _memoised(read: Callable[[Any], Reading]) -> Callable[[Any], Reading]:
    cache: dict[Any, Reading] = {}

    def cached(raw: Any) -> Reading:
        found = cache.get(raw)
        if found is None:
            found = cache[raw] = read(raw)
        return found

    return cached


def _check_row(row: int, item: Any, readers: _Readers, problems: list[RowProblem]) -> CleanRow | None:
    indicator, indicator_problem = readers.indicator(item.indicator_code)
    unit_id, unit_problem = readers.unit(item.unit_code)
    period, period_problem = readers.period(item.period)
    status, status_problem = readers.status(item.status)
    value, value_problem = readers.number(item.value)
    numerator, numerator_problem = readers.number(item.numerator)
    denominator, denominator_problem = readers.number(item.denominator)
    cell_problems = (indicator_problem, unit_problem, period_problem, status_problem, value_problem, numerator_problem, denominator_problem)
    if any(cell_problems):
        problems.extend(RowProblem(row, field, problem) for field, problem in zip(_FIELDS, cell_problems) if problem)
    if indicator is None or unit_id is None:
        return None
    if indicator.from_members:
        problems.append(RowProblem(row, "indicator", f"{indicator.named} is computed from the members' figures; submit them to the members"))
        return None
    if unit_id not in readers.leaf_unit_ids and indicator.rollup != "none":
        # DOMAIN 4.2: measures are recorded at the lowest level and rolled up, never entered twice.
        problems.append(RowProblem(row, "unit", f"'{item.unit_code}' has units below it; record {indicator.named} at the lowest level"))
    if period is not None and period.day != 1 and indicator.frequency == "monthly":
        problems.append(RowProblem(row, "period", f"{indicator.named} is monthly: give the first day of the month, e.g. 2026-04-01"))
    # A number that did not parse is reported already; a message about the row's shape would repeat it.
    if not (value_problem or numerator_problem or denominator_problem) and (
            shape := _shape_problem(indicator, value, numerator, denominator)):
        problems.append(RowProblem(row, *shape))
    if period is None or status is None:
        return None
    return CleanRow(indicator.id, unit_id, period, value, numerator, denominator, status)


_FIELDS = ("indicator", "unit", "period", "status", "value", "numerator", "denominator")


def _shape_problem(indicator: IndicatorRef, value: Decimal | None, numerator: Decimal | None, denominator: Decimal | None) -> tuple[str, str] | None:
    """What is wrong with the numbers given for this indicator, as (field, message)."""
    if indicator.rollup == "rate":
        if numerator is None or denominator is None or value is not None:
            return "value", f"{indicator.named} is a rate: give numerator and denominator, not value"
        if denominator <= 0:
            return "denominator", f"must be greater than zero for {indicator.named}"
        if numerator < 0 or numerator > denominator and indicator.unit == "percent":
            return "numerator", f"must be between 0 and the denominator for {indicator.named}"
        return None
    if value is None or numerator is not None or denominator is not None:
        return "value", f"{indicator.named} takes a single value"
    if indicator.unit == "percent" and not (0 <= value <= 1):
        return "value", f"{indicator.named} is a percentage, given as a fraction between 0 and 1 (0.95 = 95%)"
    if indicator.unit in _COUNTED_UNITS and value < 0:
        return "value", f"cannot be negative for {indicator.named}"
    return None


def _look_up(code: object, known: dict, what: str) -> Reading:  # type: ignore[type-arg]
    text = str(code)
    if problem := control_character_problem(text):
        return None, problem
    found = known.get(text)
    return (None, f"'{text}' is not {what} of this organisation") if found is None else (found, None)


def _read_status(status: object, may_validate: bool) -> Reading:
    text = str(status)
    if problem := control_character_problem(text):
        return None, problem
    if text not in STATUSES:
        return None, f"must be one of {', '.join(STATUSES)}"
    if text == "validated" and not may_validate:
        return None, "only people who may validate measurements can mark them validated; send 'provisional'"
    return text, None


def _read_period(raw: dt.date | str, today: dt.date) -> Reading:
    if isinstance(raw, dt.date):
        period = raw
    else:
        text = str(raw).strip()
        if problem := control_character_problem(text):
            return None, problem
        try:
            period = dt.date.fromisoformat(text)
        except ValueError:
            return None, f"'{text}' is not a date like 2026-04-01"
    return (period, "is in the future") if period > today else (period, None)


def read_number(raw: float | str | None) -> Reading:
    """A number as it will be stored (six decimals), or what is wrong with it; blank is None."""
    if raw is None:
        return None, None
    text = str(raw).strip()
    if not text:
        return None, None
    if "," in text:
        if not _THOUSANDS.fullmatch(text):
            return None, f"'{shown(text)}' has a comma that is not a thousands separator; write decimals with a point, e.g. 1.5"
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, f"'{shown(text)}' is not a number"
    if not number.is_finite():
        return None, "must be a finite number"
    stored = number.quantize(SCALE, rounding=ROUND_HALF_UP) if number.adjusted() < 12 else LIMIT
    if abs(stored) >= LIMIT:
        return None, f"{shown(text)} is larger than the largest number stored ({LARGEST})"
    if stored == 0 and number != 0:
        return None, f"{shown(text)} is too small: numbers are stored to six decimal places and this one would be 0"
    return stored, None
