"""Every verdict on the indicator page explained in words, from the evidence stored with it.

Nothing is recomputed: each sentence reads the latest assessment's evidence (server/assessment:
``spc``, ``rag``, ``under_target``, ``forecast``) and names the data, the rule and the parameters
that produced the verdict (DOMAIN 5: "Every rating can be explained").
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.reporting.periods import PeriodIndex
from server.reporting.words import ASSURANCE_WORDS, RULE_NAMES, RULE_WORDS, VARIATION_WORDS, count_of_periods

Formatter = Callable[[float | None], str]

POLARITY_WORDS = {1: "higher is better", -1: "lower is better", 0: "neutral: neither direction is better"}


@dataclass(frozen=True)
class Explanation:
    heading: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str


@dataclass(frozen=True)
class RuleSetDescription:
    title: str
    reference: str
    groups: tuple[tuple[str, tuple[Parameter, ...]], ...]  # (what the parameters govern, parameters)


def explain_assessment(evidence: dict[str, Any], periods: PeriodIndex, fmt: Formatter) -> tuple[Explanation, ...]:
    """Sections in the order a reader asks: rating, variation, limits, assurance, run, forecast."""
    if not evidence:
        return (Explanation("No assessment yet", ("There are no stored values for this indicator here yet.",)),)
    spc = evidence.get("spc") or {}
    sections = [
        _rag(evidence.get("rag") or {}, fmt),
        _variation(spc, periods),
        _limits(spc, periods, fmt),
        _assurance(spc, fmt),
        _under_target(evidence.get("under_target"), periods),
        _forecast(evidence.get("forecast"), periods, fmt),
        _method(spc, periods),
    ]
    return tuple(section for section in sections if section is not None)


def _method(spc: dict[str, Any], periods: PeriodIndex) -> Explanation | None:
    """Which SPC method and settings produced the verdicts, and whether limits could be recalculated."""
    method = spc.get("method") or {}
    lines = [str(method["summary"])] if method.get("summary") else []
    recalculation = spc.get("recalculation") or {}
    if recalculation.get("candidate") and recalculation.get("from_period") is not None:
        since = periods.label(int(recalculation["from_period"]))
        side = f" {recalculation['side']} the mean" if recalculation.get("side") else ""
        lines.append(f"A shift{side} since {since} is still going. If it has a known cause, the limits may be recalculated"
                     f" from {since}: a decision recorded on this page, never automatic.")
    return Explanation("Method", tuple(lines)) if lines else None


def describe_rule_sets(evidence: dict[str, Any]) -> RuleSetDescription | None:
    """The rule set and every parameter that produced the stored verdicts."""
    groups: list[tuple[str, tuple[Parameter, ...]]] = []
    first: dict[str, Any] | None = None
    for key, heading in (("spc", "Statistical process control"), ("rag", "Rating against target"),
                         ("under_target", "Periods under target"), ("forecast", "Forecast")):
        rule_set = ((evidence.get(key) or {}).get("rule_set")) or {}
        if not rule_set:
            continue
        first = first or rule_set
        parameters = tuple(Parameter(name.replace("_", " "), _plain(value)) for name, value in (rule_set.get("parameters") or {}).items())
        groups.append((heading, parameters))
    if first is None:
        return None
    return RuleSetDescription(
        title=f"{first.get('name', 'rule set')} version {first.get('version', '?')}",
        reference=str(first.get("reference", "")),
        groups=tuple(groups),
    )


def _rag(rag: dict[str, Any], fmt: Formatter) -> Explanation | None:
    if not rag:
        return None
    value, target, trajectory = fmt(rag.get("value")), fmt(rag.get("target")), fmt(rag.get("trajectory"))
    polarity = POLARITY_WORDS.get(rag.get("polarity", 0), "")
    reason = rag.get("reason")
    sentences: list[str]
    if reason == "meets_target":
        sentences = [f"On target: the latest value {value} meets the target of {target} ({polarity}); meeting it exactly counts."]
    elif reason == "within_amber_band":
        band = rag.get("amber_band") or 0
        sentences = [f"At risk: {value} misses the target of {target}, but by no more than the amber band of {band:.0%} of the target "
                     f"(the worst value still rated amber is {fmt(rag.get('amber_threshold'))})."]
    elif reason == "on_trajectory_below_target":
        sentences = [f"At risk: {value} misses the target of {target} but meets the agreed trajectory of {trajectory} for the period."]
    elif reason == "fails_target":
        sentences = [f"Off target: {value} is worse than the target of {target} ({polarity})"
                     + (f" and worse than the agreed trajectory of {trajectory}." if rag.get("trajectory") is not None else ".")]
    elif reason == "no_target":
        sentences = ["Not rated: the indicator has no target in force."]
    elif reason == "neutral_polarity":
        sentences = ["Not rated: neither direction is better for this indicator, so it has no rating against a target."]
    else:
        sentences = ["Not rated: there is no value for the latest period."]
    return Explanation("Rating against target", tuple(sentences))


def _variation(spc: dict[str, Any], periods: PeriodIndex) -> Explanation | None:
    variation = spc.get("variation") or {}
    if not variation:
        return None
    verdict = variation.get("verdict", "none")
    from_point = variation.get("from_point")
    points = spc.get("points") or []
    parameters = (spc.get("rule_set") or {}).get("parameters") or {}
    point = points[from_point] if isinstance(from_point, int) and 0 <= from_point < len(points) else {}
    sentences = []
    if verdict == "none" or not point:
        sentences.append(f"{VARIATION_WORDS.get(verdict, verdict)}: {variation.get('reason', 'no observed values')}.")
    elif verdict == "common_cause":
        sentences.append(f"Common cause variation: no special-cause rule fired at the latest point ({periods.label(from_point)}).")
    else:
        sentences.append(
            f"{VARIATION_WORDS.get(verdict, verdict)}: the latest point ({periods.label(from_point)}) "
            f"{_latest_point_phrase(point.get('deciding_rule', 'none'), point.get('direction', 0), parameters)}."
        )
    fired = spc.get("rules_fired") or {}
    for rule, indexes in fired.items():
        if indexes:
            sentences.append(f"{RULE_NAMES.get(rule, rule)} ({_rule_description(rule, parameters)}): {len(indexes)} "
                             f"{'point' if len(indexes) == 1 else 'points'} ({periods.ranges(indexes)}).")
    if not any(fired.values()):
        sentences.append("No special-cause rule fired at any point of the series.")
    return Explanation("Variation", tuple(sentences))


def _latest_point_phrase(rule: str, direction: int, parameters: dict[str, Any]) -> str:
    high = direction >= 0
    if rule == "astronomical":
        return "is above the upper process limit" if high else "is below the lower process limit"
    if rule == "trend":
        return (f"is part of a run of {parameters.get('trend_length', 7)} or more points each "
                f"{'higher' if high else 'lower'} than the one before (a {'rising' if high else 'falling'} trend)")
    if rule == "two_in_three":
        return f"is one of two out of three points close to the {'upper' if high else 'lower'} process limit"
    if rule == "shift":
        return f"is part of a run of {parameters.get('run_length', 7)} or more points {'above' if high else 'below'} the mean (a shift)"
    return "shows a special cause"


def _rule_description(rule: str, parameters: dict[str, Any]) -> str:
    if rule == "trend":
        return f"{parameters.get('trend_length', 7)} or more points in a row each rising or each falling"
    if rule == "shift":
        return f"{parameters.get('run_length', 7)} or more points in a row on one side of the mean"
    if rule == "two_in_three":
        zone = "beyond two sigma" if parameters.get("two_in_three_counts_beyond_limits") else "between two and three sigma"
        return f"two of three points in a row {zone} from the mean, on the same side"
    return RULE_WORDS.get(rule, rule)


def _limits(spc: dict[str, Any], periods: PeriodIndex, fmt: Formatter) -> Explanation | None:
    segments = spc.get("segments") or []
    if not segments:
        return None
    sentences = []
    for number, segment in enumerate(segments):
        span = f"{periods.label(segment.get('first_period'))} to {periods.label(segment.get('last_period'))}"
        if not segment.get("limits_shown"):
            sentences.append(f"{span}: no process limits (too few points, or no moving range).")
            continue
        sentence = (
            f"{span}: mean {fmt(segment.get('mean'))}, process limits {fmt(segment.get('lower_limit'))} to "
            f"{fmt(segment.get('upper_limit'))} (mean ± 2.66 × the mean moving range of {fmt(segment.get('mean_moving_range'))}), "
            f"from {segment.get('baseline_points', 0)} baseline points."
        )
        if segment.get("limits_are_trial"):
            sentence += " These are trial limits: the baseline is shorter than recommended."
        excluded = segment.get("excluded_moving_ranges_at") or []
        if excluded:
            sentence += (f" {len(excluded)} unusually large moving {'range was' if len(excluded) == 1 else 'ranges were'} "
                         f"screened out ({periods.ranges(excluded)}).")
        if number > 0:
            sentence = "Rebased — " + sentence
        sentences.append(sentence)
    return Explanation("Process limits", tuple(sentences))


def _assurance(spc: dict[str, Any], fmt: Formatter) -> Explanation | None:
    assurance = spc.get("assurance") or {}
    if not assurance:
        return None
    verdict = assurance.get("verdict", "none")
    target, lower, upper = fmt(assurance.get("target")), fmt(assurance.get("lower_limit")), fmt(assurance.get("upper_limit"))
    polarity = spc.get("polarity", 0)
    if verdict == "consistently_pass":
        limit = f"below the lower process limit ({lower})" if polarity > 0 else f"above the upper process limit ({upper})"
        sentence = f"Consistently passing: the target {target} is {limit}, so the process will meet it unless the process changes."
    elif verdict == "consistently_fail":
        limit = f"above the upper process limit ({upper})" if polarity > 0 else f"below the lower process limit ({lower})"
        sentence = f"Consistently failing: the target {target} is {limit}, so the process will not meet it without a change to the process."
    elif verdict == "hit_and_miss":
        sentence = (f"Hit and miss: the target {target} lies between the process limits ({lower} to {upper}), so it will be met "
                    "in some periods and missed in others.")
    else:
        sentence = f"{ASSURANCE_WORDS['none']}: {assurance.get('reason', 'no target')}."
    equality = "counts as passing or failing" if assurance.get("limit_equality_counts") else "counts as hit and miss"
    return Explanation("Assurance", (sentence, f"A target exactly on a process limit {equality}."))


def _under_target(under: dict[str, Any] | None, periods: PeriodIndex) -> Explanation | None:
    if not under:
        return None
    count = int(under.get("periods_under_target") or 0)
    if count == 0:
        sentence = "The latest period is not under target, so there is no run of periods under target."
    else:
        sentence = (f"{count_of_periods(count, periods.frequency).capitalize()} in a row under target, "
                    f"from {periods.label(under.get('run_starts_at'))} to the latest period.")
    return Explanation("Periods under target", (sentence,))


def _forecast(forecast: dict[str, Any] | None, periods: PeriodIndex, fmt: Formatter) -> Explanation | None:
    if not forecast:
        return None
    method = forecast.get("method", "none")
    projected = [f"{periods.label(p)} {fmt(v)}" for p, v in zip(forecast.get("projected_periods") or [], forecast.get("projected_values") or [])]
    horizon = len(projected)
    if method == "trajectory":
        sentence = f"The agreed trajectory covers the next {horizon} periods: {', '.join(projected)}."
    elif method == "linear_trend":
        slope = forecast.get("slope_per_period") or 0.0
        sentence = (f"A straight line fitted to the last {forecast.get('trend_points')} values ({'rising' if slope >= 0 else 'falling'} "
                    f"by {fmt(abs(slope))} a period) projects {', '.join(projected)}.")
    elif method == "process_mean":
        sentence = f"Too few recent values for a trend; the process mean {fmt(forecast.get('process_mean'))} is projected."
    else:
        return Explanation("Forecast", ("No forecast: the indicator has no target, a neutral polarity or no data.",))
    if forecast.get("failure_predicted"):
        first = forecast.get("first_failing_period")
        verdict = (f"Failure is predicted within the next {horizon} periods"
                   + (f", first in {periods.label(first)}." if first is not None else
                      f": the process mean {fmt(forecast.get('process_mean'))} fails the target {fmt(forecast.get('target'))}."))
    else:
        verdict = f"No failure is predicted within the next {horizon} periods against the target {fmt(forecast.get('target'))}."
    return Explanation("Forecast", (sentence, verdict))


def _plain(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "none"
    return str(value).replace("_", " ")
