"""RAG against target and trajectory, polarity aware, with tenant thresholds."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from server.assessment import RagThresholds, rate_against_target

NAN = math.nan
STW = RagThresholds(amber_band=0.0, on_trajectory_below_target="amber")
ULHT = RagThresholds(amber_band=0.02)

# (value, target, polarity, trajectory, thresholds, expected rating, expected reason, why)
RAG_CASES = [
    (0.80, 0.78, 1, NAN, STW, "green", "meets_target", "above a higher-is-better target"),
    (0.78, 0.78, 1, NAN, STW, "green", "meets_target", "exactly on target meets it"),
    (0.77, 0.78, 1, NAN, STW, "red", "fails_target", "band 0: pure red/green"),
    (0.77, 0.78, 1, 0.76, STW, "amber", "on_trajectory_below_target", "STW: on trajectory but below target"),
    (0.77, 0.78, 1, 0.76, RagThresholds(on_trajectory_below_target="red"), "red", "on_trajectory_below_target", "tenant says red"),
    (0.75, 0.78, 1, 0.76, STW, "red", "fails_target", "below target and below trajectory"),
    (0.77, 0.78, 1, NAN, ULHT, "amber", "within_amber_band", "within 2% of target (0.7644)"),
    (0.76, 0.78, 1, NAN, ULHT, "red", "fails_target", "beyond the 2% band"),
    (18.0, 18.0, -1, NAN, STW, "green", "meets_target", "lower is better, on target"),
    (18.3, 18.0, -1, NAN, ULHT, "amber", "within_amber_band", "lower is better, within 2% above (18.36)"),
    (18.5, 18.0, -1, NAN, ULHT, "red", "fails_target", "lower is better, beyond the band"),
    (5.0, NAN, 1, NAN, STW, "none", "no_target", "missing target: no rating"),
    (NAN, 5.0, 1, NAN, STW, "none", "no_value", "missing value: no rating"),
    (5.0, 4.0, 0, NAN, STW, "none", "neutral_polarity", "neutral polarity: no rating"),
    (-1.1, -1.0, 1, NAN, RagThresholds(amber_band=0.2), "amber", "within_amber_band", "negative target: band is 20% of |target|"),
]


@pytest.mark.parametrize(
    ("value", "target", "polarity", "trajectory", "thresholds", "rating", "reason", "why"), RAG_CASES, ids=[c[-1] for c in RAG_CASES]
)
def test_rag(value, target, polarity, trajectory, thresholds, rating, reason, why):
    batch = rate_against_target(np.array([value]), np.array([target]), np.array([polarity]), np.array([trajectory]), thresholds)
    assert batch.words() == [rating]
    assert batch.explain(0)["reason"] == reason


def test_rag_rates_a_whole_batch_of_periods_against_one_target_per_series():
    values = np.array([[0.70, 0.80], [20.0, 17.0]])
    batch = rate_against_target(values, np.array([0.78, 18.0])[:, None], np.array([1, -1])[:, None])
    assert batch.rating.shape == (2, 2)
    assert [batch.words()[i] for i in range(4)] == ["red", "green", "red", "green"]


def test_rag_evidence_is_json_with_value_target_and_thresholds():
    batch = rate_against_target(np.array([0.77]), np.array([0.78]), np.array([1]), np.array([0.76]), ULHT)
    evidence = json.loads(json.dumps(batch.explain(0), allow_nan=False))
    assert evidence["amber_threshold"] == pytest.approx(0.7644)
    assert evidence["trajectory"] == 0.76 and evidence["trajectory_rating"] == "green"
    assert evidence["rule_set"]["parameters"] == {"amber_band": 0.02, "on_trajectory_below_target": "amber"}


def test_trajectory_rating_without_a_trajectory_is_none():
    batch = rate_against_target(np.array([0.77]), np.array([0.78]), np.array([1]))
    assert batch.explain(0)["trajectory_rating"] == "none"


@pytest.mark.parametrize("bad", [dict(amber_band=-0.1), dict(amber_band=1.5), dict(on_trajectory_below_target="green")])
def test_rag_thresholds_fail_fast(bad):
    with pytest.raises(ValueError):
        RagThresholds(**bad)
