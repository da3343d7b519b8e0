"""A tenant not in the seeds, with a ladder unlike any seed's, runs on configuration alone.

The file is the worked example in tenants/README.md, so the documentation stays correct.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from server.escalation import FACTS, evaluate_ladder, required_cadence, validate_tenant_conditions
from server.tenants.parse import parse_tenant_directory, parse_tenant_file

TENANTS = Path(__file__).resolve().parents[2] / "tenants"


def worked_example() -> str:
    readme = (TENANTS / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Worked example", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_new_tenant_file_loads_beside_the_seed_tenants(tmp_path: Path) -> None:
    for seed in TENANTS.glob("*.yaml"):
        shutil.copy(seed, tmp_path / seed.name)
    (tmp_path / "northshire.yaml").write_text(worked_example(), encoding="utf-8")
    tenants = parse_tenant_directory(tmp_path)
    assert "NCH" in tenants and len(tenants) == 10
    assert validate_tenant_conditions(tenants["NCH"], "northshire.yaml") == []


NORTHSHIRE_MONTHS = [
    # period   facts                                                                              level        forum  required action
    ("2025-04", dict(spc_variation="common_cause", spc_assurance="hit_and_miss", rag="green"),        "assured",   None,  None),
    ("2025-05", dict(spc_variation="special_cause_concerning", spc_assurance="hit_and_miss", rag="amber"), "watch", "DPR", "root_cause_review"),
    ("2025-06", dict(spc_variation="special_cause_concerning", spc_assurance="consistently_failing", rag="red"),
                                                                                                      "recovery",  "DPR", "recovery_plan"),
    ("2025-08", dict(spc_variation="common_cause", spc_assurance="consistently_failing", rag="red",
                     months_since_plan_without_improvement=2),                                        "committee", "QPC", "committee_deep_dive"),
    ("2025-10", dict(spc_variation="special_cause_improving", spc_assurance="hit_and_miss", rag="green"), "assured", None, None),
]


def test_new_tenant_ladder_runs_month_by_month_without_code_changes(tmp_path: Path, run_months, transitions_of) -> None:
    path = tmp_path / "northshire.yaml"
    path.write_text(worked_example(), encoding="utf-8")
    tenant = parse_tenant_file(path)
    base = dict(months_since_plan_without_improvement=0)
    steps = run_months(tenant.escalation.ladders[0], base, NORTHSHIRE_MONTHS, subject="NCH/UCR2H")
    assert transitions_of(steps) == [("2025-05", "opened", 1), ("2025-06", "escalated", 2), ("2025-08", "escalated", 3),
                                     ("2025-10", "closed", 3)]
    assert steps[3].outcome.additional_forums == ("BOARD",)
    rules = tenant.escalation.cadence_rules
    assert [required_cadence(rules, {"rag": rag})[0].frequency for rag in ("red", "amber", "green")] == ["monthly", "monthly", "quarterly"]


def test_new_tenant_explains_its_verdict(tmp_path: Path) -> None:
    path = tmp_path / "northshire.yaml"
    path.write_text(worked_example(), encoding="utf-8")
    outcome = evaluate_ladder(parse_tenant_file(path).escalation.ladders[0], {"spc_variation": "special_cause_concerning"})
    assert "spc_variation == 'special_cause_concerning' (is 'special_cause_concerning'): held" in outcome.explanation()


def test_readme_lists_every_fact() -> None:
    readme = (TENANTS / "README.md").read_text(encoding="utf-8")
    assert [name for name in FACTS if f"`{name}`" not in readme] == []
