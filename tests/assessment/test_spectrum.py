"""STW performance spectrum from missed key targets and the domains they span."""
from __future__ import annotations

import json

import pytest

from server.assessment import SpectrumThresholds, performance_spectrum, spectrum_facts

STW = SpectrumThresholds(unacceptable_missed=3, unacceptable_domains=2, requires_improvement_missed=1, outstanding_share=0.6)


def rate(indicators, thresholds=STW):
    """indicators: (domain, key, missed, exceeding, improving)."""
    domains, key, missed, exceeding, improving = zip(*indicators) if indicators else ((), (), (), (), ())
    return performance_spectrum(spectrum_facts(domains, key, missed, exceeding, improving), thresholds)


# (indicators, expected level, why)
CASES = [
    ([("finance", True, True, False, False), ("quality", True, True, False, False), ("quality", True, True, False, False)],
     "unacceptable", "three key misses across two domains"),
    ([("quality", True, True, False, False)] * 3, "requires_improvement", "three misses in one domain only"),
    ([("finance", True, True, False, False), ("quality", True, False, True, False)], "requires_improvement", "one miss"),
    ([("finance", False, True, False, False), ("quality", True, False, False, False)], "good", "a non-key miss does not count"),
    ([("finance", True, False, True, False), ("quality", True, False, False, True), ("quality", True, False, False, False)],
     "outstanding", "two of three exceeding or improving (67% >= 60%)"),
    ([("finance", True, False, True, False), ("quality", True, False, False, False), ("quality", True, False, False, False)],
     "good", "one of three (33%)"),
    ([], "good", "no indicators"),
]


@pytest.mark.parametrize(("indicators", "expected", "why"), CASES, ids=[c[-1] for c in CASES])
def test_spectrum(indicators, expected, why):
    assert rate(indicators).level == expected


def test_spectrum_evidence_counts_misses_and_domains():
    result = rate([("finance", True, True, False, False), ("quality", True, True, False, False), ("quality", True, True, False, False)])
    evidence = json.loads(json.dumps(result.explain()))
    assert evidence["facts"]["kpi_targets_missed"] == 3
    assert evidence["facts"]["missed_domains"] == ["finance", "quality"]
    assert evidence["rule_set"]["parameters"]["unacceptable_missed"] == 3


def test_thresholds_are_configuration():
    indicators = [("finance", True, True, False, False), ("quality", True, True, False, False)]
    assert rate(indicators).level == "requires_improvement"
    assert rate(indicators, SpectrumThresholds(unacceptable_missed=2, unacceptable_domains=2)).level == "unacceptable"
