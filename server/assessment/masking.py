"""Failures hidden by a passing aggregate (THGPCG 13: "an area of failing performance masked by
an overall compliant position").

A unit is a masked failure in a period when it fails its target while its parent meets the
parent's target. Checking each unit against its own parent surfaces the failure at the highest
level that still fails: a failing service under a failing division under a passing trust shows
the division as masked, and the service's own failure stays visible in the division's figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment.evidence import number
from server.assessment.targets import fails_target, meets_target


@dataclass(frozen=True)
class MaskedFailures:
    masked: np.ndarray  # bool units x periods
    unit_values: np.ndarray
    targets: np.ndarray  # units x periods
    parent: np.ndarray
    polarity: int

    def findings(self) -> list[dict[str, Any]]:
        """One evidence dict per masked unit and period."""
        return [self.explain(int(unit), int(period)) for unit, period in np.argwhere(self.masked)]

    def explain(self, unit: int, period: int) -> dict[str, Any]:
        parent = int(self.parent[unit])
        return {
            "rule": "masked_failure",
            "source": "THGPCG PMF 13",
            "unit": unit,
            "period": period,
            "masked": bool(self.masked[unit, period]),
            "unit_value": number(self.unit_values[unit, period]),
            "unit_target": number(self.targets[unit, period]),
            "parent": parent,
            "parent_value": None if parent < 0 else number(self.unit_values[parent, period]),
            "parent_target": None if parent < 0 else number(self.targets[parent, period]),
            "polarity": self.polarity,
        }


def find_masked_failures(parent: np.ndarray, unit_values: np.ndarray, target: Any, polarity: int) -> MaskedFailures:
    """``unit_values`` is units x periods (e.g. ``rollup_tree(...).values``); ``target`` a scalar,
    one per unit, or units x periods."""
    parent = np.asarray(parent, dtype=np.int64)
    unit_values = np.asarray(unit_values, dtype=float)
    targets = np.asarray(target, dtype=float)
    if targets.ndim == 1:
        targets = targets[:, None]
    targets = np.broadcast_to(targets, unit_values.shape)
    has_parent = (parent >= 0)[:, None]
    parent_row = np.maximum(parent, 0)
    parent_meets = meets_target(unit_values[parent_row], targets[parent_row], polarity)
    masked = has_parent & fails_target(unit_values, targets, polarity) & parent_meets
    return MaskedFailures(masked, unit_values, np.array(targets), parent, int(np.sign(polarity)))
