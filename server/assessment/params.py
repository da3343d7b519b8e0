"""Every setting of the assessment engine, with its default and where the default comes from.

A tenant file (``assessment:`` in ``tenants/<code>.yaml``) maps onto these frozen dataclasses; each
result carries the rule-set name, version and the parameters that produced it (``describe()``), so
a stored verdict can always be explained and reproduced. The method is written up in METHOD.md.

SPC (``SpcParameters``). Two methods, each a preset of the individual settings:

* ``nhsrplotthedots`` (the default): the R package NHSRplotthedots 0.2.x, as its code behaves on
  every edge (R/ptd_spc_standard.R, R/ptd_calculate_point_type.R,
  R/ptd_calculate_assurance_type.R, R/ptd_add_short_group_warnings.R);
* ``mdc_tools``: the same, except where the NHS England Making Data Count Excel tools are
  documented to differ (NHSRplotthedots issue #194): no screening of moving ranges, two-in-three
  counting points beyond the limits, improvement winning when both directions trigger, no limits
  or icons below 13 points, a target on a limit counting as consistent.

A tenant picks a method and may override any single setting; ``departures()`` names the settings
that differ from the chosen method. METHOD.md gives the reason for every setting.

==================================  ==================  ==================  =================================
setting                             nhsrplotthedots     mdc_tools           meaning
==================================  ==================  ==================  =================================
run_length                          7                   7                   points in a row on one side of
                                                                            the mean that make a shift (6 is
                                                                            an MDC Excel option, R issue #202)
trend_length                        7                   7                   points each strictly above (below)
                                                                            the one before that make a trend
screen_moving_ranges                True                False               drop moving ranges >= 3.267 x the
                                                                            mean moving range, recompute once
two_in_three                        True                True                apply the two-in-three rule
two_in_three_counts_beyond_limits   False               True                a point beyond the process limit
                                                                            counts as "near" it
fix_after_points                    None                None                fix mean and limits on the first N
                                                                            points of each segment
minimum_points                      13                  13                  fewer points than this: short
                                                                            baseline (R ``n() < 13``)
points_counted                      "rows"              "rows"              "rows": periods, missing included
                                                                            (R ``n()``, ``row_number()``);
                                                                            "observed": values only
below_minimum                       "trial_limits"      "not_shown"         short baseline: trial limits, or no
                                                                            limits, signals or icons
constant_baseline                   "no_limits"         "no_limits"         all moving ranges zero: screening
                                                                            drops them all (R), or
                                                                            "limits_on_mean"
without_limits                      "runs_only"         "runs_only"         a segment without limits keeps its
                                                                            mean, shift and trend rules and
                                                                            "hit and miss" assurance (R), or
                                                                            "not_assessed": no verdicts
conflicting_signals                 "rule_precedence"   "improvement_wins"  a point flagged both ways
trend_direction                     "right_side"        "right_side"        direction of a trend point: R's
                                                                            next step where the next point is
                                                                            in a trend too, or "own_trend"
variation_from                      "last_row"          "last_row"          variation is the last period's
                                                                            point type (R), or the
                                                                            "latest_observed" point's
assurance_inclusive_limits          False               True                a target equal to a limit counts as
                                                                            consistently passing / failing
==================================  ==================  ==================  =================================

Constants, not settings (Wheeler XmR constants used by both R and the MDC tools): limits are
mean +/- 2.66 x mean moving range, the two-sigma line is mean +/- (2 x 2.66 / 3) x mean moving
range, and the screening bound is 3.267 x mean moving range. Means are R's ``mean()`` (arithmetic.py).

The other settings (RAG, roll-up, consecutive failures, improvement, forecast, spectrum) are
documented on their classes below.
"""
from __future__ import annotations

import functools

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

RULE_SET_NAME = "accord-mdc-xmr"
RULE_SET_VERSION = "2.0.0"  # 2.0.0: R behaviour on every edge by default, methods and settings
RULE_SET_ID = f"{RULE_SET_NAME}@{RULE_SET_VERSION}"  # the short form for a rule_set text column
REFERENCE_IMPLEMENTATION = "NHSRplotthedots 0.2.x (nhs-r-community/NHSRplotthedots)"

# XmR constants (ptd_spc_standard.R: ``limit <- 2.66``, ``limitclose <- 2 * (limit / 3)``,
# screening ``mr < 3.267 * amr``). Both implementations compute derived values the same way so
# that comparisons at a limit agree to the last bit.
LIMIT_MULTIPLIER = 2.66
TWO_SIGMA_MULTIPLIER = 2 * (LIMIT_MULTIPLIER / 3)
SCREENING_MULTIPLIER = 3.267


