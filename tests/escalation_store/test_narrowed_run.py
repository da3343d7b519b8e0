"""A save runs only the ladder subjects its indicators can affect, and stores exactly what a full run would.

Each case saves measurements in a transaction that is rolled back afterwards, once through
submit_measurements (record, derive, the narrowed ladder run) and once with the same record and
derive followed by a full run_ladders; the escalations, their events and the audit entries each
leaves must be identical. A full run after the narrowed one must then find nothing to do.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from server.assessment_store.recompute import assessment_settings, recompute_organisation, runner_access
from server.escalation_store.run import RunSummary, run_ladders, run_ladders_for_indicators
from server.measurements.record import MeasurementItem, record_measurements
from server.measurements.submit import submit_measurements
from tests.graphql.test_tool_questions import counted_statements


class _RollBack(Exception):
    """Raised at the end of a case: nothing it stored outlives it."""


async def _snapshot(session, org_id: int, audit_after: int) -> dict[str, list]:
    """What the ladders store, without ids and clock times (the two transactions run at different moments)."""
    escalations = (await session.exec(text(
        """select ladder_code, subject_key, subject_type, subject_name, indicator_id, unit_id, level, level_code, level_name,
                  forum_code, requires, status, explanation, manual_override, plan_id, version, closed_at is null
           from escalation where org_id = :o order by ladder_code, subject_key, opened_at, id"""), params={"o": org_id})).all()
    events = (await session.exec(text(
        """select x.ladder_code, x.subject_key, e.event, e.from_level, e.to_level, e.actor_role, e.reason, e.facts
           from escalation_event e join escalation x on x.id = e.escalation_id where e.org_id = :o
           order by x.ladder_code, x.subject_key, e.id"""), params={"o": org_id})).all()
    audit = (await session.exec(text(
        "select action, after from audit_event where org_id = :o and object_type = 'escalation' and id > :after order by id"),
        params={"o": org_id, "after": audit_after})).all()
    return {"escalations": [tuple(row) for row in escalations], "events": [tuple(row) for row in events],
            "audit": sorted((action, sorted(after.items())) for action, after in audit)}


async def _save(session, org_id: int, *, moves: bool) -> list[MeasurementItem]:
    """The items of a save at one indicator with a target.

    ``moves``: an indicator with no open escalation where there is one, far on the failing side at every leaf for its
    latest six periods (the organisation total fails by far, for long enough to open one);
    otherwise one leaf's latest value nudged by a millionth, which changes the series but none of
    its verdicts.
    """
    code, polarity, target, indicator_id = (await session.exec(text(
        "select i.code, i.polarity, a.target, i.id from indicator i join assessment a on a.indicator_id = i.id"
        " and a.unit_id is null and a.is_latest where i.org_id = :o and i.rollup = 'sum' and a.target is not null"
        " and i.polarity <> 'neutral' order by :moves and exists (select 1 from escalation x where x.org_id = i.org_id"
        " and x.indicator_id = i.id and x.status <> 'closed'), i.position limit 1"), params={"o": org_id, "moves": moves})).one()
    periods = (await session.exec(text(
        "select period from assessment where indicator_id = :i and unit_id is null order by period desc limit 6"),
        params={"i": indicator_id})).scalars().all()
    leaves = (await session.exec(text(
        "select u.code, m.value::float8 from org_unit u join measurement m on m.unit_id = u.id and m.indicator_id = :i and m.period = :p"
        " where u.org_id = :o and not exists (select 1 from org_unit c where c.parent_id = u.id) order by u.code"),
        params={"o": org_id, "i": indicator_id, "p": periods[0]})).all()
    assert leaves, f"{code}: no leaf measurements in {periods[0]}"
    if not moves:
        leaf, value = leaves[0]
        return [MeasurementItem(code, leaf, periods[0], value=round(value * 1.000001 + 0.000001, 6))]
    bad = (float(target) * 10 + 1000) / len(leaves) if polarity == "lower_is_better" else 0.0
    return [MeasurementItem(code, leaf, period, value=bad) for leaf, _ in leaves for period in periods]


async def _case(database, org_id: int, *, moves: bool, narrowed: bool) -> tuple[dict[str, list], RunSummary | None, RunSummary]:
    """One save, rolled back: (what is stored, the summary of the run the save made, a full run's summary afterwards)."""
    found: dict = {}
    try:
        async with database.session(await runner_access(database, org_id)) as session:
            audit_after = (await session.exec(text("select coalesce(max(id), 0) from audit_event"))).scalar_one()
            items = await _save(session, org_id, moves=moves)
            if narrowed:
                captured: list[RunSummary] = []
                import server.measurements.submit as submit

                original = submit.run_ladders_for_indicators

                async def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
                    captured.append(await original(*args, **kwargs))
                    return captured[-1]

                submit.run_ladders_for_indicators = spy
                try:
                    outcome = await submit_measurements(session, org_id=org_id, user_id=None, items=items, reason="narrowed run test")
                finally:
                    submit.run_ladders_for_indicators = original
                assert outcome.ok and outcome.changed, outcome.problems
                found["summary"] = captured[0]
            else:
                outcome = await record_measurements(session, org_id=org_id, user_id=None, items=items, source="manual", reason="narrowed run test")
                assert outcome.ok and outcome.changed, outcome.problems
                changed: dict[int, set[dt.date]] = {}
                for row in outcome.changed:
                    changed.setdefault(row.indicator_id, set()).add(row.period)
                await recompute_organisation(session, org_id, await assessment_settings(session, org_id), indicator_ids=sorted(changed),
                                             changed=changed)
                found["summary"] = await run_ladders(session, org_id)
            found["stored"] = await _snapshot(session, org_id, audit_after)
            found["after"] = await run_ladders(session, org_id)
            found["stored_after"] = await _snapshot(session, org_id, audit_after)
            raise _RollBack
    except _RollBack:
        pass
    assert found["stored_after"] == found["stored"], "a full run after the save found something to store"
    return found["stored"], found["summary"], found["after"]


@pytest.mark.parametrize("org_code", ["RXW", "RWD", "03N", "QOC", "R1D"])
@pytest.mark.parametrize("moves", [True, False], ids=["a save that moves a level", "a save that moves nothing"])
async def test_the_narrowed_run_stores_what_a_full_run_stores(database, org_ids, org_code, moves):
    org = org_ids[org_code]
    narrowed, narrowed_summary, after_narrowed = await _case(database, org, moves=moves, narrowed=True)
    full, full_summary, _ = await _case(database, org, moves=moves, narrowed=False)
    assert narrowed == full
    assert after_narrowed.opened == after_narrowed.moved == after_narrowed.closed == 0
    assert (narrowed_summary.opened, narrowed_summary.moved, narrowed_summary.closed) == \
        (full_summary.opened, full_summary.moved, full_summary.closed)
    assert narrowed_summary.subjects <= full_summary.subjects
    if not moves:
        assert narrowed_summary.opened == narrowed_summary.moved == narrowed_summary.closed == 0


async def test_a_save_that_moves_a_level_is_a_case_of_the_comparison(database, org_ids):
    """The failing save really opens or moves something at SaTH (else the comparison above proves little)."""
    _, summary, _ = await _case(database, org_ids["RXW"], moves=True, narrowed=True)
    assert summary.opened + summary.moved >= 1
    assert summary.subjects == 1  # SaTH's one ladder is per indicator: only the saved indicator's subject ran


async def test_the_narrowed_run_sends_the_same_statements_for_one_indicator_as_for_every_indicator(database, org_ids):
    """Statements per narrowed run are fixed: they do not grow with the subjects run or the open escalations."""
    for code in ("RXW", "RWD"):
        org = org_ids[code]
        async with database.session(await runner_access(database, org)) as session:
            indicators = (await session.exec(text("select id from indicator where org_id = :o order by position"), params={"o": org})).scalars().all()
            await run_ladders(session, org)  # whatever was due is stored: the runs below store nothing
            counts = []
            for chosen in (indicators[:1], indicators):
                with counted_statements(database) as sent:
                    summary = await run_ladders_for_indicators(session, org, chosen)
                assert summary.opened == summary.moved == summary.closed == 0
                counts.append(len(sent))
        assert counts[0] == counts[1] <= 12, (code, counts)
