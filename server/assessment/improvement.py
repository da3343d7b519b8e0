"""Has a series improved since its improvement plan started? (STW ladder: "3 months ... without
improvement since improvement plan in place → level 1 escalation".)

Improved when either holds (checked in this order; the first is recorded as the criterion):

1. ``spc_signal`` — with an SPC batch and ``use_spc_signal``: some point from the plan's start
   period on is a special-cause improvement, and no special-cause concern follows the last one;
2. ``sustained_better_than_baseline`` — the latest ``sustained_periods`` periods are all observed,
   all from the plan start on, and each strictly better (by polarity) than the plan's baseline:
   the mean of the last ``baseline_periods`` observed values before the start period.

Otherwise: ``too_early`` when fewer than ``sustained_periods`` periods have passed since the start,
``no_baseline`` when nothing was observed before the start, else ``not_improved``. No plan
(start < 0) → ``no_plan``; neutral polarity → ``not_applicable``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from server.assessment import codes
from server.assessment.evidence import number
from server.assessment.params import ImprovementParameters

if TYPE_CHECKING:
    from server.assessment.spc import SpcBatch

IMPROVEMENT_STATUSES = ("improved", "not_improved", "too_early", "no_baseline", "no_plan", "not_applicable")
IMPROVED, NOT_IMPROVED, TOO_EARLY, NO_BASELINE, NO_PLAN, NOT_APPLICABLE = range(6)
IMPROVEMENT_CRITERIA = ("none", "spc_signal", "sustained_better_than_baseline")


@dataclass(frozen=True)
class ImprovementBatch:
    status: np.ndarray  # int8 IMPROVEMENT_STATUSES
    criterion: np.ndarray  # int8 IMPROVEMENT_CRITERIA
    plan_start: np.ndarray
    baseline_mean: np.ndarray
    baseline_periods: np.ndarray  # bool series x periods
    last_improvement_signal: np.ndarray  # int per series, -1 none
    parameters: ImprovementParameters

    @property
    def improved(self) -> np.ndarray:
        return self.status == IMPROVED

    def explain(self, series_index: int) -> dict[str, Any]:
        s = series_index
        signal = int(self.last_improvement_signal[s])
        return {
            "rule_set": self.parameters.describe(),
            "status": IMPROVEMENT_STATUSES[self.status[s]],
            "criterion": IMPROVEMENT_CRITERIA[self.criterion[s]],
            "plan_start": int(self.plan_start[s]),
            "baseline_mean": number(self.baseline_mean[s]),
            "baseline_periods": np.flatnonzero(self.baseline_periods[s]).tolist(),
            "last_improvement_signal": None if signal < 0 else signal,
        }


def improvement_since_plan(
    values: np.ndarray,
    polarity: np.ndarray,
    plan_start: np.ndarray,
    spc: SpcBatch | None = None,
    parameters: ImprovementParameters = ImprovementParameters(),
) -> ImprovementBatch:
    """``plan_start`` is the period index the plan started in, one per series (-1 = no plan)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n_series, n_periods = values.shape
    polarity = np.broadcast_to(np.sign(np.asarray(polarity)), (n_series,))
    plan_start = np.broadcast_to(np.asarray(plan_start, dtype=np.int64), (n_series,))
    period = np.arange(n_periods)
    observed = ~np.isnan(values)
    since_plan = period >= plan_start[:, None]

    before = observed & (period < plan_start[:, None])
    rank_from_end = np.cumsum(before[:, ::-1], axis=1)[:, ::-1]
    in_baseline = before & (rank_from_end <= parameters.baseline_periods)
    count = in_baseline.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        baseline_mean = np.where(count > 0, np.where(in_baseline, values, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)

    latest = slice(n_periods - parameters.sustained_periods, None) if parameters.sustained_periods <= n_periods else None
    sustained = np.zeros(n_series, dtype=bool)
    if latest is not None:
        with np.errstate(invalid="ignore"):
            better = (values[:, latest] - baseline_mean[:, None]) * polarity[:, None] > 0
        sustained = (better & observed[:, latest] & since_plan[:, latest]).all(axis=1)

    signal, last_signal = _spc_signal(spc, since_plan, parameters, n_series)
    criterion = np.select([signal, sustained], [1, 2], default=0)
    elapsed = n_periods - plan_start
    status = np.select(
        [plan_start < 0, polarity == 0, criterion > 0, elapsed < parameters.sustained_periods, count == 0],
        [NO_PLAN, NOT_APPLICABLE, IMPROVED, TOO_EARLY, NO_BASELINE],
        default=NOT_IMPROVED,
    ).astype(np.int8)
    criterion = np.where(status == IMPROVED, criterion, 0).astype(np.int8)
    return ImprovementBatch(status, criterion, np.array(plan_start), baseline_mean, in_baseline, last_signal, parameters)


def _spc_signal(
    spc: SpcBatch | None, since_plan: np.ndarray, parameters: ImprovementParameters, n_series: int
) -> tuple[np.ndarray, np.ndarray]:
    if spc is None or not parameters.use_spc_signal:
        return np.zeros(n_series, dtype=bool), np.full(n_series, -1)
    n_periods = since_plan.shape[1]
    improving = (spc.point_type == codes.IMPROVEMENT) & since_plan
    last = np.where(improving.any(axis=1), n_periods - 1 - np.argmax(improving[:, ::-1], axis=1), -1)
    concern_after = ((spc.point_type == codes.CONCERN) & (np.arange(n_periods) > last[:, None])).any(axis=1)
    return (last >= 0) & ~concern_after, last
