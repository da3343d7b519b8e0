"""Every setting of the assessment engine, with its default and where the default comes from.

A tenant file (``assessment:`` in ``tenants/<code>.yaml``) maps onto these frozen dataclasses; each
result carries the rule-set name, version and the parameters that produced it (``describe()``), so
a stored verdict can always be explained and reproduced. The method is written up in METHOD.md.

SPC (``SpcParameters``), after NHS England "Making Data Count" as implemented by the R package
NHSRplotthedots 0.2.x (R/ptd_spc_standard.R, R/ptd_calculate_point_type.R,
R/ptd_calculate_assurance_type.R, R/ptd_add_short_group_warnings.R):

==================================  =================  ===============================================
parameter                           default            meaning and source
==================================  =================  ===============================================
run_length                          7                  points in a row on one side of the mean that
                                                       make a shift (ptd_seven_point_one_side_mean);
                                                       some tenants use 6 (MDC Excel tool option,
                                                       NHSRplotthedots issue #202 — R has 7 only)
trend_length                        7                  points in a row each strictly above (below) the
                                                       one before that make a trend
                                                       (ptd_seven_point_trend); ties break a trend
screen_moving_ranges                True               drop moving ranges >= 3.267 x mean moving range
                                                       and recompute it (R ``screen_outliers = TRUE``)
two_in_three                        True               apply the two-in-three rule (R always does)
two_in_three_counts_beyond_limits   False              False: only points between 2 and 3 sigma count
                                                       (R ``close_to_limits``); True: any point beyond
                                                       2 sigma counts (MDC tools since Nov 2023,
                                                       NHSRplotthedots issue #194)
fix_after_points                    None               fix mean and limits on the first N observed
                                                       points of each segment (R
                                                       ``fix_after_n_points``); None = use all points
minimum_points                      12                 fewer observed baseline points than this gives a
                                                       short-baseline warning (R
                                                       ``ptd_add_short_group_warnings``, threshold 12)
below_minimum                       "trial_limits"     "trial_limits": compute limits and signals and
                                                       warn, as R does; "not_shown": no limits, no
                                                       signals, verdicts "none" (MDC single chart tool
                                                       shows limits from 13 points, issue #194)
conflicting_signals                 "rule_precedence"  a point flagged both ways takes the direction of
                                                       the first rule in the order astronomical, trend,
                                                       two-in-three, shift (R ``case_when`` order);
                                                       "improvement_wins": the MDC single chart tool
                                                       shows improvement (issue #194)
assurance_inclusive_limits          False              False: a target equal to a process limit is
                                                       hit-and-miss (R compares strictly); True: equality
                                                       counts as consistently passing / failing
==================================  =================  ===============================================

Constants, not settings (Wheeler XmR constants used by both R and the MDC tools): limits are
mean +/- 2.66 x mean moving range, the two-sigma line is mean +/- (2 x 2.66 / 3) x mean moving
range, and the screening bound is 3.267 x mean moving range.

The other settings (RAG, roll-up, consecutive failures, improvement, forecast, spectrum) are
documented on their classes below.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

RULE_SET_NAME = "accord-mdc-xmr"
RULE_SET_VERSION = "1.0.0"
RULE_SET_ID = f"{RULE_SET_NAME}@{RULE_SET_VERSION}"  # the short form for a rule_set text column
REFERENCE_IMPLEMENTATION = "NHSRplotthedots 0.2.x (nhs-r-community/NHSRplotthedots)"

# XmR constants (ptd_spc_standard.R: ``limit <- 2.66``, ``limitclose <- 2 * (limit / 3)``,
# screening ``mr < 3.267 * amr``). Both implementations compute derived values the same way so
# that comparisons at a limit agree to the last bit.
LIMIT_MULTIPLIER = 2.66
TWO_SIGMA_MULTIPLIER = 2 * (LIMIT_MULTIPLIER / 3)
SCREENING_MULTIPLIER = 3.267


@dataclass(frozen=True)
class SpcParameters:
    """Statistical process control settings; see the module docstring for each default's source."""

    run_length: int = 7
    trend_length: int = 7
    screen_moving_ranges: bool = True
    two_in_three: bool = True
    two_in_three_counts_beyond_limits: bool = False
    fix_after_points: int | None = None
    minimum_points: int = 12
    below_minimum: Literal["trial_limits", "not_shown"] = "trial_limits"
    conflicting_signals: Literal["rule_precedence", "improvement_wins"] = "rule_precedence"
    assurance_inclusive_limits: bool = False

    def __post_init__(self) -> None:
        if self.run_length < 2 or self.trend_length < 2:
            raise ValueError("run_length and trend_length must be at least 2")
        if self.fix_after_points is not None and self.fix_after_points < 2:
            raise ValueError("fix_after_points needs at least 2 points (one moving range)")
        if self.minimum_points < 2:
            raise ValueError("minimum_points must be at least 2")
        if self.below_minimum not in ("trial_limits", "not_shown"):
            raise ValueError(f"below_minimum must be 'trial_limits' or 'not_shown', not {self.below_minimum!r}")
        if self.conflicting_signals not in ("rule_precedence", "improvement_wins"):
            raise ValueError(f"unknown conflicting_signals {self.conflicting_signals!r}")

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


