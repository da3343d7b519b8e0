"""Every row is checked before anything is stored, and what the database would refuse with an
unreadable error is refused first, in words, with the row and the field."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from server.measurements.checks import Catalogue, IndicatorRef, RowProblem, check_ids, check_submission, read_number
from server.measurements.record import MeasurementItem

FALLS = IndicatorRef(1, "FALLS", "Falls with harm", "count", "sum", "monthly")
AE4H = IndicatorRef(2, "AE4H", "Patients seen within 4 hours", "percent", "rate", "monthly")
CATALOGUE = Catalogue(indicators={"FALLS": FALLS, "AE4H": AE4H}, units={"TRUST": 10, "W1": 11, "W2": 12}, leaf_unit_ids=frozenset({11, 12}))
TODAY = dt.date(2026, 12, 1)


def check(*items: MeasurementItem, may_validate: bool = False, reason: str | None = None) -> list[RowProblem]:
    return check_submission(list(items), CATALOGUE, may_validate=may_validate, reason=reason, today=TODAY)[1]


def falls(value: object = 3, **fields: object) -> MeasurementItem:
    return MeasurementItem(**{"indicator_code": "FALLS", "unit_code": "W1", "period": "2026-04-01", "value": value, **fields})


def test_a_good_submission_has_no_problems_and_numbers_are_stored_to_six_decimals() -> None:
    rows, problems = check_submission(
        [falls("1,234"), MeasurementItem("AE4H", "W2", dt.date(2026, 4, 1), numerator=" 45 ", denominator=50.0000004)],
        CATALOGUE, may_validate=False, reason="late return\nfrom ward 2", today=TODAY,
    )
    assert problems == []
    assert rows[0].value == Decimal("1234.000000") and rows[1].denominator == Decimal("50.000000")


@pytest.mark.parametrize("value", ["1e15", "1000000000000", "-999999999999.9999999", 1e300])
def test_numbers_beyond_numeric_18_6_are_refused_with_the_largest_allowed(value: object) -> None:
    assert check(falls(value)) == [RowProblem(1, "value", f"{value} is larger than the largest number stored (999,999,999,999.999999)")]


def test_a_denominator_that_rounds_to_zero_is_refused_as_too_small() -> None:
    problems = check(MeasurementItem("AE4H", "W1", "2026-04-01", numerator="0", denominator="0.0000001"))
    assert problems == [RowProblem(1, "denominator", "0.0000001 is too small: numbers are stored to six decimal places and this one would be 0")]


def test_a_largest_storable_number_is_accepted() -> None:
    assert read_number("999999999999.999999") == (Decimal("999999999999.999999"), None)


@pytest.mark.parametrize("field", ["indicator_code", "unit_code", "status", "period"])
def test_a_nul_character_in_any_text_of_a_row_is_refused(field: str) -> None:
    item = falls(**{field: {"indicator_code": "FALLS", "unit_code": "W1", "status": "provisional", "period": "2026-04-01"}[field] + "\x00"})
    problem, = check(item)
    assert problem.row == 1 and problem.field == field.removesuffix("_code")
    assert problem.message == "contains a NUL character; remove it and send the text again"


def test_control_characters_in_a_code_are_named_and_the_text_is_not_looked_up() -> None:
    assert check(falls(unit_code="W\x1b1")) == [RowProblem(1, "unit", "contains a control character (\\x1b); remove it and send the text again")]


def test_a_reason_may_have_line_breaks_but_no_nul_and_is_reported_for_the_whole_submission() -> None:
    problems = check(falls(), reason="typo\x00")
    assert problems == [RowProblem(0, "reason", "contains a NUL character; remove it and send the text again")]
    assert str(problems[0]) == "reason: contains a NUL character; remove it and send the text again"


def test_a_number_with_a_nul_is_refused_without_echoing_the_nul() -> None:
    assert check(falls("12\x00")) == [RowProblem(1, "value", "'12\\x00' is not a number")]


def test_a_decimal_comma_is_refused_as_ambiguous() -> None:
    assert check(falls("1,5")) == [RowProblem(1, "value", "'1,5' has a comma that is not a thousands separator; write decimals with a point, e.g. 1.5")]


def test_ids_past_32_bit_are_problems_not_database_errors() -> None:
    assert check_ids(organisation=2**31, user=None) == [RowProblem(0, "organisation", "2147483648 is not a known id")]
    assert check_ids(organisation=7, user=2**31 - 1) == []


def test_messages_name_the_indicator_by_name_and_code() -> None:
    problems = check(MeasurementItem("AE4H", "W1", "2026-04-15", value="0.9"), falls(-1), falls(unit_code="TRUST"))
    assert [str(p) for p in problems] == [
        "row 1, period: 'Patients seen within 4 hours' (AE4H) is monthly: give the first day of the month, e.g. 2026-04-01",
        "row 1, value: 'Patients seen within 4 hours' (AE4H) is a rate: give numerator and denominator, not value",
        "row 2, value: cannot be negative for 'Falls with harm' (FALLS)",
        "row 3, unit: 'TRUST' has units below it; record 'Falls with harm' (FALLS) at the lowest level",
    ]


def test_validated_status_needs_the_validate_permission() -> None:
    assert check(falls(status="validated")) == [
        RowProblem(1, "status", "only people who may validate measurements can mark them validated; send 'provisional'")]
    assert check(falls(status="validated"), may_validate=True) == []


def test_the_existing_rules_still_hold() -> None:
    problems = check(
        falls(period="2027-01-01"), falls(unit_code="NOWHERE"), MeasurementItem("AE4H", "W1", "2026-04-01", numerator=6, denominator=5),
        falls(status="final"), falls(), falls(),
    )
    assert [(p.row, p.field) for p in problems] == [(1, "period"), (2, "unit"), (3, "numerator"), (4, "status"), (6, "period")]
