"""A programme's facts for the ladder, computed from its record (Sheffield 3.1: "non-delivery of key
milestones" and benefits realisation, QIPP included).

A month is a month of exception when, at its end (today, for the current month), a milestone is past
its due date and not achieved, the QIPP realised so far in the financial year is below the plan for
the same months, or an open risk is red (likelihood x impact 15 or more). The exception has been
unresolved since the first month of the run of such months that reaches the current one; the
tenant's ladder reads how many months that is (PMO in its first month, then the Programme
Management Delivery Group, the IPDB and CET).

QIPP year to date runs from April to the latest whole month whose realised saving is recorded: a
month not yet reported neither counts as delivered nor as missed.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from server.escalation.periods import ReportingPeriod
from server.programmes.records import HIGH_RISK_SCORE, BenefitMonth, ProgrammeRecord

FINANCIAL_YEAR_START_MONTH = 4  # the NHS financial year runs April to March
HISTORY_MONTHS = 36  # how far back a run of exception months is followed


@dataclass(frozen=True)
class QippMonth:
    """One month of the financial year's QIPP plan, with what was realised and the gap so far."""

    month: dt.date
    planned: Decimal
    realised: Decimal | None
    planned_to_date: Decimal
    realised_to_date: Decimal | None  # None until the month's realised saving is recorded

    @property
    def gap_to_date(self) -> Decimal | None:
        return None if self.realised_to_date is None else self.planned_to_date - self.realised_to_date


@dataclass(frozen=True)
class YearToDate:
    through: dt.date | None  # the latest month counted; None: nothing realised is recorded yet this year
    planned: Decimal
    realised: Decimal

    @property
    def shortfall(self) -> Decimal:
        return max(Decimal(0), self.planned - self.realised)

    @property
    def shortfall_percent(self) -> float:
        return float(self.shortfall / self.planned) if self.planned > 0 else 0.0


@dataclass(frozen=True)
class ProgrammeAssessment:
    facts: dict[str, object]
    period: ReportingPeriod
    year_to_date: YearToDate
    exception_since: dt.date | None  # the first month of the unresolved exception
    evidence: dict[str, object] = field(default_factory=dict)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def financial_year_start(month: dt.date) -> dt.date:
    year = month.year if month.month >= FINANCIAL_YEAR_START_MONTH else month.year - 1
    return dt.date(year, FINANCIAL_YEAR_START_MONTH, 1)


def year_to_date(benefits: tuple[BenefitMonth, ...], last_whole_month: dt.date) -> YearToDate:
    """QIPP planned and realised from April to the latest month up to ``last_whole_month`` with a realised figure."""
    start = financial_year_start(last_whole_month)
    in_year = [b for b in benefits if start <= b.month <= last_whole_month]
    reported = [b.month for b in in_year if b.realised is not None]
    if not reported:
        return YearToDate(None, Decimal(0), Decimal(0))
    through = max(reported)
    counted = [b for b in in_year if b.month <= through]
    return YearToDate(through, sum((b.planned for b in counted), Decimal(0)), sum((b.realised or Decimal(0) for b in counted), Decimal(0)))


def qipp_months(programme: ProgrammeRecord, today: dt.date) -> list[QippMonth]:
    """The current financial year's plan month by month, with the cumulative gap (the page's table)."""
    start = financial_year_start(add_months(month_start(today), -1))
    planned_to_date, realised_to_date = Decimal(0), Decimal(0)
    months = []
    for benefit in (b for b in programme.benefits if start <= b.month < add_months(start, 12)):
        planned_to_date += benefit.planned
        realised_to_date += benefit.realised or Decimal(0)
        months.append(QippMonth(benefit.month, benefit.planned, benefit.realised, planned_to_date,
                                realised_to_date if benefit.realised is not None else None))
    return months


def _exception_on(programme: ProgrammeRecord, day: dt.date, last_whole_month: dt.date) -> tuple[int, YearToDate, int, int]:
    overdue = sum(m.overdue_on(day) for m in programme.milestones)
    open_scores = [r.score for r in programme.risks if r.open_on(day)]
    return overdue, year_to_date(programme.benefits, last_whole_month), sum(s >= HIGH_RISK_SCORE for s in open_scores), max(open_scores, default=0)


def assess_programme(programme: ProgrammeRecord, today: dt.date) -> ProgrammeAssessment | None:
    """The programme's facts today, or None when it has nothing recorded to judge it by."""
    if not (programme.milestones or programme.benefits or programme.risks):
        return None
    current = month_start(today)
    overdue, ytd, high, highest = _exception_on(programme, today, add_months(current, -1))
    exception_now = bool(overdue or ytd.shortfall or high)
    run_start, run_length = current, 1
    for back in range(1, HISTORY_MONTHS):
        month = add_months(current, -back)
        past_overdue, past_ytd, past_high, _ = _exception_on(programme, month_end(month), month)
        if bool(past_overdue or past_ytd.shortfall or past_high) != exception_now:
            break
        run_start, run_length = month, run_length + 1
    facts: dict[str, object] = {
        "milestones_overdue": overdue, "milestone_missed": overdue > 0,
        "qipp_shortfall_ytd": float(ytd.shortfall), "qipp_shortfall_percent_ytd": round(ytd.shortfall_percent, 4),
        "benefits_at_risk": ytd.shortfall > 0, "high_risks": high, "highest_risk_score": highest,
        "target_missed": exception_now,
        "months_exception_unresolved": run_length - 1 if exception_now else 0,
        "periods_sustained": 0 if exception_now else run_length, "months_sustained": 0 if exception_now else run_length,
        "reporting_frequency": "monthly",
    }
    evidence: dict[str, object] = {
        "milestones_overdue": [f"{m.title} (due {m.due_on.isoformat()})" for m in programme.milestones if m.overdue_on(today)],
        "qipp_year_to_date": {"through": ytd.through.isoformat() if ytd.through else None, "planned": float(ytd.planned),
                              "realised": float(ytd.realised)},
        "high_risks": [f"{r.description} (score {r.score})" for r in programme.risks if r.open_on(today) and r.score >= HIGH_RISK_SCORE],
        "exception_since": run_start.isoformat() if exception_now else None,
    }
    return ProgrammeAssessment(facts, ReportingPeriod(current, "monthly"), ytd, run_start if exception_now else None, evidence)


def exception_reasons(assessment: ProgrammeAssessment) -> list[str]:
    """What makes the month one of exception, in words (the programme page's "why")."""
    facts, reasons = assessment.facts, []
    overdue, high = int(facts["milestones_overdue"]), int(facts["high_risks"])  # type: ignore[call-overload]
    if overdue:
        reasons.append(f"{overdue} milestone{'s' if overdue > 1 else ''} overdue")
    if assessment.year_to_date.shortfall and assessment.year_to_date.through:
        reasons.append(f"QIPP £{assessment.year_to_date.shortfall:,.0f} ({assessment.year_to_date.shortfall_percent:.1%}) behind plan "
                       f"April to {assessment.year_to_date.through:%B %Y}")
    if high:
        reasons.append(f"{high} red risk{'s' if high > 1 else ''} (score 15 or more)")
    return reasons
