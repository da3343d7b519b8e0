"""Every stored verdict explained in words, from the evidence the engine stored with it."""
from __future__ import annotations

import datetime as dt

import numpy as np

from server.assessment.forecast import forecast_failure
from server.assessment.params import SpcParameters
from server.assessment.rag import rate_against_target
from server.assessment.spc import compute_spc, rebase_mask
from server.assessment.underperformance import consecutive_periods_under_target
from server.reporting.explain import describe_rule_sets, explain_assessment
from server.reporting.periods import PeriodIndex
from server.web.templating import format_number


def evidence_for(values: list[float], target: float, polarity: int = 1, rebase_at: list[int] | None = None) -> dict:
    series = np.array([values], dtype=float)
    rebase = rebase_mask(1, len(values), {0: rebase_at}) if rebase_at else None
    spc = compute_spc(series, np.array([polarity]), np.array([target]), rebase=rebase, parameters=SpcParameters())
    rag = rate_against_target(series, np.array([[target]]), np.array([[polarity]]))
    under = consecutive_periods_under_target(series, np.array([target]), np.array([polarity]))
    forecast = forecast_failure(series, np.array([target]), np.array([polarity]), None, spc.limits.mean[:, -1])
    last = len(values) - 1
    return {"spc": spc.explain(0), "rag": rag.explain((0, last)), "under_target": under.explain(0), "forecast": forecast.explain(0)}


def periods(count: int) -> PeriodIndex:
    return PeriodIndex({i: dt.date(2024 + i // 12, i % 12 + 1, 1) for i in range(count)})


def percent(value: float | None) -> str:
    return format_number(value, "percent")


def sections(values, target, **kwargs):  # type: ignore[no-untyped-def]
    explained = explain_assessment(evidence_for(values, target, **kwargs), periods(len(values)), percent)
    return {section.heading: " ".join(section.sentences) for section in explained}


def test_a_process_that_cannot_meet_its_target_is_explained_as_consistently_failing():
    values = [0.60 + 0.01 * ((i * 7) % 5) for i in range(24)]
    words = sections(values, 0.95)
    assert words["Rating against target"].startswith("Off target: 61.0% is worse than the target of 95.0%")
    assert "Consistently failing: the target 95.0% is above the upper process limit" in words["Assurance"]
    assert "24 months in a row under target, from Jan 2024" in words["Periods under target"]
    assert "from 24 baseline points" in words["Process limits"]


def test_a_shift_is_named_with_its_rule_its_run_length_and_its_periods():
    values = [0.80 + 0.005 * (i % 3) for i in range(16)] + [0.90 + 0.005 * (i % 3) for i in range(8)]
    words = sections(values, 0.85)
    assert words["Variation"].startswith("Special cause improving: the latest point (Dec 2025) is above the upper process limit.")
    assert "Shift (7 or more points in a row on one side of the mean): 24 points (Jan 2024 to Dec 2025)." in words["Variation"]


def test_a_rebased_series_explains_each_segments_limits():
    values = [0.70 + 0.01 * (i % 3) for i in range(12)] + [0.85 + 0.01 * (i % 3) for i in range(12)]
    words = sections(values, 0.80, rebase_at=[12])
    assert "Jan 2024 to Dec 2024: mean" in words["Process limits"]
    assert "Rebased — Jan 2025 to Dec 2025: mean" in words["Process limits"]


def test_the_forecast_names_its_method_and_the_first_failing_period():
    values = [0.90 - 0.01 * i for i in range(12)]
    words = sections(values, 0.80)
    assert "A straight line fitted to the last 12 values (falling by 1.0% a period) projects Jan 2025" in words["Forecast"]
    assert "Failure is predicted within the next 3 periods, first in" in words["Forecast"]


def test_parameters_of_every_rule_set_are_listed():
    described = describe_rule_sets(evidence_for([1.0, 2.0, 3.0, 2.0, 1.0], 2.0))
    assert described is not None and described.title.startswith("accord-mdc-xmr version")
    headings = [heading for heading, _ in described.groups]
    assert headings == ["Statistical process control", "Rating against target", "Periods under target", "Forecast"]
    spc_parameters = {p.name: p.value for p in described.groups[0][1]}
    assert spc_parameters["run length"] == "7" and spc_parameters["screen moving ranges"] == "yes"


def test_no_evidence_says_there_is_nothing_yet():
    [only] = explain_assessment({}, periods(0), percent)
    assert only.heading == "No assessment yet"


def test_the_explanation_names_the_spc_method_and_a_recalculation_candidate_in_months():
    from server.reporting.explain import explain_assessment

    evidence = {"spc": {"method": {"summary": "NHSRplotthedots 0.2 method, as the R package does it."},
                        "recalculation": {"candidate": True, "from_period": 3, "side": "below", "points": 9}}}
    known = PeriodIndex({0: dt.date(2025, 1, 1)})
    sections = {section.heading: section for section in explain_assessment(evidence, known, lambda value: str(value))}
    assert sections["Method"].sentences == (
        "NHSRplotthedots 0.2 method, as the R package does it.",
        "A shift below the mean since Apr 2025 is still going. If it has a known cause, the limits may be recalculated from Apr 2025:"
        " a decision recorded on this page, never automatic.",
    )
