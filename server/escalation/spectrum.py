"""The STW performance spectrum: the first threshold, in file order, whose condition holds gives the rating."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.escalation.conditions import ConditionTrace, FactValues, evaluate_condition
from server.escalation.facts import FACTS, FactDefinition, check_fact_values
from server.escalation.ladder import InvalidFacts
from server.tenants.spec import SpectrumThreshold


@dataclass(frozen=True)
class SpectrumRating:
    rating: str
    trace: ConditionTrace


def rate_on_spectrum(
    thresholds: Sequence[SpectrumThreshold], facts: FactValues, *, known: Mapping[str, FactDefinition] = FACTS,
) -> SpectrumRating | None:
    """Rating for an organisation or unit; None when no threshold holds (or none is configured)."""
    problems = check_fact_values(facts, known)
    if problems:
        raise InvalidFacts("; ".join(problems))
    for index, threshold in enumerate(thresholds):
        result = evaluate_condition(threshold.when, facts, f"assessment.spectrum[{index}].when")
        if result.holds:
            return SpectrumRating(threshold.rating, result.trace)
    return None
