"""A data pack (server/meetings/pack.py, frozen as JSON when issued) read as a board paper: each
indicator's rating as a sentence, the Making Data Count summary matrix, escalations in words and
why the meeting sits when it does, without the rule traces the escalation engine keeps for audit.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.reporting.board import BoardIndicator, board_indicator
from server.reporting.indicator import SeriesPoint
from server.reporting.scorecard import IndicatorRef, ScorecardRow
from server.reporting.status import IndicatorStatus
from server.reporting.summary import SummaryMatrix, summary_matrix
from server.reporting.words import period_label

Formatter = Callable[[float | None, str], str]
# A pack stores the verdict, not the side of the signal: the side follows from verdict and polarity.
SIDES = {
    ("special_cause_improving", "higher_is_better"): 1, ("special_cause_improving", "lower_is_better"): -1,
    ("special_cause_concerning", "higher_is_better"): -1, ("special_cause_concerning", "lower_is_better"): 1,
}


@dataclass(frozen=True)
class PackIndicator:
    values: Mapping[str, Any]
    status: IndicatorStatus | None
    sentence: str
    card: BoardIndicator | None = None  # the IPR's card, drawn from the series frozen with the pack
    note: str = ""  # what the rating sentence does not say: a failure forecast while on target

    @property
    def commentary_when(self) -> str:
        """'3 December 2026': when the frozen commentary was written."""
        written = (self.values.get("commentary") or {}).get("written_at")
        return f"{dt.datetime.fromisoformat(written):%-d %B %Y}" if written else ""


@dataclass(frozen=True)
class PackDomain:
    name: str
    indicators: tuple[PackIndicator, ...]


@dataclass(frozen=True)
class PackPaper:
    indicators: tuple[PackIndicator, ...]
    matrix: SummaryMatrix
    escalations: tuple[tuple[Mapping[str, Any], str], ...]

    @property
    def domains(self) -> tuple[PackDomain, ...]:
        """The indicators by scorecard domain, in the pack's order (domain position, then indicator)."""
        grouped: dict[str, list[PackIndicator]] = {}
        for indicator in self.indicators:
            grouped.setdefault(indicator.values.get("domain") or "Indicators", []).append(indicator)
        return tuple(PackDomain(name, tuple(items)) for name, items in grouped.items())


def pack_paper(pack: Mapping[str, Any], fmt: Formatter) -> PackPaper:
    indicators = tuple(_indicator(values, fmt) for values in pack.get("indicators", ()))
    matrix = summary_matrix(
        (i.values["name"], None, i.status.variation, i.status.assurance, i.status.variation_direction)
        for i in indicators if i.status is not None
    )
    by_code = {i.values["code"]: i for i in indicators}
    escalations = tuple((e, escalation_words(e, pack, by_code)) for e in pack.get("escalations", ()))
    return PackPaper(indicators, matrix, escalations)


def _indicator(values: Mapping[str, Any], fmt: Formatter) -> PackIndicator:
    unit = values.get("unit") or ""
    if not values.get("period"):
        return PackIndicator(values, None, "No value reported yet.")
    period = dt.date.fromisoformat(values["period"])
    frequency = values.get("frequency") or "monthly"
    ref = IndicatorRef(0, values["code"], values["name"], unit, values.get("polarity") or "", frequency, bool(values.get("key")), None,
                       values.get("kitemark"), values.get("cohort"), values.get("cohort_name"))  # a pack issued before issue 15 has none
    points = frozen_points(values.get("series") or (), frequency)
    latest = points[-1] if points and points[-1].period == period else None
    direction = SIDES.get((values.get("variation"), values.get("polarity")))
    if direction is None and values.get("variation") == "special_cause_neutral" and latest is not None and latest.direction:
        direction = latest.direction  # a neutral verdict's side is the latest point's, which the frozen series keeps
    status = IndicatorStatus(
        period, values.get("value"), values.get("target"), values.get("trajectory"), values.get("rag") or "none",
        values.get("variation") or "none", direction, values.get("assurance") or "none",
        int(values.get("periods_under_target") or 0), bool(values.get("failure_forecast")), False, frequency,
    )
    if not points:  # a pack issued before series were frozen (schema 1): the latest value alone
        points = (SeriesPoint(index=None, period=period, label=period_label(period, frequency), value=status.value, target=status.target,
                              trajectory=status.trajectory, rag=status.rag, masked_failure=False),)
    card = board_indicator(ScorecardRow(ref, status, ()), points, lambda value: fmt(value, unit))
    note = "Failure is forecast within the next quarter." if status.failure_forecast and status.rag == "green" else ""
    sentence = f"{card.rating_sentence} {note}".strip()
    return PackIndicator(values, status, sentence, card if values.get("series") else None, note)


def frozen_points(series: Sequence[Mapping[str, Any]], frequency: str) -> tuple[SeriesPoint, ...]:
    """The chart's points as the pack froze them (server/meetings/pack.py), oldest first."""
    points = []
    for point in series:
        period = dt.date.fromisoformat(point["period"])
        points.append(SeriesPoint(
            index=point.get("index"), period=period, label=period_label(period, frequency), value=point.get("value"), target=point.get("target"),
            trajectory=point.get("trajectory"), rag=point.get("rag") or "none", masked_failure=False, mean=point.get("mean"),
            lower_limit=point.get("lower_limit"), upper_limit=point.get("upper_limit"), segment=int(point.get("segment") or 0),
            deciding_rule=point.get("deciding_rule") or "none", point_type=point.get("point_type") or "not_assessed",
            direction=int(point.get("direction") or 0),
        ))
    return tuple(points)


def escalation_words(escalation: Mapping[str, Any], pack: Mapping[str, Any], indicators: Mapping[str, PackIndicator]) -> str:
    """Why an escalation is open, in words: since when, and the position behind it (its level is beside it)."""
    opened = dt.datetime.fromisoformat(escalation["opened_at"]).date() if escalation.get("opened_at") else None
    words = f"Open since {opened.day} {opened.strftime('%B %Y')}." if opened else "Open."
    kind, _, code = str(escalation.get("subject_key") or "").partition(":")
    if kind == "indicator" and code in indicators:
        return f"{words} {indicators[code].sentence}"
    rating = pack.get("rating")
    if kind == "unit" and rating:
        failed = [c for c in rating.get("criteria", ()) if not c.get("met")]
        if failed:
            names = sorted({name for c in failed for name in c.get("failing_indicators", ())})
            off = f" ({', '.join(names)} off target)" if names else ""
            return f"{words} {len(failed)} of {len(rating['criteria'])} criteria not met{off}."
    return words


def cadence_words(reason: Mapping[str, Any] | None, forum_name: str, frequency_words: Mapping[str, str]) -> str:
    """Why the meeting sits then: its terms of reference, or the cadence rule's own description."""
    if not reason:
        return "Scheduled by hand."
    if reason.get("basis") == "forum_frequency" and reason.get("frequency") in frequency_words:
        return f"{forum_name} meets {frequency_words[reason['frequency']]} under its terms of reference."
    return str(reason.get("explanation") or "Scheduled by hand.")


