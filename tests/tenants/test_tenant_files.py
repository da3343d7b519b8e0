"""Every seed tenant file loads clean; broken files are refused with the file and the path named."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.escalation.validation import validate_tenant_conditions
from server.tenants.parse import TenantFileError, parse_tenant_directory, parse_tenant_file, parse_tenant_text

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
SEED_FILES = ["stw.yaml", "stw-icb.yaml", "sath.yaml", "rjah.yaml", "scht.yaml", "ulht.yaml", "thgpcg.yaml",
              "sheffield-ccg.yaml", "whssc.yaml"]


@pytest.mark.parametrize("file_name", SEED_FILES)
def test_seed_tenant_file_parses_and_its_conditions_name_known_facts(file_name: str) -> None:
    tenant = parse_tenant_file(TENANTS / file_name)
    assert validate_tenant_conditions(tenant, file_name) == []
    assert 8 <= len(tenant.indicators) <= 16  # WHSSC: 15 measures and the value of activity under each contract (issue 15)
    assert tenant.escalation.ladders, "every seed tenant declares a ladder"


def test_tenant_directory_loads_all_nine_organisations() -> None:
    tenants = parse_tenant_directory(TENANTS)
    assert set(tenants) == {"STW", "QOC", "RXW", "RL1", "R1D", "RWD", "NL4", "03N", "WHSSC"}


def test_system_members_are_tenants_and_the_icb_contracts_with_the_trusts() -> None:
    tenants = parse_tenant_directory(TENANTS)
    members = tenants["STW"].system.members  # type: ignore[union-attr]
    assert set(members) <= set(tenants)
    assert {contract.provider for contract in tenants["QOC"].contracts} == {"RXW", "RL1", "R1D"}


@pytest.mark.parametrize("provider", ["RXW", "RL1", "R1D"])
def test_contracted_trusts_share_their_constitutional_standards_as_contractual(provider: str) -> None:
    tenant = parse_tenant_directory(TENANTS)[provider]
    assert sum(indicator.source == "contractual" for indicator in tenant.indicators) >= 4


def test_rate_indicators_carry_a_demo_denominator() -> None:
    """Except a system's indicators computed from its members' figures: nothing is drawn for them."""
    for tenant in parse_tenant_directory(TENANTS).values():
        for indicator in tenant.indicators:
            if indicator.rollup == "rate" and indicator.from_members is None:
                assert indicator.demo and indicator.demo.denominator, f"{tenant.organisation.code} {indicator.code}"


def test_thgpcg_operational_performance_group_follows_its_terms_of_reference() -> None:
    forums = {forum.code: forum for forum in parse_tenant_file(TENANTS / "thgpcg.yaml").forums}
    assert (forums["OPG"].quorum, forums["OPG"].attendance_threshold, forums["OPG"].frequency) == (6, 0.75, "monthly")
    assert forums["OPG"].chair == "Chief Executive Officer"


def test_thgpcg_sets_stretch_targets_beyond_national_ones() -> None:
    tenant = parse_tenant_file(TENANTS / "thgpcg.yaml")
    stretched = [i for i in tenant.indicators if {"national", "stretch"} <= {t.kind for t in i.targets}]
    assert stretched and all(
        max(t.value for t in i.targets if t.kind == "stretch") > max(t.value for t in i.targets if t.kind == "national")
        for i in stretched
    )


def test_ulht_prm_packs_go_to_the_division_a_week_and_invitees_two_days_before() -> None:
    forums = {forum.code: forum for forum in parse_tenant_file(TENANTS / "ulht.yaml").forums}
    assert forums["PRM"].pack_deadlines_days == {"division": 7, "invitees": 2}


def test_ulht_rolls_up_team_to_service_to_division_to_trust() -> None:
    tenant = parse_tenant_file(TENANTS / "ulht.yaml")
    assert tenant.tiers == ["trust", "division", "service", "team"]
    divisions = [unit.name for unit in tenant.units[0].children]
    assert divisions == ["Medicine", "Surgery", "Family Health", "Clinical Support Services"]


def test_whssc_measures_cover_four_domains_and_four_cohorts() -> None:
    tenant = parse_tenant_file(TENANTS / "whssc.yaml")
    assert {i.domain for i in tenant.indicators} == {"quantitative", "process", "outcome", "qualitative"}
    assert {i.cohort for i in tenant.indicators} == {"referred", "undergoing_treatment", "referred_not_treated", "diverted"}


def test_whssc_contracts_span_the_three_value_tiers() -> None:
    values = [contract.annual_value for contract in parse_tenant_file(TENANTS / "whssc.yaml").contracts]
    assert any(v > 40_000_000 for v in values) and any(10_000_000 <= v <= 40_000_000 for v in values)
    assert any(v < 10_000_000 for v in values)


def test_stw_reporting_schedule_matches_the_sapf_table() -> None:
    schedule = {report.code: report.frequency for report in parse_tenant_file(TENANTS / "stw.yaml").reporting_schedule}
    assert schedule == {"IPR": "bi-monthly", "QPC": "monthly", "DG-SYSTEM": "monthly", "DG-PROVIDER": "monthly", "TIER1": "weekly"}


# ---------------------------------------------------------------------------------------------
# Broken files: each names the file and the path of the mistake.
# ---------------------------------------------------------------------------------------------
VALID = """\
organisation: {code: TEST, name: Test Trust, kind: trust}
tiers: [trust, division]
units:
  - code: TEST
    name: Test Trust
    tier: trust
    children:
      - {code: TEST-MED, name: Medicine, tier: division}
domains:
  - {code: operational, name: Operational performance}
