"""Quartiles by numpy's linear method (Hyndman and Fan type 7), ranks and quarters by polarity."""
from __future__ import annotations

import statistics as stdlib

import pytest

from server.benchmarking.statistics import Quartiles, quarter, quartiles, ranks


def test_quartiles_are_type_seven_as_excel_quartile_inc():
    found = quartiles([1.0, 2.0, 3.0, 4.0])
    assert found == Quartiles(1.75, 2.5, 3.25)
    values = [0.71, 0.93, 0.66, 0.88, 0.79, 0.81, 0.9]
    assert list(vars(quartiles(values)).values()) == pytest.approx(stdlib.quantiles(values, n=4, method="inclusive"))
    assert quartiles([0.8]) == Quartiles(0.8, 0.8, 0.8)
    assert quartiles([]) is None


def test_ranks_follow_polarity_and_ties_share_the_better_rank():
    assert ranks([0.9, 0.7, 0.9, 0.8], "higher_is_better") == [1, 4, 1, 3]
    assert ranks([12.0, 30.0, 12.0], "lower_is_better") == [1, 3, 1]
    assert ranks([1.0, 2.0], "neutral") == [None, None]


def test_the_best_quarter_is_one_whichever_way_is_better_and_boundaries_count_in_the_better():
    q = Quartiles(10.0, 20.0, 30.0)
    assert [quarter(v, q, "higher_is_better") for v in (35, 30, 25, 20, 15, 10, 5)] == [1, 1, 2, 2, 3, 3, 4]
    assert [quarter(v, q, "lower_is_better") for v in (5, 10, 15, 20, 25, 30, 35)] == [1, 1, 2, 2, 3, 3, 4]
    assert quarter(12, q, "neutral") is None
