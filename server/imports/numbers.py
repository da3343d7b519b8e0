"""Numbers as people type them: thousands separators, decimal commas, percentages.

Stored numbers are NUMERIC(18, 6): at most 12 digits before the point and 6 after, so a value
outside that range, or one that would round to zero, is refused here rather than by the database.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

LIMIT = Decimal("1e12")
RESOLUTION = Decimal("0.000001")
# One comma followed by exactly three digits, no point: 1,234 is a thousand or one and a bit.
AMBIGUOUS_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}$")
THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
DOTTED_THOUSANDS_DECIMAL_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+$")


class NotANumber(ValueError):
    """The message says what is wrong in words a person can act on."""


def parse_number(raw: object) -> tuple[Decimal, bool]:
    """The number in a cell and whether it was written with a % sign."""
    if isinstance(raw, bool) or isinstance(raw, (dt.date, dt.time, dt.timedelta)):
        raise NotANumber(f"'{raw}' is not a number")
    if isinstance(raw, int):
        return _in_range(Decimal(raw)), False
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise NotANumber("must be a finite number")
        return _in_range(Decimal(repr(raw))), False
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    percent = text.endswith("%")
    text = text.removesuffix("%")
    if AMBIGUOUS_COMMA.match(text):
        whole, _, part = text.partition(",")
        raise NotANumber(
            f"'{raw}' is ambiguous: it could be {whole}{part} (a thousands separator) or {whole}.{part} (a decimal comma); "
            f"write {whole}{part} or {whole}.{part}"
        )
    if THOUSANDS.match(text):
        text = text.replace(",", "")
    elif DOTTED_THOUSANDS_DECIMAL_COMMA.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise NotANumber(f"'{raw}' is not a number") from None
    if not number.is_finite():
        raise NotANumber("must be a finite number")
    return _in_range(number), percent


def _in_range(number: Decimal) -> Decimal:
    if abs(number) >= LIMIT:
        raise NotANumber(f"{number:,f} is too large to store: at most 999,999,999,999.999999")
    if number and abs(number) < RESOLUTION:
        raise NotANumber(f"{number:f} is too small to store: Accord keeps 6 decimal places")
    return number.quantize(RESOLUTION).normalize() if number.as_tuple().exponent < -6 else number  # type: ignore[operator]


def as_fraction(number: Decimal, percent_sign: bool) -> Decimal:
    """A percentage as people type it: 95 or 95% is 0.95; 0.95 (a cell formatted as %) stays 0.95."""
    if percent_sign:
        return number / 100
    if number == 1:
        raise NotANumber("'1' could be 1% or 100%: write 1% or 100%")
    return number / 100 if number > 1 else number
