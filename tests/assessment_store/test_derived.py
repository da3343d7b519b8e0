"""The ladders after a derivation read its series from memory (derived.py): exactly what the stored rows say."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from server.assessment_store.derived import forget, stored_derivation
from server.assessment_store.recompute import assessment_settings, recompute_organisation, runner_access
from server.escalation_store.history import read_histories
from server.measurements.submit import submit_measurements
from tests.escalation_store.test_narrowed_run import _save
from tests.graphql.test_tool_questions import counted_statements


class _RollBack(Exception):
    pass


async def _from_memory_and_stored(database, session, org_id: int, indicator_ids):  # type: ignore[no-untyped-def]
    """The histories read right after the derivation (from memory), then again with it forgotten (from the stored rows)."""
    assert stored_derivation(session, org_id, indicator_ids) is not None
    with counted_statements(database) as sent:
        remembered = await read_histories(session, [org_id], indicator_ids=indicator_ids)
    assert len(sent) == 2  # the indicators and the organisation's newest period
    forget(session, org_id)
    stored = await read_histories(session, [org_id], indicator_ids=indicator_ids)
    return remembered, stored


@pytest.mark.parametrize("org_code", ["RXW", "RWD", "03N", "QOC", "R1D", "RL1", "NL4", "WHSSC", "STW"])
async def test_histories_of_a_full_derivation_equal_the_stored_ones(database, org_ids, org_code):
    org = org_ids[org_code]
    try:
        async with database.session(await runner_access(database, org)) as session:
            await recompute_organisation(session, org, await assessment_settings(session, org))
            remembered, stored = await _from_memory_and_stored(database, session, org, None)
            assert stored, "the organisation has histories to compare"
            assert list(remembered.items()) == list(stored.items())  # same series, points, verdicts and order
            raise _RollBack
    except _RollBack:
        pass


@pytest.mark.parametrize("org_code", ["RXW", "RWD", "QOC"])
@pytest.mark.parametrize("moves", [True, False])
async def test_histories_after_a_submission_equal_the_stored_ones(database, org_ids, org_code, moves):
    """A submission stores only the rows in its scope; the rest were stored before and must agree with memory."""
    org = org_ids[org_code]
    try:
        async with database.session(await runner_access(database, org)) as session:
            items = await _save(session, org, moves=moves)
            outcome = await submit_measurements(session, org_id=org, user_id=None, items=items, reason="derived histories test")
            assert outcome.ok and outcome.changed
            changed = sorted({row.indicator_id for row in outcome.changed})
            remembered, stored = await _from_memory_and_stored(database, session, org, changed)
            assert stored and list(remembered.items()) == list(stored.items())
            # Indicators the submission did not derive are read from the stored rows.
            others = (await session.exec(text("select id from indicator where org_id = :o and id <> all(:c)"),
                                         params={"o": org, "c": changed})).scalars().all()
            assert others and stored_derivation(session, org, others) is None and stored_derivation(session, org, None) is None
            raise _RollBack
    except _RollBack:
        pass


async def test_a_derivation_is_forgotten_when_its_transaction_ends_or_the_store_changes(database, org_ids):
    org = org_ids["RXW"]
    kept = None
    try:
        async with database.session(await runner_access(database, org)) as session:
            kept = session
            indicators = (await session.exec(text("select id from indicator where org_id = :o order by position"),
                                             params={"o": org})).scalars().all()
            await recompute_organisation(session, org, await assessment_settings(session, org))
            assert stored_derivation(session, org, None) is not None and stored_derivation(session, org, indicators) is not None
            await recompute_organisation(session, org, await assessment_settings(session, org), indicator_ids=indicators[:2])
            assert stored_derivation(session, org, indicators[:2]) is not None
            assert stored_derivation(session, org, indicators[:3]) is None and stored_derivation(session, org, None) is None
            await recompute_organisation(session, org, await assessment_settings(session, org), indicator_ids=indicators[2:3])
            assert stored_derivation(session, org, indicators[:2]) is None  # another store of the organisation replaced it
            raise _RollBack
    except _RollBack:
        pass
    assert kept is not None and stored_derivation(kept, org, indicators[2:3]) is None  # its transaction has ended
