"""The IPR scorecard as CSV (one row per indicator at the selected level), one indicator's whole
series as CSV (one row per period, with its SPC limits and rules), and a data pack as CSV (one row
per indicator, the frozen figures and words its PDF prints), values as stored.

Numbers are written as stored (percentages as fractions, 0.953 = 95.3%) with the indicator's unit
beside them, so a spreadsheet or BI tool can format them without parsing "95.3%" back.
"""
from __future__ import annotations

import csv
import io

from collections.abc import Sequence

from server.reporting.indicator import SeriesPoint
from server.reporting.pack_paper import PackPaper
from server.reporting.outturn import IndicatorOutturn
from server.reporting.scorecard import IndicatorRef, Scorecard

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


SERIES_HEADER = (
    "organisation_code", "unit_code", "unit_name", "indicator_code", "indicator_name", "unit_of_measure", "polarity", "period",
    "value", "target", "trajectory", "rating", "mean", "lower_limit", "upper_limit", "segment", "special_cause_rules",
    "point", "masked_failure",
    # Year to date and forecast outturn as they stood at the period (blank unless the tenant file asks for it).
    "year_start", "ytd_actual", "ytd_plan", "forecast_outturn", "annual_plan",
)


def series_csv(
    organisation_code: str, unit_code: str, unit_name: str, indicator: IndicatorRef, points: Sequence[SeriesPoint],
    outturn: IndicatorOutturn | None = None,
) -> str:
    """Every stored period of one series, oldest first, with what the chart draws for it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SERIES_HEADER)
    for point in points:
        at = outturn.at(point.period) if outturn else None
        writer.writerow([
            _text(organisation_code), _text(unit_code), _text(unit_name), _text(indicator.code), _text(indicator.name), indicator.unit,
            indicator.polarity, point.period.isoformat(), _number(point.value), _number(point.target), _number(point.trajectory),
            point.rag, _number(point.mean), _number(point.lower_limit), _number(point.upper_limit), point.segment + 1,
            " ".join(point.rules), point.point_type, _flag(point.masked_failure),
            at.year_start.isoformat() if at else "", _number(at.ytd_actual if at else None), _number(at.ytd_plan if at else None),
            _number(at.forecast if at else None), _number(at.annual_plan if at else None),
        ])
    return buffer.getvalue()


PACK_HEADER = (
    "domain", "indicator_code", "indicator_name", "unit_of_measure", "period", "latest", "previous_period", "previous", "target",
    "rating", "rating_words", "variation", "assurance", "commentary", "commentary_author", "commentary_written_on",
)


def pack_csv(paper: PackPaper) -> str:
    """The pack's indicators by domain as its PDF prints them, from what the pack froze (an issued
    pack) or built (a draft): latest and previous value, target, the rating and its sentence, the
    variation and assurance in words, the owner's commentary."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PACK_HEADER)
    for domain in paper.domains:
        for item in domain.indicators:
            values, status = item.values, item.status
            previous = item.card.previous if item.card else None
            comment = values.get("commentary") or {}
            written = comment.get("written_at")
            writer.writerow([
                _text(domain.name), _text(values["code"]), _text(values["name"]), values.get("unit") or "",
                status.period.isoformat() if status else "", _number(status.value if status else None),
                previous.period.isoformat() if previous else "", _number(previous.value if previous else None),
                _number(status.target if status else None), status.rag_words if status else "", _text(item.sentence),
                status.variation_words if status else "", status.assurance_words if status else "",
                _text(comment.get("body") or ""), _text(comment.get("author") or ""), written[:10] if written else "",
            ])
    return buffer.getvalue()


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _flag(value: bool) -> str:
    return "yes" if value else "no"
