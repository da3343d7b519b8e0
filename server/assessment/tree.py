"""Roll-up through a whole unit tree (ULHT: team → service → division → trust) in one pass.

Units are indexes 0..n-1; ``parent[i]`` is the index of unit i's parent, -1 for a root (an
organisation roll-up across a system is the same call with every organisation's parent the system
unit). Leaves (units with no children) carry the recorded series; every other unit's series is
rolled up from its children by the indicator's method (see rollup.py), deepest level first, so a
parent's figure is always computed from its leaves' data, never from averages of averages. A
non-leaf unit's own recorded values, if any, are ignored: the tree is the definition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment.evidence import number
from server.assessment.params import RollupParameters
from server.assessment.rollup import NOT_ROLLED_UP, check_method, ratio


@dataclass(frozen=True)
class TreeRollup:
    method: str
    available: bool
    parent: np.ndarray
    is_leaf: np.ndarray  # bool per unit
    values: np.ndarray  # units x periods
    numerator: np.ndarray | None  # rate only
    denominator: np.ndarray | None
    leaves_below: np.ndarray  # int per unit: leaves in its subtree
    leaves_reporting: np.ndarray  # int units x periods
    reason: str | None
    parameters: RollupParameters

    def explain(self, unit: int, period: int) -> dict[str, Any]:
        return {
            "rule_set": self.parameters.describe(),
            "method": self.method,
            "available": self.available,
            "reason": self.reason,
            "unit": unit,
            "parent": int(self.parent[unit]),
            "is_leaf": bool(self.is_leaf[unit]),
            "value": number(self.values[unit, period]),
            "numerator": None if self.numerator is None else number(self.numerator[unit, period]),
            "denominator": None if self.denominator is None else number(self.denominator[unit, period]),
            "leaves_below": int(self.leaves_below[unit]),
            "leaves_reporting": int(self.leaves_reporting[unit, period]),
        }


def depths(parent: np.ndarray) -> np.ndarray:
    """Distance of each unit from its root; raises on a cycle or a parent index out of range."""
    parent = np.asarray(parent, dtype=np.int64)
    n_units = len(parent)
    if ((parent < -1) | (parent >= n_units)).any():
        raise ValueError("parent indexes must be -1 (root) or a unit index")
    depth = np.zeros(n_units, dtype=np.int64)
    ancestor = parent.copy()
    for _ in range(n_units + 1):
        climbing = ancestor >= 0
        if not climbing.any():
            return depth
        depth += climbing
        ancestor = np.where(climbing, parent[np.maximum(ancestor, 0)], -1)
    raise ValueError("the unit tree has a cycle")


def rollup_tree(
    method: str,
    parent: np.ndarray,
    leaf_values: np.ndarray | None = None,
    leaf_numerators: np.ndarray | None = None,
    leaf_denominators: np.ndarray | None = None,
    parameters: RollupParameters = RollupParameters(),
) -> TreeRollup:
    """Per-unit series for every node from per-leaf series (units x periods; rows of non-leaves
    are ignored)."""
    check_method(method)
    parent = np.asarray(parent, dtype=np.int64)
    depth = depths(parent)
    n_units = len(parent)
    is_leaf = np.bincount(parent[parent >= 0], minlength=n_units) == 0
    if method == "rate":
        sums = [np.asarray(leaf_numerators, dtype=float), np.asarray(leaf_denominators, dtype=float)]
        reporting = ~np.isnan(sums[0]) & ~np.isnan(sums[1])
    else:
        sums = [np.asarray(leaf_values, dtype=float)]
        reporting = ~np.isnan(sums[0])
    reporting = reporting & is_leaf[:, None]

    leaves_below = is_leaf.astype(np.int64)
    leaves_reporting = reporting.astype(np.int64)
    combine = {"max": np.fmax, "min": np.fmin}.get(method, np.add)
    start = np.nan if combine is not np.add else 0.0
    totals = [np.where(reporting, array, start) for array in sums]
    for level in range(int(depth.max(initial=0)), 0, -1):
        children = np.flatnonzero(depth == level)
        parents = parent[children]
        np.add.at(leaves_below, parents, leaves_below[children])
        np.add.at(leaves_reporting, parents, leaves_reporting[children])
        for total in totals:
            combine.at(total, parents, total[children])

    complete = leaves_reporting == leaves_below[:, None]
    if not parameters.require_complete:
        complete = leaves_reporting > 0
    if method == "none":
        values = np.where(is_leaf[:, None] & reporting, sums[0], np.nan)
        return TreeRollup(method, False, parent, is_leaf, values, None, None, leaves_below, leaves_reporting, NOT_ROLLED_UP, parameters)
    if method == "rate":
        values = np.where(complete, ratio(totals[0], totals[1]), np.nan)
        return TreeRollup(method, True, parent, is_leaf, values, totals[0], totals[1], leaves_below, leaves_reporting, None, parameters)
    values = np.where(complete, totals[0], np.nan)
    return TreeRollup(method, True, parent, is_leaf, values, None, None, leaves_below, leaves_reporting, None, parameters)
