"""Year-to-date and forecast year-end outturn of a finance-style indicator (THGPCG, ULHT; issue 15).

For an indicator whose months add up (``rollup: sum``: money, counts), each month of its financial
year (starting in the tenant file's ``year_start_month``, April in the NHS) is compared with its
plan: the agreed trajectory for that month where there is one, else the target in force. At each
reported month:

* **year to date**: the sum of the months of this financial year reported so far (``ytd_actual``)
  against the sum of the plan for the same months (``ytd_plan``);
* **forecast outturn** for the whole year, by the tenant's method:

  - ``run_rate``: the months not reported continue at this year's average so far,
    i.e. ``ytd_actual + mean(reported months) x (12 - reported months)``;
  - ``linear``: a least-squares line through this year's reported months (x = month of the year,
    0..11) gives each month not reported; with a single month the line is flat (the run rate);

* against the **annual plan**: the plan summed over all twelve months.

Variances are actual minus plan; whether a variance is favourable follows the polarity (spending
less than plan is favourable for ``lower_is_better``). A plan is None when some month has neither a
trajectory nor a target. Pure arithmetic on the stored series: no database here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

OUTTURN_METHODS = ("run_rate", "linear")
MONTHS_IN_YEAR = 12


@dataclass(frozen=True)
class OutturnMonth:
    """One reported month of the series: its value and the plan it is compared with."""

    period: dt.date
    value: float
    plan: float | None  # trajectory for the month, else the target in force; None: neither


@dataclass(frozen=True)
class Outturn:
    """The year to date and forecast outturn as they stood at ``period``."""

    period: dt.date
    year_start: dt.date
    method: str
    months_reported: int
    ytd_actual: float
    ytd_plan: float | None
    forecast: float
    annual_plan: float | None
    polarity: int  # +1 higher is better, -1 lower is better, 0 neutral

    @property
    def year_end(self) -> dt.date:
        return add_months(self.year_start, MONTHS_IN_YEAR - 1)

    @property
    def ytd_variance(self) -> float | None:
        return None if self.ytd_plan is None else self.ytd_actual - self.ytd_plan

    @property
    def forecast_variance(self) -> float | None:
        return None if self.annual_plan is None else self.forecast - self.annual_plan

    @property
    def ytd_favourable(self) -> bool | None:
        return _favourable(self.ytd_variance, self.polarity)

    @property
    def forecast_favourable(self) -> bool | None:
        return _favourable(self.forecast_variance, self.polarity)

    def explain(self) -> dict[str, object]:
        return {
            "period": self.period.isoformat(), "year_start": self.year_start.isoformat(), "year_end": self.year_end.isoformat(),
            "method": self.method, "months_reported": self.months_reported, "ytd_actual": self.ytd_actual, "ytd_plan": self.ytd_plan,
            "ytd_variance": self.ytd_variance, "forecast": self.forecast, "annual_plan": self.annual_plan,
            "forecast_variance": self.forecast_variance,
        }


def year_start(period: dt.date, year_start_month: int) -> dt.date:
    """The first month of the financial year ``period`` falls in."""
    year = period.year if period.month >= year_start_month else period.year - 1
    return dt.date(year, year_start_month, 1)


def add_months(period: dt.date, months: int) -> dt.date:
    index = period.year * 12 + period.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def outturn_series(
    months: Sequence[OutturnMonth], *, year_start_month: int, method: str, polarity: int,
    plan_ahead: Mapping[dt.date, float] | None = None, plan_otherwise: float | None = None,
) -> list[Outturn]:
    """The outturn as it stood at each reported month (oldest first).

    ``plan_ahead``: the plan of months after the last reported one (the trajectory to come);
    ``plan_otherwise``: the plan of any month with none (the target in force now).
    """
    if method not in OUTTURN_METHODS:
        raise ValueError(f"unknown outturn method {method!r}; expected one of {OUTTURN_METHODS}")
    ordered = sorted(months, key=lambda month: month.period)
    plans = {month.period: month.plan for month in ordered}
    results: list[Outturn] = []
    year: list[OutturnMonth] = []
    for month in ordered:
        start = year_start(month.period, year_start_month)
        year = [m for m in year if m.period >= start] + [month]
        results.append(_at(month.period, start, year, method, polarity, plans, plan_ahead or {}, plan_otherwise))
    return results


def _at(
    period: dt.date, start: dt.date, year: list[OutturnMonth], method: str, polarity: int, plans: Mapping[dt.date, float | None],
    plan_ahead: Mapping[dt.date, float], plan_otherwise: float | None,
) -> Outturn:
    position = np.array([_months_between(start, m.period) for m in year], dtype=float)
    values = np.array([m.value for m in year], dtype=float)
    ytd_actual = float(values.sum())
    missing = [x for x in range(MONTHS_IN_YEAR) if x not in set(position.astype(int).tolist())]
    if method == "linear" and len(values) > 1 and np.ptp(position) > 0:
        slope, intercept = np.polyfit(position, values, 1)
        forecast = ytd_actual + float(sum(intercept + slope * x for x in missing))
    else:
        forecast = ytd_actual + float(values.mean()) * len(missing)
    ytd_plans = [m.plan for m in year]
    ytd_plan = None if any(p is None for p in ytd_plans) else float(sum(ytd_plans))  # type: ignore[arg-type]
    # Each month's plan: as stored with the month's row where there is one, else the trajectory to come, else the target now.
    annual = [_plan_of(add_months(start, x), plans, plan_ahead, plan_otherwise) for x in range(MONTHS_IN_YEAR)]
    annual_plan = None if any(p is None for p in annual) else float(sum(annual))  # type: ignore[arg-type]
    return Outturn(period, start, method, len(year), ytd_actual, ytd_plan, forecast, annual_plan, polarity)


def _plan_of(month: dt.date, plans: Mapping[dt.date, float | None], plan_ahead: Mapping[dt.date, float], otherwise: float | None) -> float | None:
    stored = plans.get(month)
    return stored if stored is not None else plan_ahead.get(month, otherwise)


def _months_between(start: dt.date, period: dt.date) -> int:
    return (period.year - start.year) * 12 + period.month - start.month


def _favourable(variance: float | None, polarity: int) -> bool | None:
    if variance is None or polarity == 0:
        return None
    return variance * polarity >= 0