@dataclass(frozen=True)
class RagThresholds:
    """RAG settings (tenant ``assessment.rag``).

    amber_band (default 0.0): a value failing its target by no more than this fraction of the
    target is amber; 0 gives pure red/green.
    on_trajectory_below_target (default "amber", STW plan-on-a-page): rating of a value that fails
    its target but meets the agreed trajectory for the period.
    """

    amber_band: float = 0.0
    on_trajectory_below_target: Literal["amber", "red"] = "amber"

    def __post_init__(self) -> None:
        if not 0.0 <= self.amber_band <= 1.0:
            raise ValueError("amber_band is a fraction of the target between 0 and 1")
        if self.on_trajectory_below_target not in ("amber", "red"):
            raise ValueError("on_trajectory_below_target must be 'amber' or 'red'")

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


@dataclass(frozen=True)
class RollupParameters:
    """Roll-up settings.

    require_complete (default True): a parent's value for a period is missing (NaN) unless every
    child reported, so a partial sum is never shown as the whole (DOMAIN 5: nothing invented).
    """

    require_complete: bool = True

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


@dataclass(frozen=True)
class UnderTargetParameters:
    """Consecutive periods under performance.

    missing_breaks_run (default True): a missing period ends the run of failures (an unknown month
    is not counted as a failure); False skips missing periods without ending the run.
    """

    missing_breaks_run: bool = True

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


@dataclass(frozen=True)
class ImprovementParameters:
    """Improvement since an improvement plan started (STW: "3 months ... without improvement since
    improvement plan in place").

    baseline_periods (default 6): the plan's baseline is the mean of the last this-many observed
    periods before the plan's start period.
    sustained_periods (default 3): improvement is sustained when this many latest consecutive
    periods, all from the plan start on, are each better than the baseline.
    use_spc_signal (default True): a special-cause improvement point from the plan start on, with no
    special-cause concern after it, also counts as improvement.
    """

    baseline_periods: int = 6
    sustained_periods: int = 3
    use_spc_signal: bool = True

    def __post_init__(self) -> None:
        if self.baseline_periods < 1 or self.sustained_periods < 1:
            raise ValueError("baseline_periods and sustained_periods must be at least 1")

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


@dataclass(frozen=True)
class ForecastParameters:
    """Failure forecast (STW: "take proactive forward look for the next 3 months").

    horizon (default 3): periods ahead to look.
    trend_window (default 12): the linear trend is fitted to the observed points among the last
    this-many periods.
    minimum_trend_points (default 6): fewer observed points in the window and no trend is fitted.
    use_process_mean (default True): a process (SPC) mean that fails the target also predicts
    failure.
    """

    horizon: int = 3
    trend_window: int = 12
    minimum_trend_points: int = 6
    use_process_mean: bool = True

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError("horizon must be at least 1")
        if self.minimum_trend_points < 2 or self.trend_window < self.minimum_trend_points:
            raise ValueError("need trend_window >= minimum_trend_points >= 2")

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


@dataclass(frozen=True)
class SpectrumThresholds:
    """STW "Performance Spectrum" thresholds; the tenant file carries the values.

    unacceptable when at least ``unacceptable_missed`` key targets are missed across at least
    ``unacceptable_domains`` domains ("multiple KPI targets across multiple domains");
    requires_improvement when at least ``requires_improvement_missed`` are missed;
    outstanding when none is missed and at least ``outstanding_share`` of assessed indicators
    exceed their target or show special-cause improvement ("exceeding KPI targets ... continued
    improvement"); otherwise good.
    """

    unacceptable_missed: int = 4
    unacceptable_domains: int = 2
    requires_improvement_missed: int = 1
    outstanding_share: float = 0.5

    def __post_init__(self) -> None:
        if self.requires_improvement_missed < 1 or self.unacceptable_missed < self.requires_improvement_missed:
            raise ValueError("need unacceptable_missed >= requires_improvement_missed >= 1")
        if not 0.0 <= self.outstanding_share <= 1.0:
            raise ValueError("outstanding_share is a fraction between 0 and 1")

    def describe(self) -> dict[str, Any]:
        return rule_set(self)


def rule_set(parameters: Any) -> dict[str, Any]:
    """The rule-set stamp stored with every result: name, version, reference and parameters."""
    return {
        "id": RULE_SET_ID,
        "name": RULE_SET_NAME,
        "version": RULE_SET_VERSION,
        "reference": REFERENCE_IMPLEMENTATION,
        "parameters_of": type(parameters).__name__,
        "parameters": asdict(parameters),
    }
