"""An organisation's place on the STW performance spectrum, from its stored latest assessments.

The facts come from ``server.assessment.spectrum.spectrum_facts`` over the organisation-level
latest values. The rating uses the tenant's own thresholds (``assessment.spectrum`` in its file,
as loaded into ``tenant_framework``) where it declares them, read by the same condition engine the
ladders use; otherwise the engine's default thresholds (``SpectrumThresholds``).

Only the facts Accord produces are supplied: missed KPI targets, their domains, whether every KPI
target is exceeded, ``continued_improvement`` and, once recorded, the organisation's self-assessed
``maturity_level`` (server/maturity). Continued improvement is read from the SPC verdicts of the
latest period: at least one indicator shows special-cause improvement and no key indicator shows
special-cause concern (Making Data Count's evidence of improvement that is sustained, not one good
month). Facts nobody records yet (``requirements_breached``, ``improvement_targets_missed``) are
left out, so a rule that needs them is *unknown*, never silently true or false
(server/escalation/conditions.py); STW's "outstanding" (all KPI targets exceeded and continued
improvement) is reachable from data alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from pydantic import TypeAdapter, ValidationError

from server.assessment.params import SpectrumThresholds
from server.assessment.spectrum import SpectrumFacts, performance_spectrum, spectrum_facts
from server.assessment.targets import fails_target, meets_target
from server.escalation.spectrum import rate_on_spectrum
from server.reporting.status import IndicatorStatus
from server.reporting.words import SPECTRUM_WORDS
from server.tenants.spec import SpectrumThreshold

POLARITY_SIGN = {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}
_TENANT_RULES = TypeAdapter(list[SpectrumThreshold])


class SpectrumInput(NamedTuple):
    """One indicator of the organisation with its latest organisation-level status (a named tuple:
    a system position makes one per member indicator, 1,250 at national scale)."""

    domain: str
    is_key: bool
    polarity: str
    status: IndicatorStatus | None


@dataclass(frozen=True)
class SpectrumView:
    level: str | None  # None when no threshold holds with the facts known
    reason: str
    rule_source: str
    rule_detail: tuple[str, ...]
    facts: SpectrumFacts

    @property
    def words(self) -> str:
        return SPECTRUM_WORDS.get(self.level or "", "Not rated")


@dataclass(frozen=True)
class SpectrumColumns:
    """An organisation's assessed indicators (a latest value recorded) as columns, one entry per
    indicator: a system position rates every member from its rows without an object per indicator."""

    domains: Sequence[str]
    key: Sequence[bool]
    polarity: Sequence[str]
    values: Sequence[float]
    targets: Sequence[float | None]
    variations: Sequence[str]


def rate_spectrum(indicators: Sequence[SpectrumInput], tenant_rules: Any = None, *, maturity_level: int | None = None) -> SpectrumView:
    """Rate one organisation; ``tenant_rules`` is the raw ``assessment.spectrum`` list (or None);
    ``maturity_level`` its latest self-assessment, when one is recorded."""
    assessed = [i for i in indicators if i.status is not None and i.status.value is not None]
    columns = SpectrumColumns(
        domains=[i.domain for i in assessed], key=[i.is_key for i in assessed], polarity=[i.polarity for i in assessed],
        values=[i.status.value for i in assessed], targets=[i.status.target for i in assessed],  # type: ignore[union-attr, misc]
        variations=[i.status.variation for i in assessed],  # type: ignore[union-attr]
    )
    return rate_spectrum_columns(columns, tenant_rules, maturity_level=maturity_level)


def rate_spectrum_columns(columns: SpectrumColumns, tenant_rules: Any = None, *, maturity_level: int | None = None) -> SpectrumView:
    """``rate_spectrum`` over the assessed indicators' columns."""
    facts = _facts(columns)
    reason = _reason(facts)
    thresholds = _parse_rules(tenant_rules)
    if thresholds:
        known: dict[str, Any] = {
            "kpi_targets_missed": facts.kpi_targets_missed,
            "domains_with_missed_targets": facts.domains_with_missed_targets,
            "all_targets_exceeded": facts.all_targets_exceeded,
            "continued_improvement": continued_improvement(columns),
        }
        if maturity_level is not None:
            known["maturity_level"] = maturity_level
        rating = rate_on_spectrum(thresholds, known)
        if rating is None:
            return SpectrumView(None, reason, "the organisation's own spectrum rules", ("No rule holds with the facts recorded so far.",), facts)
        detail = tuple(leaf.describe() for leaf in rating.trace.deciding_comparisons())
        if facts.all_targets_exceeded and known["continued_improvement"] and facts.kpi_targets_missed == 0:
            # "Exceeding KPI targets ... and continued improvement" (seed 004): say so, not only that none was missed.
            reason = "Every key target exceeded, with continued improvement (special-cause improvement, no key indicator of concern)"
        return SpectrumView(rating.rating, reason, "the organisation's own spectrum rules", detail, facts)
    result = performance_spectrum(facts, SpectrumThresholds())
    defaults = SpectrumThresholds()
    detail = (
        f"unacceptable: at least {defaults.unacceptable_missed} key targets missed across at least {defaults.unacceptable_domains} domains",
        f"requires improvement: at least {defaults.requires_improvement_missed} key target missed",
        f"outstanding: none missed and at least {defaults.outstanding_share:.0%} of indicators exceeding target or improving",
    )
    return SpectrumView(result.level, reason, "Accord's default spectrum thresholds", detail, facts)


def continued_improvement(columns: SpectrumColumns) -> bool:
    """Special-cause improvement on at least one indicator, and special-cause concern on no key one."""
    improving = "special_cause_improving" in columns.variations
    return improving and not any(
        is_key and variation == "special_cause_concerning" for is_key, variation in zip(columns.key, columns.variations, strict=True))


def _facts(columns: SpectrumColumns) -> SpectrumFacts:
    values = np.array(columns.values, dtype=float)
    targets = np.array(columns.targets, dtype=float)  # None: NaN
    polarity = np.array([POLARITY_SIGN.get(p, 0) for p in columns.polarity], dtype=int)
    key = np.array(columns.key, dtype=bool)
    missed = fails_target(values, targets, polarity)
    exceeding = meets_target(values, targets, polarity) & (values != targets)
    improving = np.array([variation == "special_cause_improving" for variation in columns.variations], dtype=bool)
    # The registry's all_targets_exceeded speaks of KPI targets: key indicators with a target.
    has_key_target = key & ~np.isnan(targets) & (polarity != 0)
    return spectrum_facts(columns.domains, key, missed, exceeding, improving, has_key_target)


def _parse_rules(raw: Any) -> list[SpectrumThreshold]:
    if not raw:
        return []
    try:
        return _TENANT_RULES.validate_python(raw)
    except ValidationError:
        # The loader validated the file; a stored copy that no longer parses is a deployment slip,
        # and the defaults are a safer answer than no page.
        return []


def _reason(facts: SpectrumFacts) -> str:
    if not facts.indicators:
        return "No assessed indicators yet"
    if facts.kpi_targets_missed == 0:
        return "No key target missed"
    targets = "key target" if facts.kpi_targets_missed == 1 else "key targets"
    domains = "domain" if facts.domains_with_missed_targets == 1 else "domains"
    return (
        f"{facts.kpi_targets_missed} {targets} missed across {facts.domains_with_missed_targets} {domains} "
        f"({', '.join(facts.missed_domains)})"
    )
