"""Year-to-date and forecast outturn (issue 15, THGPCG and ULHT finance): exact arithmetic on known months."""
from __future__ import annotations

import datetime as dt

import pytest

from server.assessment.outturn import OutturnMonth, outturn_series, year_start

APRIL, MAY, JUNE, JULY = (dt.date(2025, month, 1) for month in (4, 5, 6, 7))
SPEND = [OutturnMonth(APRIL, 100, 100), OutturnMonth(MAY, 120, 100), OutturnMonth(JUNE, 110, 100)]


def test_run_rate_continues_this_years_average_and_compares_with_the_plan() -> None:
    latest = outturn_series(SPEND, year_start_month=4, method="run_rate", polarity=-1, plan_ahead={JULY: 90}, plan_otherwise=100)[-1]
    assert (latest.year_start, latest.year_end, latest.months_reported) == (APRIL, dt.date(2026, 3, 1), 3)
    assert (latest.ytd_actual, latest.ytd_plan, latest.ytd_variance) == (330, 300, 30)
    assert latest.forecast == 330 + 110 * 9  # the average of April to June for the nine months to come
    assert latest.annual_plan == 300 + 90 + 100 * 8  # the stored months' plan, July's trajectory, the target after
    assert latest.forecast_variance == 1320 - 1190
    assert latest.ytd_favourable is False and latest.forecast_favourable is False  # spending over plan


def test_linear_projects_a_least_squares_line_through_this_years_months() -> None:
    latest = outturn_series(SPEND, year_start_month=4, method="linear", polarity=-1, plan_otherwise=100)[-1]
    # x = 0, 1, 2; y = 100, 120, 110: slope 5, intercept 105; months 3..11 add 9 * 105 + 5 * (3 + ... + 11)
    assert latest.forecast == pytest.approx(330 + 9 * 105 + 5 * 63)


def test_each_month_has_its_outturn_as_it_stood_and_a_new_year_starts_again() -> None:
    months = [OutturnMonth(dt.date(2025, 3, 1), 50, None), *SPEND]
    series = outturn_series(months, year_start_month=4, method="run_rate", polarity=1, plan_otherwise=None)
    march, april = series[0], series[1]
    assert march.year_start == dt.date(2024, 4, 1) and march.ytd_actual == 50 and march.ytd_plan is None and march.forecast == 50 * 12
    assert april.year_start == APRIL and april.ytd_actual == 100 and april.months_reported == 1
    assert april.annual_plan is None  # months with neither a trajectory nor a target: no annual plan to compare with
    assert [point.ytd_actual for point in series[1:]] == [100, 220, 330]
    assert series[-1].ytd_plan == 300 and series[-1].ytd_favourable is True  # higher is better: over plan is favourable


def test_a_month_not_reported_counts_at_the_average_and_the_linear_method_with_one_month_is_the_run_rate() -> None:
    gap = [OutturnMonth(APRIL, 100, 100), OutturnMonth(JUNE, 130, 100)]
    latest = outturn_series(gap, year_start_month=4, method="run_rate", polarity=1, plan_otherwise=100)[-1]
    assert (latest.months_reported, latest.ytd_actual, latest.ytd_plan, latest.forecast) == (2, 230, 200, 230 + 115 * 10)
    single = outturn_series(SPEND[:1], year_start_month=4, method="linear", polarity=1, plan_otherwise=100)[-1]
    assert single.forecast == 1200
    assert year_start(dt.date(2026, 1, 1), 1) == dt.date(2026, 1, 1) and year_start(dt.date(2026, 3, 1), 4) == dt.date(2025, 4, 1)
