"""Store derived assessments by difference: only rows whose content changed are written.

A submission re-derives the series of the indicators it touched, but a new value at one ward
changes a handful of rows (that ward, its parents, the latest-row flags), and a full recompute after
no change changes none. The rows in scope (scope.py: every row of a full recompute, or the periods a
submission can have changed) are staged by COPY, then one statement updates the rows that differ,
inserts the new ones and deletes the stored rows in scope that are no longer derived (e.g. a removed
period). ``computed_at`` is left alone on rows whose content is unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.derived import forget
from server.assessment_store.methods import MethodDescriptions, store_methods
from server.assessment_store.rows import COLUMNS, as_records
from server.assessment_store.scope import Scope, everything
from server.assessment_store.staging import stage_by_copy

_KEY = ("org_id", "indicator_id", "unit_id", "period")
_BESIDE_EVIDENCE = ("spc_points", "method_digest")
_CONTENT = [name for name, _ in COLUMNS if name not in (*_KEY, "computed_at", "evidence", *_BESIDE_EVIDENCE)]
# Evidence null in the batch: the stored evidence has the derived one's digest (rows.py), so neither
# it nor what is stored beside it (its points, its method's description) is compared or written.
_EVIDENCE = ", ".join(["evidence = coalesce(b.evidence, a.evidence)",
                       *(f"{name} = case when b.evidence is null then a.{name} else b.{name} end" for name in _BESIDE_EVIDENCE)])
_EVIDENCE_DIFFERS = ("(b.evidence is not null and (a.evidence is distinct from b.evidence"
                     + "".join(f" or a.{name} is distinct from b.{name}" for name in _BESIDE_EVIDENCE) + "))")
_NAMES = ", ".join(name for name, _ in COLUMNS)
_SAME_KEY = "{a}.indicator_id = {b}.indicator_id and {a}.unit_id is not distinct from {b}.unit_id and {a}.period = {b}.period"
# A stored row is in scope when its indicator is stored in full or its (indicator, period) is listed.
_IN_SCOPE = """(a.indicator_id = any(cast(:full as int[]))
                or (a.indicator_id, a.period) in (select * from unnest(cast(:scope_indicator as int[]), cast(:scope_period as date[]))))"""

_MERGE = text(f"""
    with updated as (
        update assessment a set {', '.join(f'{name} = b.{name}' for name in _CONTENT)}, {_EVIDENCE}, computed_at = b.computed_at
        from assessment_batch b
        where a.org_id = :org_id and {_SAME_KEY.format(a='a', b='b')}
          and (({', '.join(f'a.{name}' for name in _CONTENT)}) is distinct from ({', '.join(f'b.{name}' for name in _CONTENT)})
               or {_EVIDENCE_DIFFERS})
        returning 1
    ),
    inserted as (
        insert into assessment ({_NAMES})
        select {_NAMES} from assessment_batch b
        where not exists (select 1 from assessment a where a.org_id = :org_id and {_SAME_KEY.format(a='a', b='b')})
        returning 1
    ),
    deleted as (
        delete from assessment a
        where a.org_id = :org_id and {_IN_SCOPE}
          and not exists (select 1 from assessment_batch b where {_SAME_KEY.format(a='a', b='b')})
        returning 1
    )
    select (select count(*) from updated), (select count(*) from inserted), (select count(*) from deleted)
""")

# A submission's scope is a few periods of a few indicators: its rows are found key by key through the
# (indicator, unit, period) index, where the statement above joins the batch with every stored row of
# the organisation (row-level security leaves the planner estimating one row there, so it hashes them
# all: 34,000 rows read for a one-row save at a ULHT-size trust).
_STORED_ID = "(select a.id from assessment a where a.indicator_id = b.indicator_id and a.unit_id {unit} and a.period = b.period)"
_MERGE_BY_KEY = text(f"""
    with targets as materialized (
        select b.*, coalesce({_STORED_ID.format(unit="= b.unit_id")},
                             case when b.unit_id is null then {_STORED_ID.format(unit="is null")} end) as stored_id
        from assessment_batch b
    ),
    in_scope as materialized (
        select x.id from unnest(cast(:scope_indicator as int[]), cast(:scope_period as date[])) as p(indicator_id, period)
        cross join lateral (select a.id from assessment a
                            where a.org_id = :org_id and a.indicator_id = p.indicator_id and a.period = p.period) x
    ),
    updated as (
        update assessment a set {', '.join(f'{name} = b.{name}' for name in _CONTENT)}, {_EVIDENCE}, computed_at = b.computed_at
        from targets b
        where a.id = any(array(select stored_id from targets where stored_id is not null)) and a.id = b.stored_id
          and (({', '.join(f'a.{name}' for name in _CONTENT)}) is distinct from ({', '.join(f'b.{name}' for name in _CONTENT)})
               or {_EVIDENCE_DIFFERS})
        returning 1
    ),
    inserted as (
        insert into assessment ({_NAMES}) select {_NAMES} from targets b where b.stored_id is null
        returning 1
    ),
    deleted as (
        delete from assessment a
        where a.id = any(array(select id from in_scope except select stored_id from targets where stored_id is not null))
        returning 1
    )
    select (select count(*) from updated), (select count(*) from inserted), (select count(*) from deleted)
""")


@dataclass(frozen=True)
class StoredChanges:
    updated: int
    inserted: int
    deleted: int


async def store_assessments(session: AsyncSession, org_id: int, indicator_ids: list[int], rows: list[dict[str, Any]]) -> StoredChanges:
    """Make the stored assessments of these indicators equal ``rows`` (every row they should have)."""
    records, methods = as_records(rows)
    return await store_records(session, org_id, records, everything(indicator_ids), methods)


async def store_records(
    session: AsyncSession, org_id: int, records: list[tuple], scope: Scope, methods: MethodDescriptions,  # type: ignore[type-arg]
) -> StoredChanges:
    """Make the stored rows in ``scope`` equal ``records`` (rows.COLUMNS order: every row the scope should have),
    storing first the shared descriptions (``methods``) they name."""
    forget(session, org_id)
    await store_methods(session, methods)
    await stage_by_copy(session, "assessment_batch", COLUMNS, records)
    full, scope_indicator, scope_period = scope.as_arrays()
    if full:
        result = await session.exec(_MERGE.bindparams(org_id=org_id, full=full, scope_indicator=scope_indicator, scope_period=scope_period))
    else:
        result = await session.exec(_MERGE_BY_KEY.bindparams(org_id=org_id, scope_indicator=scope_indicator, scope_period=scope_period))
    updated, inserted, deleted = result.one()
    return StoredChanges(updated, inserted, deleted)
