"""Red / amber / green against target and trajectory, polarity aware (DOMAIN 4.4; tenant
``assessment.rag``).

The rating of each value, first match wins:

1. no value, no target, or neutral polarity → none (a rating is never invented);
2. meets the target (equality meets it, see targets.py) → green;
3. fails it by no more than ``amber_band`` x |target| → amber (band 0: never);
4. meets the period's agreed trajectory → ``on_trajectory_below_target`` (STW: amber);
5. otherwise → red.

``trajectory_rating`` rates the value against the trajectory alone with the same band (none where
there is no trajectory). Everything broadcasts, so one call rates a whole batch of periods.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from server.assessment import codes
from server.assessment.evidence import number
from server.assessment.params import RagThresholds
from server.assessment.targets import meets_target

RAG_REASONS = (
    "meets_target",
    "within_amber_band",
    "on_trajectory_below_target",
    "fails_target",
    "no_value",
    "no_target",
    "neutral_polarity",
)


@dataclass(frozen=True)
class RagBatch:
    rating: np.ndarray  # int8 codes.RAGS
    reason: np.ndarray  # int8 RAG_REASONS
    trajectory_rating: np.ndarray  # int8 codes.RAGS
    values: np.ndarray
    targets: np.ndarray
    trajectory: np.ndarray
    polarity: np.ndarray
    amber_threshold: np.ndarray  # the worst value still amber (NaN when no band applies)
    thresholds: RagThresholds

    def words(self) -> list[str]:
        return codes.labels(self.rating, codes.RAGS)

    def explain(self, index: int | tuple[int, ...]) -> dict[str, Any]:
        return {
            "rule_set": self.thresholds.describe(),
            "rating": codes.RAGS[self.rating[index]],
            "reason": RAG_REASONS[self.reason[index]],
            "value": number(self.values[index]),
            "target": number(self.targets[index]),
            "trajectory": number(self.trajectory[index]),
            "trajectory_rating": codes.RAGS[self.trajectory_rating[index]],
            "polarity": int(self.polarity[index]),
            "amber_band": self.thresholds.amber_band,
            "amber_threshold": number(self.amber_threshold[index]),
        }


def rate_against_target(
    values: np.ndarray,
    targets: np.ndarray,
    polarity: np.ndarray,
    trajectory: np.ndarray | None = None,
    thresholds: RagThresholds = RagThresholds(),
) -> RagBatch:
    """RAG for every value (arrays broadcast: e.g. series x periods against one target per series
    given as a column ``targets[:, None]``)."""
    trajectory = np.nan if trajectory is None else trajectory
    values, targets, trajectory, polarity = (
        np.array(array) for array in np.broadcast_arrays(
            np.asarray(values, dtype=float), np.asarray(targets, dtype=float),
            np.asarray(trajectory, dtype=float), np.sign(np.asarray(polarity)).astype(np.int8),
        )
    )
    amber_threshold = _amber_threshold(targets, polarity, thresholds.amber_band)
    on_target = meets_target(values, targets, polarity)
    in_band = ~on_target & meets_target(values, amber_threshold, polarity)
    on_trajectory = meets_target(values, trajectory, polarity)

    on_trajectory_code = codes.AMBER if thresholds.on_trajectory_below_target == "amber" else codes.RED
    reason = np.select(
        [polarity == 0, np.isnan(targets), np.isnan(values), on_target, in_band, on_trajectory],
        [6, 5, 4, 0, 1, 2],
        default=3,
    ).astype(np.int8)
    rating = np.array([codes.GREEN, codes.AMBER, on_trajectory_code, codes.RED, codes.RAG_NONE, codes.RAG_NONE, codes.RAG_NONE], dtype=np.int8)[reason]

    trajectory_band = meets_target(values, _amber_threshold(trajectory, polarity, thresholds.amber_band), polarity)
    trajectory_rating = np.select(
        [(polarity == 0) | np.isnan(trajectory) | np.isnan(values), on_trajectory, trajectory_band],
        [codes.RAG_NONE, codes.GREEN, codes.AMBER],
        default=codes.RED,
    ).astype(np.int8)
    return RagBatch(rating, reason, trajectory_rating, values, targets, trajectory, polarity,
                    np.where(thresholds.amber_band > 0, amber_threshold, np.nan), thresholds)


def _amber_threshold(reference: np.ndarray, polarity: np.ndarray, band: float) -> np.ndarray:
    """The worst value within the band: |target| x band on the failing side of the target."""
    return reference - polarity * band * np.abs(reference)
