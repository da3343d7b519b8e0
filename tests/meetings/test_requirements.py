"""Which forum meets how often about what, from the real tenant files and constructed facts (pure)."""
from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest

from server.escalation_store.division import UnitIndicatorRating, months_sustained, rate_division
from server.meetings.requirements import (
    OpenEscalation, Subject, derived_requirements, escalation_requirements, fixed_requirements, merge_requirements,
    not_covered_by_regular_sittings,
)
from server.tenants.parse import parse_tenant_file
from server.tenants.spec import TenantFile

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
AT = dt.datetime(2027, 4, 1, tzinfo=dt.UTC)
# The criteria as tenants/ulht.yaml declares them (assessment.unit_criteria).
ULHT_DOMAINS = {"financial_plan_adhered": {"finance"}, "key_quality_indicators_met": {"quality"}, "key_performance_indicators_met": {"operational"}}


@cache
def tenant(file_name: str) -> TenantFile:
    return parse_tenant_file(TENANTS / file_name)


def rating(code: str, domain: str, rag: str, *, key: bool = True, under: int = 0) -> UnitIndicatorRating:
    return UnitIndicatorRating(code, code, domain, key, rag, under)


# The division's latest indicators, one per ULHT 5.2 criterion plus a workforce and a non-key one.
ALL_GREEN = [rating("IEVAR", "finance", "green"), rating("CDIFF", "quality", "green"), rating("AE4H", "operational", "green"),
             rating("SICK", "workforce", "green"), rating("FFTIP", "quality", "green", key=False)]


@pytest.mark.parametrize(("changes", "failed", "key_met", "all_met"), [
    ({}, 0, True, True),
    ({"FFTIP": "red"}, 0, True, False),            # a non-key indicator: no criterion fails, not "all met"
    ({"SICK": "red"}, 0, False, False),            # workforce is rated but is not one of the four criteria
    ({"IEVAR": "amber"}, 1, False, False),         # amber is on the failing side of target: a miss
    ({"IEVAR": "red", "AE4H": "red"}, 2, False, False),
    ({"IEVAR": "red", "AE4H": "red", "CDIFF": "red"}, 3, False, False),
    ({"IEVAR": "none"}, 0, True, True),            # no target: not counted either way
])
def test_division_rating_maps_domains_to_the_four_criteria(changes, failed, key_met, all_met):
    ratings = [rating(r.indicator_code, r.domain, changes.get(r.indicator_code, r.rag), key=r.is_key) for r in ALL_GREEN]
    result = rate_division(ratings, ULHT_DOMAINS)
    assert (result.failed_criteria, result.key_indicators_met, result.all_indicators_met) == (failed, key_met, all_met)
    assert "policies_adhered" not in result.facts()  # a judgement (issue 11): unknown until recorded, and no failure


def test_policies_recorded_as_not_adhered_count_as_a_failed_criterion():
    assert rate_division(ALL_GREEN, ULHT_DOMAINS, policies_adhered=False).failed_criteria == 1


def test_a_criterion_the_tenant_does_not_declare_is_unknown_not_met():
    facts = rate_division(ALL_GREEN, {"key_quality_indicators_met": {"quality"}, "key_performance_indicators_met": {"operational"}}).facts()
    assert "financial_plan_adhered" not in facts
    assert facts["key_quality_indicators_met"] is True


def test_months_sustained_counts_back_from_the_latest_period():
    red = [rating("IEVAR", "finance", "red")]
    history = {dt.date(2027, 1, 1): red, dt.date(2027, 2, 1): ALL_GREEN, dt.date(2027, 3, 1): ALL_GREEN}
    assert months_sustained(history, ULHT_DOMAINS) == 2
    assert months_sustained({**history, dt.date(2027, 4, 1): red}, ULHT_DOMAINS) == 0


def division_facts(failed: int, **extra: object) -> dict[str, object]:
    base = {"failed_criteria": failed, "all_indicators_met": failed == 0, "key_indicators_met": failed == 0,
            "critical_failure": False, "current_level": 0, "months_sustained": 0 if failed else 6}
    return {**base, **extra}


# ULHT 5.2 matrix, as the tenant file's cadence rules read it (first matching rule wins).
ULHT_PRM = [
    (division_facts(3, critical_failure=True),                 "weekly",      "prm-weekly-severe"),     # > 2 failed, severe
    (division_facts(4, risk_rating="high"),                    "weekly",      "prm-weekly-severe"),
    (division_facts(3),                                        "monthly",     "prm-monthly-more-than-two"),  # > 2, not severe
    (division_facts(2),                                        "monthly",     "prm-monthly-one-or-two"),
    (division_facts(1),                                        "monthly",     "prm-monthly-one-or-two"),
    (division_facts(0, current_level=1, months_sustained=2),   "monthly",     "prm-monthly-until-sustained"),
    (division_facts(0),                                        "six-monthly", "prm-six-monthly"),       # all met incl. non-key
    (division_facts(0, all_indicators_met=False),              "quarterly",   "prm-quarterly"),         # all key met
]


@pytest.mark.parametrize(("facts", "frequency", "rule"), ULHT_PRM)
def test_ulht_division_rating_sets_prm_frequency(facts, frequency, rule):
    [requirement] = derived_requirements(tenant("ulht.yaml"), "unit", [Subject("unit:RWD-MED", "Medicine", facts)], evaluated_at=AT)
    assert (requirement.forum, requirement.subject_key, requirement.frequency) == ("PRM", "unit:RWD-MED", frequency)
    assert requirement.reason["rule"] == rule
    assert requirement.reason["facts"]["failed_criteria"] == facts["failed_criteria"]  # why is stored with the meeting


