"""The ladders run over stored assessments: escalations open with their reasons, re-runs are
idempotent, and a month of new data moves an escalation with history."""
from __future__ import annotations

from sqlalchemy import text

from server.assessment_store.recompute import runner_access
from server.escalation_store.run import run_ladders


async def _escalations(database, org_id):
    async with database.session(await runner_access(database, org_id)) as session:
        return (await session.exec(text(
            "select subject_key, level, level_code, forum_code, status, explanation from escalation where org_id = :o order by subject_key"),
            params={"o": org_id})).all()


async def test_failing_indicators_are_escalated_with_the_rule_and_facts(database, org_ids):
    rows = await _escalations(database, org_ids["RXW"])
    assert rows, "demo data has SaTH indicators under target, so the ladder must have opened escalations"
    for subject, level, code, forum, status, explanation in rows:
        assert level >= 1 and status != "closed"
        assert "months_under_target" in explanation["facts"]
        assert explanation["text"].startswith("sath-performance-improvement: level")


async def test_running_again_changes_nothing(database, org_ids):
    org = org_ids["RXW"]
    before = await _escalations(database, org)
    async with database.session(await runner_access(database, org)) as session:
        events_before = (await session.exec(text("select count(*) from escalation_event where org_id = :o"), params={"o": org})).scalar_one()
        summary = await run_ladders(session, org)
        events_after = (await session.exec(text("select count(*) from escalation_event where org_id = :o"), params={"o": org})).scalar_one()
    assert summary.opened == summary.moved == summary.closed == 0
    assert events_after == events_before
    assert await _escalations(database, org) == before


async def test_divisions_and_contracts_have_ladders_too(database, org_ids):
    ulht = {row[0].split(":")[0] for row in await _escalations(database, org_ids["RWD"])}
    whssc_or_icb = await _escalations(database, org_ids["QOC"]) + await _escalations(database, org_ids["WHSSC"])
    assert "unit" in ulht or "indicator" in ulht
    assert all(row[0].startswith(("contract:", "indicator:")) for row in whssc_or_icb)


class _RolledBack(Exception):
    pass


async def test_new_data_rederives_assessment_and_moves_the_ladder(database, org_ids):
    """A submission re-derives the series and the escalation in the same transaction."""
    from server.db.session import AccessContext
    from server.measurements.record import MeasurementItem
    from server.measurements.submit import submit_measurements

    org = org_ids["R1D"]
    access = AccessContext.for_orgs([org], write=True)
    async with database.session(access) as session:
        indicator, polarity, target, latest = (await session.exec(text(
            "select i.code, i.polarity, a.target, a.period from indicator i join assessment a on a.indicator_id = i.id"
            " and a.unit_id is null and a.is_latest where i.org_id = :o and i.rollup = 'sum' and a.target is not null"
            " and i.polarity <> 'neutral' order by i.position limit 1"), params={"o": org})).one()
        leaves = (await session.exec(text(
            "select code from org_unit u where org_id = :o and not exists (select 1 from org_unit c where c.parent_id = u.id)"),
            params={"o": org})).scalars().all()
    # Far on the failing side at every leaf for the latest month: the organisation total fails.
    bad = float(target) * 10 + 1000 if polarity == "lower_is_better" else 0
    items = [MeasurementItem(indicator, leaf, latest, value=bad / len(leaves) if polarity == "lower_is_better" else 0) for leaf in leaves]
    # In one transaction, rolled back: the demo data other tests read (tests/demo) stay as made.
    found: dict[str, object] = {}
    try:
        async with database.session(access) as session:
            outcome = await submit_measurements(session, org_id=org, user_id=None, items=items, reason="test")
            assert outcome.ok, outcome.problems
            found["rag"], found["under"] = (await session.exec(text(
                "select a.rag, a.periods_under_target from assessment a join indicator i on i.id = a.indicator_id"
                " where i.code = :c and i.org_id = :o and a.unit_id is null and a.is_latest"), params={"c": indicator, "o": org})).one()
            found["escalation"] = (await session.exec(text(
                "select level, status from escalation where org_id = :o and subject_key = :k and status <> 'closed'"),
                params={"o": org, "k": f"indicator:{indicator}"})).first()
            raise _RolledBack
    except _RolledBack:
        pass
    rag, under, escalation = found["rag"], found["under"], found["escalation"]
    assert rag == "red" and under >= 1  # type: ignore[operator]
    assert escalation is not None and escalation[0] >= 1  # type: ignore[index]


