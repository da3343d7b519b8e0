"""The words the engine answers with, in the order of their integer codes.

Arrays in results hold small integer codes (fast, compact); these tuples turn a code into the word
stored in the database (server/db/models/assessments.py uses the same RAG, variation and assurance
words).
"""
from __future__ import annotations

from typing import Final

import numpy as np

# Per point (NHSRplotthedots ``point_type`` plus our two non-verdicts).
POINT_TYPES: Final = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
    "missing",  # no value for the period
    "not_assessed",  # the segment has no limits (too few points and below_minimum="not_shown")
)
COMMON_CAUSE, IMPROVEMENT, CONCERN, NEUTRAL, MISSING, NOT_ASSESSED = range(6)

# Per series, from the latest observed point.
VARIATIONS: Final = (
    "common_cause",
    "special_cause_improving",
    "special_cause_concerning",
    "special_cause_neutral",
    "none",
)
VARIATION_NONE = 4

ASSURANCES: Final = ("consistently_pass", "consistently_fail", "hit_and_miss", "none")
CONSISTENTLY_PASS, CONSISTENTLY_FAIL, HIT_AND_MISS, ASSURANCE_NONE = range(4)

# Special-cause rules in NHSRplotthedots precedence order (ptd_special_cause_type ``case_when``).
RULES: Final = ("none", "astronomical", "trend", "two_in_three", "shift")
NO_RULE, ASTRONOMICAL, TREND, TWO_IN_THREE, SHIFT = range(5)

RAGS: Final = ("red", "amber", "green", "none")
RED, AMBER, GREEN, RAG_NONE = range(4)

POLARITIES: Final = {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}


def polarity_signs(names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Polarity words from a tenant file as +1 / -1 / 0, the form every batch function takes."""
    return np.array([POLARITIES[name] for name in names], dtype=np.int8)


def labels(codes: np.ndarray, words: tuple[str, ...]) -> list[str]:
    """Words for an array of codes, e.g. ``labels(batch.variation, VARIATIONS)``."""
    return [words[code] for code in np.asarray(codes).ravel().tolist()]
