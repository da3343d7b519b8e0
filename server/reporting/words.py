"""The words people read for stored codes: verdicts, ratings, tiers and periods.

Making Data Count verdicts are shown as icons too, but never by colour alone (WCAG 1.4.1): each
code has a sentence for screen readers and tables, and a short label for dense cells.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

VARIATION_WORDS = {
    "common_cause": "Common cause variation",
    "special_cause_improving": "Special cause improving",
    "special_cause_concerning": "Special cause concerning",
    "special_cause_neutral": "Special cause, neither improving nor concerning",
    "none": "No variation verdict",
}
ASSURANCE_WORDS = {
    "consistently_pass": "Consistently passing the target",
    "consistently_fail": "Consistently failing the target",
    "hit_and_miss": "Hit and miss: the target lies within the process limits",
    "none": "No assurance verdict",
}
RAG_WORDS = {"red": "Off target", "amber": "At risk", "green": "On target", "none": "No target"}
DIRECTION_WORDS = {1: "high", -1: "low"}
RULE_WORDS = {
    "astronomical": "point beyond a process limit",
    "trend": "trend (a run of points each rising or each falling)",
    "two_in_three": "two of three points close to a process limit",
    "shift": "shift (a run of points on one side of the mean)",
}
POINT_TYPE_WORDS = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause improving",
    "special_cause_concern": "Special cause concerning",
    "special_cause_neutral": "Special cause (neutral)",
    "missing": "Missing",
    "not_assessed": "Not assessed (no limits)",
}
RULE_NAMES = {"astronomical": "Beyond limit", "trend": "Trend", "two_in_three": "Two in three", "shift": "Shift"}
SPECTRUM_WORDS = {
    "unacceptable": "Unacceptable",
    "requires_improvement": "Requires improvement",
    "good": "Good",
    "outstanding": "Outstanding",
}
FREQUENCY_PERIODS = {"monthly": ("month", "months"), "weekly": ("week", "weeks"), "quarterly": ("quarter", "quarters")}


def variation_sentence(variation: str, direction: int | None) -> str:
    """E.g. 'Special cause concerning, high' — the text alternative of a variation icon."""
    words = VARIATION_WORDS.get(variation, VARIATION_WORDS["none"])
    if variation.startswith("special_cause") and direction in DIRECTION_WORDS:
        return f"{words}, {DIRECTION_WORDS[direction]}"
    return words


def tier_label(tier: str | None) -> str:
    """Tenant tier names are identifiers ('service_area'); people read 'Service area'."""
    if not tier:
        return ""
    text = tier.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=4096)  # a page labels every point of every sparkline: thousands of the same few months
def period_label(period: dt.date | None, frequency: str = "monthly") -> str:
    if period is None:
        return "No data"
    if frequency == "weekly":
        return f"w/c {period.day} {period.strftime('%b %Y')}"
    if frequency == "quarterly":
        return f"Q{(period.month - 1) // 3 + 1} {period.year}"
    return period.strftime("%b %Y")


def count_of_periods(count: int, frequency: str = "monthly") -> str:
    """'1 month', '3 months', '2 weeks'."""
    singular, plural = FREQUENCY_PERIODS.get(frequency, ("period", "periods"))
    return f"{count} {singular if count == 1 else plural}"
