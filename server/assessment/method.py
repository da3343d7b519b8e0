"""Which SPC method and settings produced a verdict, in words, for the evidence (DOMAIN 5)."""
from __future__ import annotations

import functools

from collections.abc import Callable
from typing import Any

from server.assessment.params import SpcParameters

METHOD_NAMES = {
    "nhsrplotthedots": "NHSRplotthedots 0.2.x (the NHS-R R package)",
    "mdc_tools": "the Making Data Count Excel tools (NHSRplotthedots with the tools' documented differences)",
}


def _switch(when_true: str, when_false: str) -> Callable[[Any], str]:
    return lambda value: when_true if value else when_false


def _choice(words: dict[str, str]) -> Callable[[Any], str]:
    return lambda value: words[value]


SETTING_WORDS: dict[str, Callable[[Any], str]] = {
    "run_length": lambda value: f"a shift is {value} points in a row on one side of the mean",
    "trend_length": lambda value: f"a trend is {value} points in a row each rising or each falling",
    "screen_moving_ranges": _switch("unusually large moving ranges are screened out of the limits",
                                    "moving ranges are not screened"),
    "two_in_three": _switch("the two-in-three rule applies", "the two-in-three rule is off"),
    "two_in_three_counts_beyond_limits": _switch("a point beyond a process limit counts towards two-in-three",
                                                 "only points between two and three sigma count towards two-in-three"),
    "fix_after_points": lambda value: "limits use every point" if value is None else f"limits are fixed after {value} points",
    "minimum_points": lambda value: f"fewer than {value} points make a short baseline",
    "points_counted": _choice({"rows": "periods are counted as points even when missing",
                               "observed": "only periods with a value are counted as points"}),
    "below_minimum": _choice({"trial_limits": "a short baseline gives trial limits",
                              "not_shown": "a short baseline gives no limits and no icons"}),
    "constant_baseline": _choice({"no_limits": "a baseline whose moving ranges are all zero has no limits",
                                  "limits_on_mean": "a baseline whose moving ranges are all zero has limits on the mean"}),
    "without_limits": _choice({"runs_only": "without limits, the shift and trend rules still apply and assurance is hit and miss",
                               "not_assessed": "without limits, there are no verdicts"}),
    "conflicting_signals": _choice({"rule_precedence": "a point flagged both ways follows the first rule in order of precedence",
                                    "improvement_wins": "a point flagged both ways shows improvement"}),
    "trend_direction": _choice({"right_side": "a trend point takes the direction of the step to the next point when that "
                                              "point is in a trend too",
                                "own_trend": "a trend point takes the direction of its own trend"}),
    "variation_from": _choice({"last_row": "variation is read at the last period, a missing one being common cause",
                               "latest_observed": "variation is read at the latest period with a value"}),
    "assurance_inclusive_limits": _switch("a target exactly on a process limit counts as consistent",
                                          "a target exactly on a process limit is hit and miss"),
}


@functools.lru_cache(maxsize=64)
def describe_method(parameters: SpcParameters) -> dict[str, Any]:
    """The method, the settings that depart from it, and one sentence saying both (made once per
    parameters: every series of a batch shares them)."""
    departures = parameters.departures()
    sentence = f"Method: {METHOD_NAMES[parameters.method]}"
    if departures:
        sentence += ", except that " + "; ".join(SETTING_WORDS[name](value) for name, value in departures.items())
    return {
        "name": parameters.method,
        "departures": departures,
        "summary": sentence + ".",
        "settings": {name: SETTING_WORDS[name](getattr(parameters, name)) for name in SETTING_WORDS},
    }
