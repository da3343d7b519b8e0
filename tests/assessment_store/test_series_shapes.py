"""The series read joins measurements to their units one of two ways by the tree's shape: both give the same series."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

import server.assessment_store.series as series_module
from server.assessment_store.recompute import runner_access
from server.assessment_store.series import read_organisation_series


async def _read(session, org_id: int, indicator_ids, shape, monkeypatch):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as patch:  # the other shape's statement, whatever the tree
        patch.setattr(series_module, "_UNITS_BY_LEAF", shape)
        patch.setattr(series_module, "_UNIT_LEAF_PAIRS", shape)
        return await read_organisation_series(session, org_id, indicator_ids)


@pytest.mark.parametrize("org_code", ["RWD", "RXW", "R1D", "WHSSC", "03N", "QOC", "RL1", "NL4", "STW"])
async def test_both_ways_of_reaching_the_units_give_the_same_series(database, org_ids, org_code, monkeypatch):
    org = org_ids[org_code]
    async with database.session(await runner_access(database, org)) as session:
        every = (await session.exec(text("select id from indicator where org_id = :o order by position"), params={"o": org})).scalars().all()
        for indicator_ids in (None, every[:1]):
            pairs = await _read(session, org, indicator_ids, series_module._UNIT_LEAF_PAIRS, monkeypatch)
            by_leaf = await _read(session, org, indicator_ids, series_module._UNITS_BY_LEAF, monkeypatch)
            assert pairs.keys and pairs.keys == by_leaf.keys and pairs.periods == by_leaf.periods
            assert np.array_equal(pairs.values, by_leaf.values, equal_nan=True)
        if org_code in ("RWD", "WHSSC"):  # a tree, and contract units that stay out of the totals
            assert any(key.depth > 0 for key in pairs.keys)
