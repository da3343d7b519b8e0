"""Store derived assessments by difference: only rows whose content changed are written.

A submission re-derives every series of the indicators it touched, but a new value at one ward
changes a handful of rows (that ward, its parents, the latest-row flags), and a full recompute after
no change changes none. The derived rows are staged by COPY, then one statement updates the rows
that differ, inserts the new ones and deletes the ones no longer derived (e.g. a removed period).
``computed_at`` is left alone on rows whose content is unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.staging import stage_by_copy

COLUMNS = (
    ("org_id", "int"), ("indicator_id", "int"), ("unit_id", "int"), ("period", "date"), ("value", "float8"), ("target", "float8"),
    ("trajectory", "float8"), ("rag", "text"), ("variation", "text"), ("assurance", "text"), ("periods_under_target", "int"),
    ("failure_forecast", "bool"), ("masked_failure", "bool"), ("is_latest", "bool"), ("evidence", "jsonb"), ("rule_set", "text"),
    ("computed_at", "timestamptz"),
)
_KEY = ("org_id", "indicator_id", "unit_id", "period")
_CONTENT = [name for name, _ in COLUMNS if name not in _KEY and name != "computed_at"]
_NAMES = ", ".join(name for name, _ in COLUMNS)
# unit_id null is the organisation level; real unit ids are positive, so 0 stands for it in joins.
_SAME_KEY = "{a}.indicator_id = {b}.indicator_id and coalesce({a}.unit_id, 0) = coalesce({b}.unit_id, 0) and {a}.period = {b}.period"

_MERGE = text(f"""
    with updated as (
        update assessment a set {', '.join(f'{name} = b.{name}' for name in _CONTENT)}, computed_at = b.computed_at
        from assessment_batch b
        where a.org_id = :org_id and a.indicator_id = any(cast(:indicator_ids as int[])) and {_SAME_KEY.format(a='a', b='b')}
          and ({', '.join(f'a.{name}' for name in _CONTENT)}) is distinct from ({', '.join(f'b.{name}' for name in _CONTENT)})
        returning 1
    ),
    inserted as (
        insert into assessment ({_NAMES})
        select {_NAMES} from assessment_batch b
        where not exists (select 1 from assessment a where a.org_id = :org_id and a.indicator_id = any(cast(:indicator_ids as int[]))
                          and {_SAME_KEY.format(a='a', b='b')})
        returning 1
    ),
    deleted as (
        delete from assessment a
        where a.org_id = :org_id and a.indicator_id = any(cast(:indicator_ids as int[]))
          and not exists (select 1 from assessment_batch b where {_SAME_KEY.format(a='a', b='b')})
        returning 1
    )
    select (select count(*) from updated), (select count(*) from inserted), (select count(*) from deleted)
""")


@dataclass(frozen=True)
class StoredChanges:
    updated: int
    inserted: int
    deleted: int


async def store_assessments(session: AsyncSession, org_id: int, indicator_ids: list[int], rows: list[dict]) -> StoredChanges:
    """Make the stored assessments of these indicators equal ``rows`` (every row they should have)."""
    # orjson: the evidence documents are most of the bytes (about 30 kB per series), json.dumps most of the encoding time.
    records = [
        tuple(orjson.dumps(row[name], option=orjson.OPT_SERIALIZE_NUMPY).decode() if name == "evidence" else row[name] for name, _ in COLUMNS)
        for row in rows
    ]
    await stage_by_copy(session, "assessment_batch", COLUMNS, records)
    updated, inserted, deleted = (await session.exec(_MERGE.bindparams(org_id=org_id, indicator_ids=indicator_ids))).one()
    return StoredChanges(updated, inserted, deleted)
