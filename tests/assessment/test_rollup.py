"""Roll-up across children and through a unit tree; masked failures (ULHT 2.1, THGPCG 13)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.assessment import RollupParameters, find_masked_failures, rollup, rollup_tree

NAN = math.nan


# Two children, three periods.
def test_counts_sum():
    result = rollup("sum", np.array([[1, 2, 3], [10, 20, 30]]))
    assert result.values.tolist() == [11, 22, 33]


def test_rates_are_sum_of_numerators_over_sum_of_denominators_not_mean_of_percentages():
    # 90/100 and 1/10: mean of percentages would be 50%; the true rate is 91/110 = 82.7%.
    result = rollup("rate", children_numerators=np.array([[90], [1]]), children_denominators=np.array([[100], [10]]))
    assert result.values[0] == pytest.approx(91 / 110)
    assert result.explain(0)["numerator"] == 91 and result.explain(0)["denominator"] == 110


def test_longest_wait_takes_the_max_and_shortest_the_min():
    children = np.array([[12, 40], [30, 8]])
    assert rollup("max", children).values.tolist() == [30, 40]
    assert rollup("min", children).values.tolist() == [12, 8]


def test_method_none_cannot_be_rolled_up_and_says_so():
    result = rollup("none", np.array([[1, 2], [3, 4]]))
    assert not result.available and np.isnan(result.values).all()
    assert "cannot be aggregated" in result.explain(0)["reason"]


def test_a_missing_child_leaves_the_parent_without_a_value_by_default():
    children = np.array([[1, 2], [NAN, 4]])
    result = rollup("sum", children)
    assert np.isnan(result.values[0]) and result.values[1] == 6
    assert result.explain(0)["children_reporting"] == 1
    assert rollup("sum", children, parameters=RollupParameters(require_complete=False)).values.tolist() == [1, 6]


def test_zero_denominator_gives_no_rate():
    result = rollup("rate", children_numerators=np.array([[0], [0]]), children_denominators=np.array([[0], [0]]))
    assert np.isnan(result.values[0])


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        rollup("mean", np.array([[1.0]]))


# ULHT-style tree:          0 trust
#                      /            \
#               1 division A     2 division B
#               /       \              |
#         3 service   4 service    5 service
#            |
#         6 team
PARENT = np.array([-1, 0, 0, 1, 1, 2, 3])
LEAVES = np.array([False, False, False, False, True, True, True])


def test_tree_rolls_counts_up_every_level():
    leaf_values = np.array([[NAN], [NAN], [NAN], [NAN], [5], [7], [11]])
    tree = rollup_tree("sum", PARENT, leaf_values)
    assert tree.is_leaf.tolist() == LEAVES.tolist()
    assert tree.values[:, 0].tolist() == [23, 16, 7, 11, 5, 7, 11]


def test_tree_rolls_rates_from_leaf_numerators_and_denominators():
    numerators = np.array([[0], [0], [0], [0], [45], [10], [90]], dtype=float)
    denominators = np.array([[0], [0], [0], [0], [50], [100], [100]], dtype=float)
    tree = rollup_tree("rate", PARENT, leaf_numerators=numerators, leaf_denominators=denominators)
    assert tree.values[0, 0] == pytest.approx(145 / 250)  # trust
    assert tree.values[1, 0] == pytest.approx(135 / 150)  # division A
    evidence = json.loads(json.dumps(tree.explain(0, 0), allow_nan=False))
    assert evidence["leaves_below"] == 3 and evidence["leaves_reporting"] == 3


def test_tree_max_ignores_non_leaf_rows():
    leaf_values = np.array([[99], [99], [99], [99], [5], [7], [11]], dtype=float)
    assert rollup_tree("max", PARENT, leaf_values).values[:, 0].tolist() == [11, 11, 7, 11, 5, 7, 11]


def test_tree_with_a_missing_leaf_marks_every_ancestor_incomplete():
    leaf_values = np.array([[0], [0], [0], [0], [5], [7], [NAN]], dtype=float)
    tree = rollup_tree("sum", PARENT, leaf_values)
    assert np.isnan(tree.values[[0, 1, 3, 6], 0]).all() and tree.values[2, 0] == 7


def test_tree_with_method_none_keeps_leaves_and_invents_no_parent_value():
    tree = rollup_tree("none", PARENT, np.arange(7, dtype=float)[:, None])
    assert not tree.available and np.isnan(tree.values[:4]).all() and tree.values[4:, 0].tolist() == [4, 5, 6]


def test_a_cycle_in_the_tree_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        rollup_tree("sum", np.array([1, 0]), np.ones((2, 1)))


@st.composite
def trees(draw):
    n_units = draw(st.integers(1, 25))
    parent = [-1] + [draw(st.integers(0, i - 1)) for i in range(1, n_units)]
    n_periods = draw(st.integers(1, 4))
    denominators = draw(st.lists(st.lists(st.integers(1, 1000), min_size=n_periods, max_size=n_periods), min_size=n_units, max_size=n_units))
    numerators = [[draw(st.integers(0, d)) for d in row] for row in denominators]
    return np.array(parent), np.array(numerators, dtype=float), np.array(denominators, dtype=float)


@settings(max_examples=150, deadline=None)
@given(tree=trees())
def test_rolled_up_rate_equals_the_rate_of_the_leaf_sums_for_every_unit(tree):
    parent, numerators, denominators = tree
    rolled = rollup_tree("rate", parent, leaf_numerators=numerators, leaf_denominators=denominators)
    for unit in range(len(parent)):
        leaves = [leaf for leaf in _subtree(parent, unit) if rolled.is_leaf[leaf]]
        expected = numerators[leaves].sum(axis=0) / denominators[leaves].sum(axis=0)
        np.testing.assert_allclose(rolled.values[unit], expected, rtol=1e-12)


def _subtree(parent, unit):
    members, frontier = [unit], [unit]
    while frontier:
        frontier = [child for child in range(len(parent)) if parent[child] in frontier]
        members += frontier
    return members


def test_failing_unit_under_a_passing_parent_is_a_masked_failure():
    # A&E 4-hour: target 78%. Trust passes at 80%; service 4 fails at 70% → masked.
    values = np.array([[0.80], [0.79], [0.85], [0.82], [0.70], [0.85], [0.82]])
    masked = find_masked_failures(PARENT, values, 0.78, polarity=1)
    assert np.flatnonzero(masked.masked[:, 0]).tolist() == [4]
    finding = masked.findings()[0]
    assert finding == {
        "rule": "masked_failure", "source": "THGPCG PMF 13", "unit": 4, "period": 0, "masked": True,
        "unit_value": 0.70, "unit_target": 0.78, "parent": 1, "parent_value": 0.79, "parent_target": 0.78, "polarity": 1,
    }


def test_failure_under_a_failing_parent_is_not_masked_but_the_parent_is():
    values = np.array([[0.80], [0.75], [0.85], [0.82], [0.70], [0.85], [0.82]])
    masked = find_masked_failures(PARENT, values, 0.78, polarity=1)
    assert np.flatnonzero(masked.masked[:, 0]).tolist() == [1]


def test_masked_failure_is_polarity_aware_and_uses_each_units_own_target():
    # Lower is better (waits in weeks); unit 6's local target is a stretching 10 weeks (THGPCG 5).
    values = np.array([[17.0], [17.0], [17.0], [17.0], [17.0], [17.0], [12.0]])
    targets = np.array([18, 18, 18, 18, 18, 18, 10], dtype=float)
    masked = find_masked_failures(PARENT, values, targets, polarity=-1)
    assert np.flatnonzero(masked.masked[:, 0]).tolist() == [6]
