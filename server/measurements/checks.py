"""Check a whole submission before anything is stored: every problem, by row and field, in words.

The checks run over the batch in one pass against the organisation's catalogue (indicators, units,
leaf units) read once. They also refuse what the database would reject with an error nobody can act
on: numbers outside NUMERIC(18,6), non-zero numbers that round to zero at six decimals, control
characters in text.
"""
from __future__ import annotations

import datetime as dt
import re
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

    @property
    def named(self) -> str:
        return f"'{self.name}' ({self.code})"


@dataclass(frozen=True)
class Catalogue:
    """What a submission is checked against: the organisation's indicators, units and leaf units."""

    indicators: dict[str, IndicatorRef]
    units: dict[str, int]
    leaf_unit_ids: frozenset[int]


@dataclass(frozen=True)
class CleanRow:
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
    today = today or dt.date.today()
    problems: list[RowProblem] = []
    if reason is not None and (problem := control_character_problem(reason, prose=True)):
        problems.append(RowProblem(0, "reason", problem))
    clean: list[CleanRow] = []
    seen: set[tuple[int, int, dt.date]] = set()
    for row, item in enumerate(items, start=1):
        before = len(problems)
        checked = _check_row(row, item, catalogue, may_validate, today, problems)
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


def _check_row(row, item, catalogue: Catalogue, may_validate: bool, today: dt.date, problems: list[RowProblem]) -> CleanRow | None:  # type: ignore[no-untyped-def]
    indicator = _lookup(row, "indicator", item.indicator_code, catalogue.indicators, "an indicator", problems)
    unit_id = _lookup(row, "unit", item.unit_code, catalogue.units, "a unit", problems)
    if indicator is None or unit_id is None:
        return None
    if unit_id not in catalogue.leaf_unit_ids and indicator.rollup != "none":
        # DOMAIN 4.2: measures are recorded at the lowest level and rolled up, never entered twice.
        problems.append(RowProblem(row, "unit", f"'{item.unit_code}' has units below it; record {indicator.named} at the lowest level"))
    period = _parse_period(row, item.period, problems)
    if period is not None and indicator.frequency == "monthly" and period.day != 1:
        problems.append(RowProblem(row, "period", f"{indicator.named} is monthly: give the first day of the month, e.g. 2026-04-01"))
    if period is not None and period > today:
        problems.append(RowProblem(row, "period", "is in the future"))
    status = _check_status(row, item.status, may_validate, problems)
    before_numbers = len(problems)
    value = parse_number(row, "value", item.value, problems)
    numerator = parse_number(row, "numerator", item.numerator, problems)
    denominator = parse_number(row, "denominator", item.denominator, problems)
    # A number that did not parse is reported already; a message about the row's shape would repeat it.
    if len(problems) == before_numbers and (shape := _shape_problem(indicator, value, numerator, denominator)):
        problems.append(RowProblem(row, *shape))
    if period is None or status is None:
        return None
    return CleanRow(indicator.id, unit_id, period, value, numerator, denominator, status)


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


def _lookup(row: int, field: str, code: object, known: dict, what: str, problems: list[RowProblem]):  # type: ignore[no-untyped-def,type-arg]
    text = str(code)
    if problem := control_character_problem(text):
        problems.append(RowProblem(row, field, problem))
        return None
    found = known.get(text)
    if found is None:
        problems.append(RowProblem(row, field, f"'{text}' is not {what} of this organisation"))
    return found


def _check_status(row: int, status: object, may_validate: bool, problems: list[RowProblem]) -> str | None:
    text = str(status)
    if problem := control_character_problem(text):
        problems.append(RowProblem(row, "status", problem))
        return None
    if text not in STATUSES:
        problems.append(RowProblem(row, "status", f"must be one of {', '.join(STATUSES)}"))
        return None
    if text == "validated" and not may_validate:
        problems.append(RowProblem(row, "status", "only people who may validate measurements can mark them validated; send 'provisional'"))
        return None
    return text


def _parse_period(row: int, raw: dt.date | str, problems: list[RowProblem]) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if problem := control_character_problem(text):
        problems.append(RowProblem(row, "period", problem))
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(RowProblem(row, "period", f"'{text}' is not a date like 2026-04-01"))
        return None


def parse_number(row: int, field: str, raw: float | str | None, problems: list[RowProblem]) -> Decimal | None:
    """A number as it will be stored (six decimals), or None with the problem recorded."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    if "," in text:
        if not _THOUSANDS.fullmatch(text):
            problems.append(RowProblem(row, field, f"'{shown(text)}' has a comma that is not a thousands separator; write decimals with a point, e.g. 1.5"))
            return None
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        problems.append(RowProblem(row, field, f"'{shown(text)}' is not a number"))
        return None
    if not number.is_finite():
        problems.append(RowProblem(row, field, "must be a finite number"))
        return None
    if number.adjusted() >= 12:
        problems.append(RowProblem(row, field, f"{shown(text)} is larger than the largest number stored ({LARGEST})"))
        return None
    stored = number.quantize(SCALE, rounding=ROUND_HALF_UP)
    if abs(stored) >= LIMIT:
        problems.append(RowProblem(row, field, f"{shown(text)} is larger than the largest number stored ({LARGEST})"))
        return None
    if stored == 0 and number != 0:
        problems.append(RowProblem(row, field, f"{shown(text)} is too small: numbers are stored to six decimal places and this one would be 0"))
        return None
    return stored
