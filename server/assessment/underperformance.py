"""Consecutive periods under performance (STW ladder: "1 month under → monitor; 2 months under →
improvement plan"; stored as ``periods_under_target``).

Counts back from the latest period while the value fails its target (polarity aware, equality
meets it — targets.py). A period meeting the target ends the run; a missing period ends it too
unless ``missing_breaks_run`` is False, when it is skipped. No target or neutral polarity → 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment.params import UnderTargetParameters
from server.assessment.targets import fails_target


@dataclass(frozen=True)
class UnderTargetBatch:
    periods_under_target: np.ndarray  # int per series
    run_starts_at: np.ndarray  # int per series: first period of the run, -1 when no run
    failing: np.ndarray  # bool series x periods
    values: np.ndarray
    targets: np.ndarray  # series x periods
    parameters: UnderTargetParameters

    def explain(self, series_index: int) -> dict[str, Any]:
        s = series_index
        start = int(self.run_starts_at[s])
        return {
            "rule_set": self.parameters.describe(),
            "periods_under_target": int(self.periods_under_target[s]),
            "run_starts_at": None if start < 0 else start,
            "failing_periods": np.flatnonzero(self.failing[s]).tolist(),
            # Whole rows to Python at once (NaN -> None, as number() does): per-element conversion was
            # most of deriving's evidence time.
            "values": [None if v != v else v for v in self.values[s].tolist()],
            "targets": [None if v != v else v for v in self.targets[s].tolist()],
        }


def consecutive_periods_under_target(
    values: np.ndarray, targets: np.ndarray, polarity: np.ndarray, parameters: UnderTargetParameters = UnderTargetParameters()
) -> UnderTargetBatch:
    """``values`` series x periods; ``targets`` one per series or series x periods."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    targets = np.asarray(targets, dtype=float)
    targets = np.broadcast_to(targets[:, None] if targets.ndim == 1 else targets, values.shape)
    polarity = np.asarray(polarity)[:, None] if np.ndim(polarity) else polarity
    failing = fails_target(values, targets, polarity)
    ends_run = ~failing if parameters.missing_breaks_run else ~failing & ~np.isnan(values)
    n_periods = values.shape[1]
    last_break = np.where(ends_run.any(axis=1), n_periods - 1 - np.argmax(ends_run[:, ::-1], axis=1), -1)
    failing_after = np.cumsum(failing[:, ::-1], axis=1)[:, ::-1]  # failures from t to the end
    after_break = last_break + 1
    count = np.where(after_break < n_periods, failing_after[np.arange(len(values)), np.minimum(after_break, n_periods - 1)], 0)
    first_failing = np.argmax(failing & (np.arange(n_periods) >= after_break[:, None]), axis=1)
    return UnderTargetBatch(count, np.where(count > 0, first_failing, -1), failing, values, np.array(targets), parameters)
