"""Record measurements: every row checked first, then all stored or none; resubmissions keep history.

Two people submitting the same indicator x unit x period at once both land: the upsert takes the
row lock, the second waits, and each change becomes its own numbered revision. Sending a value that
is already stored changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.measurements.checks import Catalogue, IndicatorRef, RowProblem, check_ids, check_submission, control_character_problem
from server.measurements.separation import separation_problems
from server.measurements.store import RecordedMeasurement, store_measurements

__all__ = ["MeasurementItem", "RecordOutcome", "RecordedMeasurement", "RowProblem", "read_catalogue", "record_measurements"]


@dataclass(frozen=True)
class MeasurementItem:
    indicator_code: str
    unit_code: str
    period: dt.date | str
    value: float | str | None = None
    numerator: float | str | None = None
    denominator: float | str | None = None
    status: str = "provisional"


@dataclass(frozen=True)
class RecordOutcome:
    recorded: list[RecordedMeasurement]  # one per submitted row, in order
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> list[RecordedMeasurement]:
        return [r for r in self.recorded if r.changed]


async def record_measurements(
    session: AsyncSession, *, org_id: int, user_id: int | None, items: list[MeasurementItem], source: str = "manual",
    reason: str | None = None, actor_role: str | None = None, ip: str | None = None, may_validate: bool = False,
) -> RecordOutcome:
    """Store every row or none. Only a caller holding ``measurement validate`` may send ``may_validate=True``.

    ``actor_role`` and ``ip`` default to what the request's access context knows.
    """
    problems = check_ids(organisation=org_id, user=user_id)
    if problem := control_character_problem(source):
        problems.append(RowProblem(0, "source", problem))
    if problems:
        return RecordOutcome(recorded=[], problems=problems)
    rows, problems = check_submission(items, await read_catalogue(session, org_id), may_validate=may_validate, reason=reason)
    if not problems and may_validate:
        problems = await separation_problems(session, org_id, user_id, rows)
    if problems:
        return RecordOutcome(recorded=[], problems=problems)
    recorded = await store_measurements(session, org_id=org_id, user_id=user_id, source=source, reason=reason, rows=rows)
    changed = [r for r in recorded if r.changed]
    await record_event(
        session, action="measurements.recorded", object_type="measurement", org_id=org_id, actor_user_id=user_id,
        actor_role=actor_role, ip=ip, after={"count": len(changed), "unchanged": len(recorded) - len(changed), "source": source,
                                             "periods": sorted({r.period.isoformat() for r in changed}),
                                             "revisions": [[r.measurement_id, r.revision] for r in changed[:200]]},
    )
    return RecordOutcome(recorded=recorded, problems=[])


async def read_catalogue(session: AsyncSession, org_id: int) -> Catalogue:
    """The organisation's indicators, units and leaf units, read once per submission."""
    indicators = (await session.exec(
        text("select id, code, name, unit, rollup, frequency, from_members is not null from indicator where org_id = :org"),
        params={"org": org_id})).all()
    units = (await session.exec(text(
        "select u.id, u.code, not exists (select 1 from org_unit c where c.parent_id = u.id) from org_unit u where u.org_id = :org"),
        params={"org": org_id})).all()
    return Catalogue(
        indicators={row[1]: IndicatorRef(*row) for row in indicators},
        units={code: unit_id for unit_id, code, _ in units},
        leaf_unit_ids=frozenset(unit_id for unit_id, _, is_leaf in units if is_leaf),
    )
