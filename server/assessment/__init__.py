"""Assessment engine: pure computation over numpy arrays (DOMAIN 4.4). See METHOD.md.

Batch functions take series x periods arrays and return frozen result objects with an
``explain(...)`` method giving JSON-serialisable evidence; the caller persists them.
"""
from server.assessment.forecast import ForecastBatch, forecast_failure
from server.assessment.improvement import ImprovementBatch, improvement_since_plan
from server.assessment.masking import MaskedFailures, find_masked_failures
from server.assessment.params import (
    ForecastParameters,
    ImprovementParameters,
    RagThresholds,
    RollupParameters,
    SpcParameters,
    SpectrumThresholds,
    UnderTargetParameters,
)
from server.assessment.rag import RagBatch, rate_against_target
from server.assessment.rollup import RollupResult, rollup
from server.assessment.spc import SpcBatch, compute_spc, rebase_mask
from server.assessment.spectrum import SpectrumFacts, SpectrumResult, performance_spectrum, spectrum_facts
from server.assessment.tree import TreeRollup, rollup_tree
from server.assessment.underperformance import UnderTargetBatch, consecutive_periods_under_target

__all__ = [
    "ForecastBatch", "ForecastParameters", "ImprovementBatch", "ImprovementParameters", "MaskedFailures",
    "RagBatch", "RagThresholds", "RollupParameters", "RollupResult", "SpcBatch", "SpcParameters",
    "SpectrumFacts", "SpectrumResult", "SpectrumThresholds", "TreeRollup", "UnderTargetBatch",
    "UnderTargetParameters", "compute_spc", "consecutive_periods_under_target", "find_masked_failures",
    "forecast_failure", "improvement_since_plan", "performance_spectrum", "rate_against_target",
    "rebase_mask", "rollup", "rollup_tree", "spectrum_facts",
]
