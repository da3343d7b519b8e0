"""The IPR scorecard as CSV: one row per indicator at the selected level, values as stored.

Numbers are written as stored (percentages as fractions, 0.953 = 95.3%) with the indicator's unit
beside them, so a spreadsheet or BI tool can format them without parsing "95.3%" back.
"""
from __future__ import annotations

import csv
import io

from server.reporting.scorecard import Scorecard

CSV_HEADER = (
    "organisation_code", "unit_code", "unit_name", "domain", "indicator_code", "indicator_name", "key_indicator",
    "unit_of_measure", "polarity", "period", "value", "target", "trajectory", "rating", "variation", "assurance",
    "periods_under_target", "failure_forecast", "masked_failure",
)
# Spreadsheet formula injection (OWASP "CSV injection"): text starting with these is prefixed.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def scorecard_csv(scorecard: Scorecard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    unit_code = scorecard.unit.code if scorecard.unit else scorecard.organisation_code
    unit_name = scorecard.unit.name if scorecard.unit else scorecard.organisation_name
    for domain in scorecard.domains:
        for row in domain.rows:
            indicator, status = row.indicator, row.status
            writer.writerow([
                _text(scorecard.organisation_code), _text(unit_code), _text(unit_name), _text(domain.name), _text(indicator.code),
                _text(indicator.name), "yes" if indicator.is_key else "no", indicator.unit, indicator.polarity,
                status.period.isoformat() if status else "", _number(status.value if status else None),
                _number(status.target if status else None), _number(status.trajectory if status else None),
                status.rag if status else "", status.variation if status else "", status.assurance if status else "",
                status.periods_under_target if status else "", _flag(status.failure_forecast) if status else "",
                _flag(status.masked_failure) if status else "",
            ])
    return buffer.getvalue()


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _flag(value: bool) -> str:
    return "yes" if value else "no"
