"""Reading judgements: the current one of each kind about each subject, its history, and subjects' names.

"Current" is the newest judgement of the kind about the subject recorded at or before the moment
asked about, unless it is a withdrawal or has expired by then (an expired judgement is not replaced
by the one it superseded: it lapsed). ``run_started_at`` is when the subject's judgement last took
its present value without a break, which is what a clock counts from.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.judgements.kinds import value_word
from server.tenants.spec import TenantFile


@dataclass(frozen=True)
class CurrentJudgement:
    id: int
    kind: str
    subject_type: str
    subject_key: str
    subject_name: str
    value: bool | str
    reason: str
    recorded_by_name: str
    recorded_role: str
    recorded_at: dt.datetime
    expires_at: dt.datetime | None
    run_started_at: dt.datetime

    @property
    def value_word(self) -> str:
        return value_word(self.value)


# One statement: the newest row per (subject, kind) as at :at, with the start of its unbroken run of
# the same value (a withdrawal, another value, or a lapse before the next row breaks a run).
_CURRENT = text(
    """
    select id, kind, subject_type, subject_key, subject_name, value, withdrawn, reason, recorded_by_name, recorded_role,
           recorded_at, expires_at, run_started_at
    from (
      select marked.*, max(case when breaks then recorded_at end)
               over (partition by subject_key, kind order by recorded_at, id rows unbounded preceding) as run_started_at
      from (
        select j.*, (
          lag(j.id) over run is null or j.withdrawn or lag(j.withdrawn) over run
          or lag(j.value) over run is distinct from j.value or lag(j.expires_at) over run <= j.recorded_at
        ) as breaks
        from judgement j
        where j.org_id = :org and j.recorded_at <= :at and (cast(:keys as text[]) is null or j.subject_key = any(cast(:keys as text[])))
          and (cast(:kinds as text[]) is null or j.kind = any(cast(:kinds as text[])))
        window run as (partition by j.subject_key, j.kind order by j.recorded_at, j.id)
      ) marked
    ) runs
    order by subject_key, kind, recorded_at desc, id desc
    """
)


async def current_judgements(
    session: AsyncSession, org_id: int, *, at: dt.datetime, subject_keys: Sequence[str] | None = None, kinds: Sequence[str] | None = None,
) -> list[CurrentJudgement]:
    """The judgements in force at ``at``, one per kind and subject (optionally only these subjects and kinds)."""
    rows = (await session.exec(_CURRENT, params={
        "org": org_id, "at": at, "keys": list(subject_keys) if subject_keys is not None else None,
        "kinds": list(kinds) if kinds is not None else None,
    })).all()
    latest: dict[tuple[str, str], object] = {}
    for row in rows:
        latest.setdefault((row.subject_key, row.kind), row)  # ordered newest first within each pair
    return [
        CurrentJudgement(row.id, row.kind, row.subject_type, row.subject_key, row.subject_name, row.value, row.reason,  # type: ignore[attr-defined]
                         row.recorded_by_name, row.recorded_role, row.recorded_at, row.expires_at, row.run_started_at)  # type: ignore[attr-defined]
        for row in latest.values()
        if not row.withdrawn and (row.expires_at is None or row.expires_at > at)  # type: ignore[attr-defined]
    ]


def declared(judgements: Sequence[CurrentJudgement], framework: TenantFile | None) -> list[CurrentJudgement]:
    """Only judgements whose kind the tenant file still declares about that type of subject."""
    kinds = framework.judgements if framework else {}
    return [j for j in judgements if j.kind in kinds and j.subject_type in kinds[j.kind].subjects]


async def latest_row_id(session: AsyncSession, org_id: int, subject_key: str, kind: str) -> int | None:
    """The newest judgement of this kind about the subject, in force or not (the one a new record supersedes)."""
    return (await session.exec(text(
        "select id from judgement where org_id = :org and subject_key = :key and kind = :kind order by recorded_at desc, id desc limit 1"
    ), params={"org": org_id, "key": subject_key, "kind": kind})).scalar_one_or_none()


_SUBJECT_NAME = {
    "indicator": "select name from indicator where org_id = :org and code = :code",
    "unit": "select name from org_unit where org_id = :org and code = :code",
    "domain": "select name from domain where org_id = :org and code = :code",
    "organisation": "select name from organisation where id = :org and code = :code",
    "contract": ("select coalesce(p.name, p.code) from contract c join organisation p on p.id = c.provider_id"
                 " where c.commissioner_id = :org and p.code = :code"),
    "plan": "select title from improvement_plan where org_id = :org and id::text = :code",
}


async def subject_name(session: AsyncSession, org_id: int, framework: TenantFile, subject_key: str) -> tuple[str, str] | None:
    """(subject type, name) of a subject of this organisation, or None if it has no such subject."""
    subject_type, _, code = subject_key.partition(":")
    if not code:
        return None
    if subject_type == "programme":
        programme = next((p for p in getattr(framework, "programmes", []) if p.code == code), None)
        return (subject_type, programme.name) if programme else None
    statement = _SUBJECT_NAME.get(subject_type)
    if statement is None:
        return None
    name = (await session.exec(text(statement), params={"org": org_id, "code": code})).scalar_one_or_none()
    return (subject_type, f"Contract with {name}" if subject_type == "contract" else name) if name else None