indicators:
  - code: AE4H
    name: A&E within 4 hours
    unit: percent
    polarity: higher_is_better
    rollup: rate
    domain: operational
    source: contractual
forums:
  - {code: PRM, name: Performance review, tier: management_delivery, chair: CEO, frequency: monthly}
escalation:
  ladders:
    - code: ladder
      name: Ladder
      applies_to: indicator
      levels:
        - {level: 0, code: performing, name: Performing}
        - level: 1
          code: monitor
          name: Monitor
          forum: PRM
          when:
            all:
              - {fact: months_under_target, op: ">=", value: 1}
              - {fact: risk_rating, value: high}
"""

BROKEN = [
    # (case, text to find, replacement, expected path, words in the message)
    ("unknown key", "kind: trust}", "kind: trust, colour: blue}", "organisation.colour", "Extra inputs"),
    ("wrong polarity", "polarity: higher_is_better", "polarity: up", "indicators[0].polarity", "higher_is_better"),
    ("unit tier not declared", "tier: division}", "tier: directorate}", "units[0].children[0].tier", "not one of tiers"),
    ("indicator with unknown domain", "domain: operational\n", "domain: finance\n", "indicators[0].domain", "not a declared domain"),
    ("level forum unknown", "forum: PRM", "forum: FPEC", "escalation.ladders[0].levels[1].forum", "not a declared forum"),
    ("bad condition op", 'op: ">="', 'op: "=>"', "escalation.ladders[0].levels[1].when.all[0].op", "Input should be"),
    ("rate rollup on a count", "unit: percent", "unit: count", "indicators[0]", "rollup 'rate' needs unit percent"),
    ("list value for a single comparison", "value: high}", "value: [high]}", "escalation.ladders[0].levels[1].when.all[1]",
     "needs a single value"),
    ("yaml syntax error", "  - {code: operational, name: Operational performance}",
     "  - {code: operational, name: Operational performance", "line ", "not valid YAML"),
]


@pytest.mark.parametrize(("case", "find", "replace", "path", "message"), BROKEN, ids=[row[0] for row in BROKEN])
def test_broken_tenant_file_is_refused_naming_file_and_path(case: str, find: str, replace: str, path: str, message: str) -> None:
    assert find in VALID, case
    with pytest.raises(TenantFileError) as refused:
        parse_tenant_text(VALID.replace(find, replace, 1), file="broken.yaml")
    problems = refused.value.problems
    assert any(p.file == "broken.yaml" and p.path.startswith(path) and message in p.message for p in problems), problems


MEANINGLESS = [
    ("unknown fact", "fact: risk_rating", "fact: risk_ratng", "escalation.ladders[0].levels[1].when.all[1].fact",
     "did you mean 'risk_rating'"),
    ("value outside a choice", "value: high}", "value: severe}", "escalation.ladders[0].levels[1].when.all[1].value",
     "one of low, medium, high"),
    ("number compared with text", "op: \">=\", value: 1}", "op: \">=\", value: many}",
     "escalation.ladders[0].levels[1].when.all[0].value", "a whole number"),
    ("ordering a choice", "{fact: risk_rating, value: high}", '{fact: risk_rating, op: ">", value: low}',
     "escalation.ladders[0].levels[1].when.all[1].op", "cannot compare choice"),
    ("resting level with a condition", "{level: 0, code: performing, name: Performing}",
     "{level: 0, code: performing, name: Performing, when: {fact: target_missed, value: false}}",
     "escalation.ladders[0].levels[0].when", "resting level"),
]


@pytest.mark.parametrize(("case", "find", "replace", "path", "message"), MEANINGLESS, ids=[row[0] for row in MEANINGLESS])
def test_condition_that_misuses_a_fact_is_refused_naming_file_and_path(case: str, find: str, replace: str, path: str, message: str) -> None:
    assert find in VALID, case
    tenant = parse_tenant_text(VALID.replace(find, replace, 1), file="meaningless.yaml")
    problems = validate_tenant_conditions(tenant, "meaningless.yaml")
    assert [(p.file, p.path) for p in problems] == [("meaningless.yaml", path)]
    assert message in problems[0].message


def test_valid_example_has_no_problems() -> None:
    assert validate_tenant_conditions(parse_tenant_text(VALID, file="valid.yaml"), "valid.yaml") == []


def test_every_member_of_stws_common_set_declares_its_codes() -> None:
    tenants = parse_tenant_directory(TENANTS)
    common = tenants["STW"].system.common_indicators  # type: ignore[union-attr]
    assert common is not None and set(common.members) == {"RXW", "RL1", "R1D"}
    for member in common.members:
        assert set(common.codes) <= {indicator.code for indicator in tenants[member].indicators}, member


def test_the_loader_names_the_member_file_missing_a_common_code(tmp_path) -> None:
    import shutil

    from server.tenants.load import validate_tenants

    for file in TENANTS.glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "mappings").mkdir(exist_ok=True)
    for file in (TENANTS / "mappings").glob("*"):
        shutil.copy(file, tmp_path / "mappings" / file.name)
    rjah = (tmp_path / "rjah.yaml").read_text()
    (tmp_path / "rjah.yaml").write_text(rjah.replace("  - code: AGENCY  #", "  - code: AGENCY-RJAH  #"))
    with pytest.raises(TenantFileError) as raised:
        validate_tenants(tmp_path)
    messages = [str(problem) for problem in raised.value.problems]
    assert any("stw.yaml: system.common_indicators.codes[2]: 'AGENCY' is common to the system's members, but " in message
               and "rjah.yaml (system.common_indicators.members[1]) declares no indicator 'AGENCY'" in message for message in messages), messages