SpcMethod = Literal["nhsrplotthedots", "mdc_tools"]
PointsCounted = Literal["rows", "observed"]
BelowMinimum = Literal["trial_limits", "not_shown"]
ConstantBaseline = Literal["no_limits", "limits_on_mean"]
WithoutLimits = Literal["runs_only", "not_assessed"]
ConflictingSignals = Literal["rule_precedence", "improvement_wins"]
TrendDirection = Literal["right_side", "own_trend"]
VariationFrom = Literal["last_row", "latest_observed"]

# What each method changes from the dataclass defaults, which are NHSRplotthedots'. MDC tools:
# NHSRplotthedots issue #194 (two-in-three, 13 points, improvement wins) and our brief (screening,
# inclusive assurance; neither could be checked in the workbook).
METHOD_PRESETS: dict[str, dict[str, Any]] = {
    "nhsrplotthedots": {},
    "mdc_tools": {
        "screen_moving_ranges": False,
        "two_in_three_counts_beyond_limits": True,
        "below_minimum": "not_shown",
        "conflicting_signals": "improvement_wins",
        "assurance_inclusive_limits": True,
    },
}


@dataclass(frozen=True)
class SpcParameters:
    """Statistical process control settings; see the module docstring for each default's source."""

    method: SpcMethod = "nhsrplotthedots"
    run_length: int = 7
    trend_length: int = 7
    screen_moving_ranges: bool = True
    two_in_three: bool = True
    two_in_three_counts_beyond_limits: bool = False
    fix_after_points: int | None = None
    minimum_points: int = 13
    points_counted: PointsCounted = "rows"
    below_minimum: BelowMinimum = "trial_limits"
    constant_baseline: ConstantBaseline = "no_limits"
    without_limits: WithoutLimits = "runs_only"
    conflicting_signals: ConflictingSignals = "rule_precedence"
    trend_direction: TrendDirection = "right_side"
    variation_from: VariationFrom = "last_row"
    assurance_inclusive_limits: bool = False

    @classmethod
    def for_method(cls, method: SpcMethod = "nhsrplotthedots", **settings: Any) -> SpcParameters:
        """The method's preset, with any setting given (not None) overriding it."""
        if method not in METHOD_PRESETS:
            raise ValueError(f"unknown SPC method {method!r}")
        chosen = {name: value for name, value in settings.items() if value is not None}
        return cls(**{**METHOD_PRESETS[method], **chosen, "method": method})

    def departures(self) -> dict[str, Any]:
        """The settings that differ from the chosen method's preset."""
        preset = asdict(SpcParameters.for_method(self.method))
        return {name: value for name, value in asdict(self).items() if preset[name] != value}

    def __post_init__(self) -> None:
        if self.run_length < 2 or self.trend_length < 2:
            raise ValueError("run_length and trend_length must be at least 2")
        if self.fix_after_points is not None and self.fix_after_points < 2:
            raise ValueError("fix_after_points needs at least 2 points (one moving range)")
        if self.minimum_points < 2:
            raise ValueError("minimum_points must be at least 2")
        for name, choices in _SPC_CHOICES.items():
            if getattr(self, name) not in get_args(choices):
                raise ValueError(f"{name} must be one of {', '.join(get_args(choices))}, not {getattr(self, name)!r}")

    def describe(self) -> dict[str, Any]:
        """The rule-set stamp with the departures from the method (the same for every series of a
        batch: made once per parameters, not once per series)."""
        return _describe_spc(self)


_SPC_CHOICES = {
    "method": SpcMethod, "points_counted": PointsCounted, "below_minimum": BelowMinimum,
    "constant_baseline": ConstantBaseline, "without_limits": WithoutLimits,
    "conflicting_signals": ConflictingSignals, "trend_direction": TrendDirection, "variation_from": VariationFrom,
}


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


@functools.lru_cache(maxsize=64)
def _describe_spc(parameters: "SpcParameters") -> dict[str, Any]:
    return {**rule_set(parameters), "departures_from_method": parameters.departures()}


@functools.lru_cache(maxsize=256)
def rule_set(parameters: Any) -> dict[str, Any]:
    """The rule-set stamp stored with every result: name, version, reference and parameters.

    Made once per (frozen, hashable) parameters object, as ``_describe_spc`` is: every series' evidence
    carries four of them, and ``asdict`` each time was a tenth of making the evidence."""
    return {
        "id": RULE_SET_ID,
        "name": RULE_SET_NAME,
        "version": RULE_SET_VERSION,
        "reference": REFERENCE_IMPLEMENTATION,
        "parameters_of": type(parameters).__name__,
        "parameters": asdict(parameters),
    }