async def test_months_since_plan_without_improvement_comes_from_the_engines_verdict(database, org_ids):
    """STW step 3 reads how long a plan has run without the engine finding improvement."""
    import datetime as dt

    from server.assessment_store.recompute import assessment_settings, recompute_organisation
    from server.db.models import ImprovementPlan, PlanEvent
    from server.escalation_store.facts import indicator_subjects

    org = org_ids["RXW"]
    access = await runner_access(database, org)
    async with database.session(access) as session:
        indicator_id, code, latest = (await session.exec(text(
            "select i.id, i.code, a.period from indicator i join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest"
            " where i.org_id = :o and a.periods_under_target >= 4 and i.polarity <> 'neutral' order by i.position limit 1"), params={"o": org})).one()
        started = (latest.replace(day=1) - dt.timedelta(days=95)).replace(day=1)
        plan = ImprovementPlan(org_id=org, title="Recovery", sro="COO", status="in_delivery", indicator_id=indicator_id,
                               started_on=started, partner_org_ids=[org])
        session.add(plan)
        await session.flush()
        # Every plan has its creation in its history (other tests read every plan through the API).
        session.add(PlanEvent(plan_id=plan.id, event="created", to_status=plan.status, plan_version=plan.version))
        await session.flush()
        await recompute_organisation(session, org, await assessment_settings(session, org), indicator_ids=[indicator_id])
        subject = next(s for s in await indicator_subjects(session, org) if s.key == f"indicator:{code}")
        evidence = (await session.exec(text(
            "select evidence -> 'improvement' from assessment where indicator_id = :i and unit_id is null and is_latest"),
            params={"i": indicator_id})).scalar_one()
        await session.rollback()  # the demo's plans and ratings stay as made (tests/demo reads them)
    assert subject.facts["improvement_plan_in_place"] is True
    if evidence["status"] == "improved":
        assert subject.facts["months_since_plan_without_improvement"] == 0
    else:
        assert evidence["status"] in ("not_improved", "too_early", "no_baseline")
        assert subject.facts["months_since_plan_without_improvement"] == (latest.year - started.year) * 12 + latest.month - started.month
    assert evidence["plan_start"] >= 0


async def test_a_run_sends_a_fixed_number_of_statements_whatever_the_number_of_subjects(database, org_ids):
    """Per ladder: the subjects, the open escalations and all their events, each one statement (no statement per subject)."""
    from tests.graphql.test_tool_questions import counted_statements

    for code in ("RXW", "03N"):
        org = org_ids[code]
        async with database.session(await runner_access(database, org)) as session:
            await session.exec(text("select 1"))
            open_count = (await session.exec(text("select count(*) from escalation where org_id = :o and status <> 'closed'"),
                                             params={"o": org})).scalar_one()
            with counted_statements(database) as sent:
                summary = await run_ladders(session, org)
        assert summary.opened == summary.moved == summary.closed == 0
        assert open_count >= 2 and summary.subjects > 5  # Sheffield: two programmes in exception (urgent care, mental health)
        # Sheffield's contracts add four: its framework (the contract units), the contracts, the figures recorded at
        # the contract units and the open notices (server/escalation_store/contracts.py), whatever the number of contracts.
        assert len(sent) <= 16, [statement.split("\n")[0][:80] for statement in sent]


async def test_the_ladders_read_what_the_engine_reads_whoever_sets_them_off(database):
    """A service that re-runs a commissioner's ladders for a person who may not read its providers'
    contractual figures (a maturity record, a judgement) must not close the escalations those figures
    keep open: the run reads with the engine's access, then the request's context is back."""
    from server.db.session import AccessContext
    from server.escalation_store.run import run_ladders

    async with database.session() as session:
        org_ids = list((await session.exec(text("select id from organisation"))).scalars())
    query = text("select org_id, count(*) from escalation where subject_type = 'contract' and status <> 'closed' group by org_id order by 2 desc")
    async with database.session(AccessContext.for_orgs(org_ids)) as session:
        commissioner, open_before = (await session.exec(query)).first()
    assert open_before > 0
    narrow = AccessContext.for_orgs([commissioner], write=True)  # its own rows only: no contractual reads
    assert not narrow.contract_org_ids
    async with database.session(narrow) as session:
        await run_ladders(session, commissioner)
        still_open = (await session.exec(text(
            "select count(*) from escalation where org_id = :o and subject_type = 'contract' and status <> 'closed'"),
            params={"o": commissioner})).scalar_one()
        context = tuple((await session.exec(text(
            "select current_setting('app.org_ids', true), current_setting('app.contract_org_ids', true)"))).one())
        await session.rollback()
    assert still_open == open_before
    assert context == (str(commissioner), "")  # the request's own context again
