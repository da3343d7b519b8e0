"""STW "Performance Spectrum" for an organisation or unit: unacceptable / requires_improvement /
good / outstanding (seed 004: "Breach of requirements and/or multiple KPI targets across multiple
domains" … "Exceeding KPI targets, benchmarking and continued improvement").

``spectrum_facts`` counts, over one organisation's indicators, the facts a tenant's spectrum rules
speak about; ``performance_spectrum`` rates them with ``SpectrumThresholds`` (first match wins):

1. unacceptable — missed key targets >= ``unacceptable_missed`` across >= ``unacceptable_domains``
   domains;
2. requires_improvement — missed key targets >= ``requires_improvement_missed``;
3. outstanding — no key target missed and a share >= ``outstanding_share`` of the indicators
   exceed their target or show special-cause improvement;
4. good — otherwise.

Only key indicators count as missed targets ("KPI targets"); the outstanding share is over all the
indicators passed in.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from server.assessment.params import SpectrumThresholds

SPECTRUM_LEVELS = ("unacceptable", "requires_improvement", "good", "outstanding")


@dataclass(frozen=True)
class SpectrumFacts:
    kpi_targets_missed: int
    domains_with_missed_targets: int
    missed_domains: tuple[str, ...]
    indicators: int
    indicators_exceeding_target: int
    indicators_improving: int
    indicators_improving_or_exceeding: int
    share_improving_or_exceeding: float
    all_targets_exceeded: bool


@dataclass(frozen=True)
class SpectrumResult:
    level: str
    reason: str
    facts: SpectrumFacts
    thresholds: SpectrumThresholds

    def explain(self) -> dict[str, Any]:
        facts = asdict(self.facts)
        facts["missed_domains"] = list(self.facts.missed_domains)
        return {"rule_set": self.thresholds.describe(), "level": self.level, "reason": self.reason, "facts": facts}


def spectrum_facts(
    domains: Sequence[str],
    key: Sequence[bool],
    missed: Sequence[bool],
    exceeding: Sequence[bool],
    improving: Sequence[bool],
    has_target: Sequence[bool] | None = None,
) -> SpectrumFacts:
    """Per indicator: its domain, whether it is a key indicator, whether it missed its target in
    the period, exceeded it (strictly better), and shows special-cause improvement."""
    key_missed = np.asarray(key, dtype=bool) & np.asarray(missed, dtype=bool)
    exceeding = np.asarray(exceeding, dtype=bool)
    improving = np.asarray(improving, dtype=bool)
    targeted = np.ones(len(exceeding), dtype=bool) if has_target is None else np.asarray(has_target, dtype=bool)
    missed_domains = tuple(sorted({domain for domain, miss in zip(domains, key_missed) if miss}))
    either = int((exceeding | improving).sum())
    count = len(exceeding)
    return SpectrumFacts(
        kpi_targets_missed=int(key_missed.sum()),
        domains_with_missed_targets=len(missed_domains),
        missed_domains=missed_domains,
        indicators=count,
        indicators_exceeding_target=int(exceeding.sum()),
        indicators_improving=int(improving.sum()),
        indicators_improving_or_exceeding=either,
        share_improving_or_exceeding=either / count if count else 0.0,
        all_targets_exceeded=bool(targeted.any() and exceeding[targeted].all()),
    )


def performance_spectrum(facts: SpectrumFacts, thresholds: SpectrumThresholds = SpectrumThresholds()) -> SpectrumResult:
    """Rate an organisation's facts on the spectrum (first matching level wins)."""
    missed, domains = facts.kpi_targets_missed, facts.domains_with_missed_targets
    if missed >= thresholds.unacceptable_missed and domains >= thresholds.unacceptable_domains:
        level, reason = "unacceptable", f"{missed} key targets missed across {domains} domains"
    elif missed >= thresholds.requires_improvement_missed:
        level, reason = "requires_improvement", f"{missed} key targets missed"
    elif facts.indicators and facts.share_improving_or_exceeding >= thresholds.outstanding_share:
        level, reason = "outstanding", f"no key target missed; {facts.share_improving_or_exceeding:.0%} improving or exceeding target"
    else:
        level, reason = "good", "no key target missed"
    return SpectrumResult(level, reason, facts, thresholds)
