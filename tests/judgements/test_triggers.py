"""Ladders re-run on every event that changes a fact, with no new measurement: a plan's formal
sign-off (STW SPIP, SAPF "Performance Improvement") and a meeting's decision."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from server.assessment_store.recompute import assessment_settings, recompute_organisation, runner_access
from server.db.models import ImprovementPlan, Meeting, PlanEvent
from server.db.session import AccessContext
from server.escalation_store.run import run_ladders
from server.meetings.minutes import Actor, Saved, record_decision
from server.plans.workflow import PlanChanged, advance
from tests.conftest import act_as
from tests.judgements.helpers import CWG, LEAD, QPC, escalation, rows, withdraw_all


async def test_a_spip_formally_signed_off_moves_the_ladder_without_new_data(database, services, org_ids):
    """Step 3 needs "3 months without improvement since improvement plan in place": a SPIP is in place once signed off."""
    stw = org_ids["STW"]
    candidates = await rows(database, stw,
        "select i.code, i.id, a.period from indicator i join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest"
        " where i.org_id = :o and a.periods_under_target >= 4 and i.polarity <> 'neutral'"
        # not a series the demo's own SPIP covers (stw.yaml): that plan is in place already
        " and not exists (select 1 from improvement_plan p where p.indicator_id = i.id)"
        " order by a.periods_under_target desc, i.position")
    access = await runner_access(database, stw)
    async with database.session(access) as session:
        plan = ImprovementPlan(org_id=stw, kind="spip", title="Trigger test SPIP", sro="SRO", status="agreed", accountability="system",
                               partner_org_ids=[stw])
        session.add(plan)
        await session.flush()
        session.add(PlanEvent(plan_id=plan.id, event="created", to_status=plan.status, plan_version=plan.version))
    indicator_id = None
    try:
        # The engine decides whether a series improved since the plan started (server/assessment/improvement.py):
        # take the first failing series it finds not improved on a plan started four months before its latest period.
        for code, candidate, latest in candidates:
            async with database.session(access) as session:
                await session.exec(text("update improvement_plan set indicator_id = :i, started_on = :s where id = :p"), params={
                    "i": candidate, "s": (latest - dt.timedelta(days=120)).replace(day=1), "p": plan.id})
                await recompute_organisation(session, stw, await assessment_settings(session, stw), indicator_ids=[candidate])
                if indicator_id is not None:
                    await recompute_organisation(session, stw, await assessment_settings(session, stw), indicator_ids=[indicator_id])
                indicator_id = candidate
                await run_ladders(session, stw)
                improvement = (await session.exec(text(
                    "select evidence -> 'improvement' ->> 'status' from assessment where indicator_id = :i and unit_id is null and is_latest"),
                    params={"i": candidate})).scalar_one()
            if improvement != "improved":
                break
        assert improvement != "improved", "no failing STW series without improvement in the demo data"
        subject = f"indicator:{code}"
        before = await escalation(database, stw, subject)
        assert before is not None and before[0] < 3 and before[2]["facts"]["improvement_plan_in_place"] is False  # agreed is not in place

        revisions = await rows(database, stw, "select count(*) from measurement_history where org_id = :o")
        principal, cwg_access = await act_as(database, services.authorizer, CWG)
        async with database.session(cwg_access) as session:
            version = (await session.exec(text("select version from improvement_plan where id = :p"), params={"p": plan.id})).scalar_one()
            outcome = await advance(session, services.authorizer, principal, plan_id=plan.id, action="sign_off", seen_version=version)
        assert isinstance(outcome, PlanChanged), outcome
        level, level_code, explanation = await escalation(database, stw, subject)
        assert level >= 3 and explanation["facts"]["improvement_plan_in_place"] is True
        assert explanation["facts"]["months_since_plan_without_improvement"] >= 3
        assert await rows(database, stw, "select count(*) from measurement_history where org_id = :o") == revisions  # no new data
    finally:
        async with database.session(access) as session:
            await session.exec(text("update improvement_plan set status = 'closed' where id = :p"), params={"p": plan.id})
            if indicator_id is not None:
                await recompute_organisation(session, stw, await assessment_settings(session, stw), indicator_ids=[indicator_id])
            await run_ladders(session, stw)


async def test_a_meeting_decision_reruns_the_ladders(database, services, org_ids, stw_subject):
    """A judgement stored without a run (an import, a restore) takes effect at the next decision of any of the system's meetings."""
    stw = org_ids["STW"]
    principal, lead_access = await act_as(database, services.authorizer, LEAD)
    write = AccessContext(read_org_ids=frozenset({stw}), write_org_ids=frozenset({stw}), user_id=None)
    async with database.session(write) as session:
        for kind, value in (("qpc_assured", "false"), ("patient_safety_risk", "true"), ("risk_rating", '"high"')):
            await session.exec(text(
                "insert into judgement (org_id, kind, subject_type, subject_key, subject_name, value, reason, recorded_by_name, recorded_role)"
                f" values (:o, :k, 'indicator', :s, 'test', '{value}', 'loaded without a run', 'importer', 'system_committee_member')"),
                params={"o": stw, "k": kind, "s": stw_subject})
        forum_id = (await session.exec(text("select id from forum where org_id = :o and code = 'SQPC'"), params={"o": stw})).scalar_one()
        meeting = Meeting(org_id=stw, forum_id=forum_id, scheduled_for=dt.date(2098, 1, 5), status="held")
        session.add(meeting)
    before = await escalation(database, stw, stw_subject)
    assert before is None or before[0] < 6
    async with database.session(lead_access) as session:
        saved = await record_decision(session, meeting, expected_version=meeting.version, decision="Noted the delivery group report",
                                      actor=Actor(principal.user_id, principal.name, "system_planning_lead"), now=dt.datetime.now(dt.UTC))
    assert isinstance(saved, Saved)
    assert (await escalation(database, stw, stw_subject))[0] == 6
    await withdraw_all(database, services, stw, stw_subject, ((QPC, ("qpc_assured", "patient_safety_risk")), (LEAD, ("risk_rating",))))
    after = await escalation(database, stw, stw_subject)
    assert after is None or after[0] < 6
