"""The demo tells a true story (issue 15): on the seeded demo, each story a tenant file declares gives
the verdicts it should (stable, hit and miss, improving after a plan, deteriorating, a step change
with its limits recalculated), the STW members stand at different places on the performance
spectrum (the ICB earning outstanding under its file's own rule), Family Health's sustained performance earned autonomy that an accountability review
granted, and the system's SPIP that has not improved the system's long waits, with System QPC not
assured by it, has taken the system's ladder to its fifth level."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import text

from server.db.session import AccessContext
from server.assessment_store.points import points_document
from server.demo.generate import draw_series, month_starts
from server.reporting.system import system_by_code, system_position
from server.settings import PROJECT_ROOT
from server.tenants.load import validate_tenants

TENANTS = validate_tenants(PROJECT_ROOT / "tenants")


async def _latest(session, org: str, code: str):  # type: ignore[no-untyped-def]
    *verdicts, points = (await session.exec(text(
        "select a.value, a.target, a.rag, a.variation, a.assurance, a.evidence -> 'improvement' ->> 'status', a.spc_points"
        " from assessment a join indicator i on i.id = a.indicator_id join organisation o on o.id = i.org_id"
        " where o.code = :org and i.code = :code and a.unit_id is null and a.is_latest"), params={"org": org, "code": code})).one()
    return (*verdicts, points_document(points))


async def test_each_declared_story_gives_its_verdicts(database, org_ids) -> None:
    declared = {(org, spec.code): spec.demo.story for org, tenant in TENANTS.items() for spec in tenant.indicators
                if spec.demo is not None and spec.demo.story is not None}
    assert set(declared.values()) == {"stable", "hit_and_miss", "improving", "deteriorating", "step_change"}
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        stable = await _latest(session, "R1D", "CYPWAIT18")
        assert stable[2:5] == ("green", "common_cause", "consistently_pass")
        hit_and_miss = await _latest(session, "QOC", "LDAHC")
        assert hit_and_miss[4] == "hit_and_miss"
        # Failing until its recovery plan started, on target since: special-cause improvement, improved since the plan.
        for org, code in (("RL1", "RTT52"), ("RXW", "CAN62"), ("R1D", "CWL52"), ("QOC", "SMIPHC")):
            _, _, rag, variation, _, improvement, _ = await _latest(session, org, code)
            assert (rag, variation, improvement) == ("green", "special_cause_improving", "improved"), (org, code)
        plans = (await session.exec(text(
            "select o.code, i.code, p.kind, p.status, p.started_on from improvement_plan p join indicator i on i.id = p.indicator_id"
            " join organisation o on o.id = p.org_id where p.kind = 'recovery' order by 1, 2"))).all()
        assert [(row[0], row[1], row[2], row[3]) for row in plans] == [
            ("QOC", "SMIPHC", "recovery", "in_delivery"), ("R1D", "CWL52", "recovery", "in_delivery"), ("RL1", "RTT52", "recovery", "in_delivery"),
            ("RXW", "CAN62", "recovery", "in_delivery")]
        deteriorating = await _latest(session, "RL1", "RTT65")
        assert deteriorating[2:4] == ("red", "special_cause_concerning")
        # A step change: a live recalculation at the step, and the latest point's limits are the new segment's.
        for org, code in (("R1D", "UCR2H"), ("RXW", "CANFDS")):
            step = (await session.exec(text(
                "select r.period from spc_recalculation r join indicator i on i.id = r.indicator_id join organisation o on o.id = i.org_id"
                " where o.code = :org and i.code = :code and r.withdrawn_at is null"), params={"org": org, "code": code})).scalar_one()
            *_, points = await _latest(session, org, code)
            periods = month_starts(len(points), dt.date(2026, 11, 1))
            first_new = next(i for i, point in enumerate(points) if point["segment"] == points[-1]["segment"])
            assert points[-1]["segment"] == 1 and periods[first_new] == step, (org, code)
            # a genuine shift: the new mean lies beyond the old segment's process limits
            assert abs(points[-1]["mean"] - points[0]["mean"]) > points[0]["upper_limit"] - points[0]["mean"], (org, code)
            variation = (await _latest(session, org, code))[3]
            assert variation == "common_cause", (org, code)  # the process as it is now, not the shift


async def test_the_system_members_stand_at_different_places_on_the_spectrum(database, org_ids) -> None:
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        system = await system_by_code(session, "STW")
        assert system is not None
        position = await system_position(session, system)
    levels = {member.code: member.spectrum.level for member in position.members}
    assert levels == {"STW": "unacceptable", "QOC": "outstanding", "RXW": "unacceptable", "RL1": "requires_improvement",
                      "R1D": "good"}


async def test_the_icb_earns_outstanding_by_exceeding_every_key_target_with_continued_improvement(database, org_ids) -> None:
    """STW's rule, unchanged (its file's spectrum: all KPI targets exceeded and continued improvement), met by
    the ICB's figures: each key indicator strictly better than its target, one improving by special cause
    since its recovery plan, none in special-cause concern."""
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        system = await system_by_code(session, "STW")
        assert system is not None
        icb = next(member for member in (await system_position(session, system)).members if member.code == "QOC")
        key = (await session.exec(text(
            "select i.code, i.polarity, a.value, a.target, a.variation from assessment a join indicator i on i.id = a.indicator_id"
            " where i.org_id = :qoc and i.is_key and a.unit_id is null and a.is_latest order by i.code"), params={"qoc": org_ids["QOC"]})).all()
    assert icb.spectrum.level == "outstanding" and icb.spectrum.rule_source == "the organisation's own spectrum rules"
    assert icb.spectrum.reason.startswith("Every key target exceeded, with continued improvement")  # the page's "Why"
    assert icb.spectrum.facts.kpi_targets_missed == 0 and icb.spectrum.facts.all_targets_exceeded
    assert [code for code, *_ in key] == ["CHC28", "GP2WK", "RUNCOST", "SMIPHC"]
    for code, polarity, value, target, _ in key:
        assert (value - target) * (1 if polarity == "higher_is_better" else -1) > 0, code  # exceeded, not just met
    variations = {code: variation for code, *_, variation in key}
    assert variations["SMIPHC"] == "special_cause_improving" and "special_cause_concerning" not in variations.values()
    # The rule is the file's own, as adopted (stw.yaml's CHOICE), not one made for the demo.
    rules = TENANTS["QOC"].assessment.spectrum
    assert [rule.rating for rule in rules] == ["unacceptable", "requires_improvement", "outstanding", "good"]
    assert rules == TENANTS["STW"].assessment.spectrum


async def test_a_division_that_sustained_its_targets_holds_the_autonomy_its_review_granted(database, org_ids) -> None:
    async with database.session(AccessContext.for_orgs([org_ids["RWD"]])) as session:
        rows = (await session.exec(text(
            "select u.code, a.earned_code, a.level_code, a.cause, r.held_on, r.outcome from autonomy_level a join org_unit u on u.id = a.unit_id"
            " left join accountability_review r on r.id = a.review_id where a.org_id = :o and a.id in"
            " (select max(id) from autonomy_level where org_id = :o group by unit_id) order by u.code"), params={"o": org_ids["RWD"]})).all()
    above = [row for row in rows if row[2] != "standard"]
    assert [row[:5] for row in above] == [("RWD-FH", "full-autonomy", "full-autonomy", "review", dt.date(2026, 11, 10))]
    assert above[0][5].startswith("Autonomy: Earned autonomy — full scheme of delegation (granted; was Standard delegation).")


async def test_the_system_spip_without_improvement_and_system_qpc_not_assured_take_the_system_ladder_up(database, org_ids) -> None:
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        plan = (await session.exec(text(
            "select p.kind, p.status, p.started_on, array(select o.code from organisation o where o.id = any(p.partner_org_ids) order by o.code),"
            " (select count(*) from plan_agreement g where g.plan_id = p.id and g.withdrawn_at is null),"
            " array(select e.event from plan_event e where e.plan_id = p.id order by e.at, e.id)"
            " from improvement_plan p join indicator i on i.id = p.indicator_id where p.org_id = :stw and i.code = 'RTT65'"),
            params={"stw": org_ids["STW"]})).one()
        assert plan[:4] == ("spip", "in_delivery", dt.date(2026, 2, 1), ["RL1", "RXW"])
        assert plan[4] == 2  # each partner's executive agreed it
        assert plan[5] == ["drafted", "critique", "partner_agreed", "partner_agreed", "all_partners_agreed", "sign_off", "present", "start_delivery"]
        escalation = (await session.exec(text(
            "select level, level_code, forum_code, explanation -> 'facts' ->> 'months_since_plan_without_improvement' from escalation"
            " where org_id = :stw and subject_key = 'indicator:RTT65' and status <> 'closed'"), params={"stw": org_ids["STW"]})).one()
        verdict = (await session.exec(text(
            "select value, recorded_by_name, recorded_role from judgement where org_id = :stw and kind = 'qpc_assured'"
            " and subject_key = 'indicator:RTT65' and not withdrawn"), params={"stw": org_ids["STW"]})).one()
    # Eight months without improvement under the SPIP, and System QPC not assured by the rate of improvement:
    # the delivery group reports risks and mitigations to System QPC (STW "Where System Performance Assurance is not received").
    assert escalation == (5, "assurance-not-received", "SQPC", "8")
    assert verdict == (False, "Alan Hughes", "system_committee_member")


def test_a_story_is_drawn_the_same_every_time_and_an_improving_series_turns_at_its_plan() -> None:
    spec = next(s for s in TENANTS["RL1"].indicators if s.code == "RTT52")
    periods = month_starts(24, dt.date(2026, 11, 1))
    units = [(1, "A"), (2, "B")]
    first, again = draw_series("RL1", spec, units, periods), draw_series("RL1", spec, units, periods)
    assert all(np.array_equal(a.values, b.values) for a, b in zip(first, again))  # type: ignore[arg-type]
    total = sum(s.values for s in first)  # type: ignore[misc]
    started = len(periods) - 1 - spec.demo.plan.months_ago  # type: ignore[union-attr]
    assert total[:started].min() > 150 and total[-3:].max() <= 150  # over the ceiling before the plan, under it now


def test_a_demo_block_names_only_judgements_and_plans_its_file_declares() -> None:
    import pytest
    import yaml
    from pydantic import ValidationError

    from server.tenants.spec import TenantFile

    raw = yaml.safe_load((PROJECT_ROOT / "tenants" / "stw.yaml").read_text())
    spip = next(i for i in raw["indicators"] if i["code"] == "RTT65")
    spip["demo"] = {"judgements": {"qpc_asured": False}}
    with pytest.raises(ValidationError, match="demo.judgements: 'qpc_asured' is not a judgement the file declares"):
        TenantFile.model_validate(raw)
    spip["demo"] = {"story": "improving"}
    with pytest.raises(ValidationError, match="story 'improving' recovers after an improvement plan"):
        TenantFile.model_validate(raw)