def test_a_division_with_no_known_facts_keeps_the_forums_own_frequency_and_says_why():
    [requirement] = derived_requirements(tenant("ulht.yaml"), "unit", [Subject("unit:RWD-FH", "Family Health", {})], evaluated_at=AT)
    assert requirement.frequency == "monthly"
    assert requirement.reason["basis"] == "forum_frequency_no_rule_held"
    assert "failed_criteria" in requirement.reason["missing_facts"]


def contract(provider: str) -> Subject:
    spec = next(c for c in tenant("whssc.yaml").contracts if c.provider == provider)
    return Subject(f"contract:{provider}", spec.provider_name or provider, {
        "contract_value": spec.annual_value, "strategically_important": spec.strategically_important, "provider_code": provider})


@pytest.mark.parametrize(("provider", "expected"), [
    ("7A4", {"EXEC2EXEC": "annual", "SLA": "bi-monthly"}),      # 6.1: 245m
    ("RET", {"EXEC2EXEC": "annual", "SLA": "bi-monthly"}),      # 6.1: 9.5m but strategically important
    ("REM", {"SLA": "twice-yearly"}),                            # 6.2: 28m
    ("RGM", {"SLA": "annual"}),                                  # 6.3: 3m
])
def test_whssc_contract_tier_sets_cadence_per_contract(provider, expected):
    requirements = derived_requirements(tenant("whssc.yaml"), "contract", [contract(provider)], evaluated_at=AT)
    assert {r.forum: r.frequency for r in requirements} == expected
    assert all(r.reason["basis"] == "cadence_rule" for r in requirements)
    assert all(r.subject_key == f"contract:{provider}" for r in requirements)


def test_a_tier_two_contract_has_no_exec_to_exec_meeting():
    # WHSSC 6.2: a 10m-40m contract gets twice-yearly SLA meetings and nothing else by rule; the
    # exec-to-exec rule is definitely false, so the forum's own annual default does not stand in.
    requirements = derived_requirements(tenant("whssc.yaml"), "contract", [contract("REM")], evaluated_at=AT)
    assert [(r.forum, r.frequency) for r in requirements] == [("SLA", "twice-yearly")]


def escalation(level: int, ladder: str = "whssc-service-escalation", subject: str = "contract:REM") -> OpenEscalation:
    return OpenEscalation(1, ladder, subject, "Liverpool", level, f"level {level}", "ESCMEET", 1, {})


@pytest.mark.parametrize(("level", "frequency"), [(1, "quarterly"), (2, "monthly"), (3, "monthly")])
def test_whssc_services_in_escalation_add_meetings_at_the_levels_cadence(level, frequency):
    [requirement] = escalation_requirements(tenant("whssc.yaml"), [escalation(level)], evaluated_at=AT)
    assert (requirement.forum, requirement.subject_key, requirement.frequency) == ("ESCMEET", "contract:REM", frequency)
    assert requirement.reason["basis"] == "escalation_rule"


def test_without_escalation_rules_the_levels_review_frequency_applies():
    # ULHT level 5 (special measures) is reviewed weekly by the Executive Team (ulht.yaml).
    special = OpenEscalation(9, "ulht-divisional", "unit:RWD-SURG", "Surgery", 5, "Special measures", "EXEC", 0, {})
    [requirement] = escalation_requirements(tenant("ulht.yaml"), [special], evaluated_at=AT)
    assert (requirement.forum, requirement.frequency, requirement.reason["basis"]) == ("EXEC", "weekly", "escalation_level")


def test_the_more_frequent_cadence_wins_for_the_same_forum_and_subject():
    ulht = tenant("ulht.yaml")
    derived = derived_requirements(ulht, "unit", [Subject("unit:RWD-MED", "Medicine", division_facts(0))], evaluated_at=AT)
    failing = OpenEscalation(3, "ulht-divisional", "unit:RWD-MED", "Medicine", 1, "Failing", "PRM", 0, {})
    [merged] = merge_requirements([*derived, *escalation_requirements(ulht, [failing], evaluated_at=AT)])
    assert merged.frequency == "monthly"
    assert merged.reason["also_required_by"][0]["frequency"] == "six-monthly"


def test_forums_without_cadence_rules_meet_at_their_own_frequency():
    fixed = {r.forum: r.frequency for r in fixed_requirements(tenant("thgpcg.yaml"))}
    assert fixed["OPG"] == "monthly"  # THGPCG appendix 1, 5
    assert "PRM" not in {r.forum for r in fixed_requirements(tenant("ulht.yaml"))}  # set per division by rules


def test_an_escalation_reviewed_at_a_forums_regular_sitting_adds_no_meetings():
    thgpcg = tenant("thgpcg.yaml")
    level = next(lvl for ladder in thgpcg.escalation.ladders for lvl in ladder.levels if lvl.review_frequency == "monthly")
    ladder = next(ladder for ladder in thgpcg.escalation.ladders if level in ladder.levels)
    exception = OpenEscalation(4, ladder.code, "indicator:X", "An indicator", level.level, level.name, level.forum, 0, {})
    escalated = escalation_requirements(thgpcg, [exception], evaluated_at=AT)
    assert [(r.forum, r.frequency) for r in escalated] == [("OPG", "monthly")]
    # THGPCG 13: exception plans are monitored at the monthly OPG, not at extra sittings.
    assert not_covered_by_regular_sittings(escalated, fixed_requirements(thgpcg)) == []
    # A forum meeting less often than the level asks does add the subject's own reviews.
    board = [r for r in fixed_requirements(thgpcg) if r.forum != "OPG"]
    assert not_covered_by_regular_sittings(escalated, board) == escalated
