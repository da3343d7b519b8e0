"""Variation and assurance verdicts, a batch of series at once, and the evidence they carry.

Baseline series used below: [2, 0] * 6 → mean 1, limits -4.32 .. 6.32.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from server.assessment import SpcParameters, compute_spc, rebase_mask
from server.assessment.params import LIMIT_MULTIPLIER

NAN = math.nan
STABLE = [2.0, 0.0] * 6
UPPER = 1 + LIMIT_MULTIPLIER * 2
LOWER = 1 - LIMIT_MULTIPLIER * 2

# (polarity, target, inclusive limits, expected assurance, why)
ASSURANCE_CASES = [
    (1, -5.0, False, "consistently_pass", "higher is better, target below the lower limit"),
    (1, 7.0, False, "consistently_fail", "higher is better, target above the upper limit"),
    (1, 1.0, False, "hit_and_miss", "target between the limits"),
    (-1, 7.0, False, "consistently_pass", "lower is better, target above the upper limit"),
    (-1, -5.0, False, "consistently_fail", "lower is better, target below the lower limit"),
    (1, LOWER, False, "hit_and_miss", "R: target equal to the lower limit is not consistent"),
    (1, LOWER, True, "consistently_pass", "inclusive setting: equality counts"),
    (1, UPPER, False, "hit_and_miss", "R: target equal to the upper limit"),
    (1, UPPER, True, "consistently_fail", "inclusive setting"),
    (1, NAN, False, "none", "no target"),
    (0, 1.0, False, "none", "neutral polarity has no assurance"),
]


@pytest.mark.parametrize(("polarity", "target", "inclusive", "expected", "why"), ASSURANCE_CASES, ids=[c[-1] for c in ASSURANCE_CASES])
def test_assurance(polarity, target, inclusive, expected, why):
    batch = compute_spc(np.array([STABLE]), [polarity], [target], parameters=SpcParameters(assurance_inclusive_limits=inclusive))
    assert batch.assurance_words() == [expected]


def test_assurance_uses_the_latest_segments_limits():
    # Segment 2 ([12, 10] * 6: limits 5.68 .. 16.32) passes a target of 3 every time; segment 1 did not.
    values = np.array([STABLE + [12.0, 10.0] * 6])
    batch = compute_spc(values, [1], [3.0], rebase=rebase_mask(1, 24, {0: [12]}))
    assert batch.assurance_words() == ["consistently_pass"]


# (values, polarity, expected variation, why)
VARIATION_CASES = [
    (STABLE, 1, "common_cause", "stable process"),
    (STABLE + [1.5] * 7, 1, "special_cause_improving", "shift above, higher is better"),
    (STABLE + [1.5] * 7, -1, "special_cause_concerning", "shift above, lower is better"),
    (STABLE + [1.5] * 7, 0, "special_cause_neutral", "shift with neutral polarity"),
    (STABLE + [1.5] * 7 + [NAN], 1, "common_cause", "R: a missing last row is common cause"),
    (STABLE + [1.5] * 7 + [0.5], 1, "common_cause", "the latest point ends the run"),
    ([NAN] * 5, 1, "none", "no data"),
]


@pytest.mark.parametrize(("values", "polarity", "expected", "why"), VARIATION_CASES, ids=[c[-1] for c in VARIATION_CASES])
def test_variation_from_the_last_row(values, polarity, expected, why):
    batch = compute_spc(np.array([values]), [polarity], parameters=SpcParameters(fix_after_points=12))
    assert batch.variation_words() == [expected]


def test_variation_from_the_latest_observed_point_is_a_setting():
    parameters = SpcParameters(fix_after_points=12, variation_from="latest_observed")
    batch = compute_spc(np.array([STABLE + [1.5] * 7 + [NAN]]), [1], parameters=parameters)
    assert batch.variation_words() == ["special_cause_improving"] and batch.variation_index.tolist() == [18]


def test_a_batch_gives_each_series_its_own_verdicts():
    values = np.array([STABLE + [1.5] * 7, STABLE + [0.5] * 7, STABLE + [1.0] * 7])
    batch = compute_spc(values, [1, 1, -1], [-5.0, NAN, -5.0], parameters=SpcParameters(fix_after_points=12))
    assert batch.variation_words() == ["special_cause_improving", "special_cause_concerning", "common_cause"]
    assert batch.assurance_words() == ["consistently_pass", "none", "consistently_fail"]


def test_explanation_is_json_and_names_rule_points_limits_and_parameters():
    batch = compute_spc(np.array([STABLE + [1.5] * 7]), [1], [-5.0], parameters=SpcParameters(fix_after_points=12))
    evidence = json.loads(json.dumps(batch.explain(0), allow_nan=False))
    assert evidence["rule_set"]["name"] == "accord-mdc-xmr"
    assert evidence["rule_set"]["parameters"]["fix_after_points"] == 12
    assert evidence["rules_fired"]["shift"] == list(range(12, 19))
    assert evidence["variation"] == {
        "verdict": "special_cause_improving",
        "from_point": 18,
        "reason": "last period (period 18) is special_cause_improvement by the shift rule (nhsrplotthedots)",
    }
    assert evidence["assurance"]["verdict"] == "consistently_pass"
    assert evidence["points"][18]["upper_limit"] == pytest.approx(UPPER)
    assert evidence["points"][18]["in_baseline"] is False
    assert len(evidence["points"]) == 19


def test_explanation_of_a_gap_has_no_value_and_says_missing():
    batch = compute_spc(np.array([[2.0, NAN, 0.0, 2.0]]), [1])
    point = batch.explain(0)["points"][1]
    assert point["value"] is None and point["point_type"] == "missing"


def test_empty_batch_is_allowed():
    batch = compute_spc(np.empty((0, 12)), np.empty(0, dtype=int))
    assert batch.variation_words() == [] and batch.n_series == 0


# (values, expected start of a shift still going, why)
RECALCULATION_CASES = [
    (STABLE + [1.5] * 7, 12, "seven above the mean, still going"),
    (STABLE + [1.5] * 7 + [NAN], 12, "a missing last period does not end it"),
    (STABLE + [1.5] * 7 + [0.5], -1, "the latest point ended it"),
    (STABLE + [1.5] * 6, -1, "six is not a shift"),
]


@pytest.mark.parametrize(("values", "expected", "why"), RECALCULATION_CASES, ids=[c[-1] for c in RECALCULATION_CASES])
def test_a_shift_still_going_is_a_candidate_for_recalculation(values, expected, why):
    batch = compute_spc(np.array([values]), [1], parameters=SpcParameters(fix_after_points=12))
    assert batch.recalculation_from.tolist() == [expected]
    recalculation = batch.explain(0)["recalculation"]
    assert recalculation["candidate"] is (expected >= 0) and recalculation["from_period"] == (expected if expected >= 0 else None)


def test_a_recorded_recalculation_is_a_rebase_and_ends_the_candidate():
    values = np.array([STABLE + [1.5] * 7])
    rebased = compute_spc(values, [1], rebase=rebase_mask(1, 19, {0: [12]}), parameters=SpcParameters(fix_after_points=12))
    assert rebased.recalculation_from.tolist() == [-1]
    assert rebased.explain(0)["segments"][1]["mean"] == 1.5
