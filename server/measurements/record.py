"""Record measurements: every row checked first, then all stored or none; resubmissions keep history.

Two people submitting the same indicator x unit x period at once both land: the upsert takes the
row lock, the second waits, and each becomes its own numbered revision.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from server.audit.trail import record_event
from server.db.models import Indicator, Measurement, MeasurementRevision, OrgUnit
from server.db.models.measurements import STATUSES


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
class RowProblem:
    row: int  # 1-based, as a person counts rows
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass(frozen=True)
class RecordedMeasurement:
    measurement_id: int
    indicator_id: int
    unit_id: int
    period: dt.date
    revision: int


@dataclass(frozen=True)
class RecordOutcome:
    recorded: list[RecordedMeasurement]
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Clean:
    indicator: Indicator
    unit_id: int
    period: dt.date
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    status: str


async def record_measurements(
    session: AsyncSession, *, org_id: int, user_id: int | None, items: list[MeasurementItem], source: str = "manual",
    reason: str | None = None, actor_role: str | None = None, ip: str | None = None,
) -> RecordOutcome:
    """Store every row or none. ``actor_role`` and ``ip`` default to what the request's access context knows."""
    indicators = {i.code: i for i in (await session.exec(select(Indicator).where(Indicator.org_id == org_id))).scalars()}
    units = {u.code: u.id for u in (await session.exec(select(OrgUnit).where(OrgUnit.org_id == org_id))).scalars()}
    leaf_units = await _leaf_unit_ids(session, org_id)
    problems: list[RowProblem] = []
    clean: list[_Clean] = []
    seen: set[tuple[int, int, dt.date]] = set()
    for row, item in enumerate(items, start=1):
        before = len(problems)
        checked = _check_item(row, item, indicators, units, leaf_units, problems)
        if checked is None or len(problems) > before:
            continue
        key = (checked.indicator.id, checked.unit_id, checked.period)
        if key in seen:
            problems.append(RowProblem(row, "period", "the same indicator, unit and period appears twice in this submission"))
            continue
        seen.add(key)
        clean.append(checked)
    if problems:
        return RecordOutcome(recorded=[], problems=problems)
    recorded = [await _upsert(session, org_id, user_id, source, reason, item) for item in clean]
    await record_event(
        session, action="measurements.recorded", object_type="measurement", org_id=org_id, actor_user_id=user_id,
        actor_role=actor_role, ip=ip, after={"count": len(recorded), "source": source, "periods": sorted({r.period.isoformat() for r in recorded}),
               "revisions": [[r.measurement_id, r.revision] for r in recorded][:200]},
    )
    return RecordOutcome(recorded=recorded, problems=[])


def _check_item(row, item, indicators, units, leaf_units, problems) -> _Clean | None:  # type: ignore[no-untyped-def]
    indicator = indicators.get(item.indicator_code)
    if indicator is None:
        problems.append(RowProblem(row, "indicator", f"'{item.indicator_code}' is not an indicator of this organisation"))
        return None
    unit_id = units.get(item.unit_code)
    if unit_id is None:
        problems.append(RowProblem(row, "unit", f"'{item.unit_code}' is not a unit of this organisation"))
        return None
    if unit_id not in leaf_units and indicator.rollup != "none":
        # DOMAIN 4.2: measures are recorded at the lowest level and rolled up, never entered twice.
        problems.append(RowProblem(row, "unit", f"'{item.unit_code}' has units below it; record at the lowest level"))
    period = _parse_period(row, item.period, problems)
    if period is not None and indicator.frequency == "monthly" and period.day != 1:
        problems.append(RowProblem(row, "period", "monthly indicators take the first day of the month, e.g. 2026-04-01"))
    if period is not None and period > dt.date.today():
        problems.append(RowProblem(row, "period", "is in the future"))
    if item.status not in STATUSES:
        problems.append(RowProblem(row, "status", f"must be one of {', '.join(STATUSES)}"))
    value = _parse_number(row, "value", item.value, problems)
    numerator = _parse_number(row, "numerator", item.numerator, problems)
    denominator = _parse_number(row, "denominator", item.denominator, problems)
    if indicator.rollup == "rate":
        if numerator is None or denominator is None or value is not None:
            problems.append(RowProblem(row, "value", f"'{indicator.code}' is a rate: give numerator and denominator, not value"))
        elif denominator <= 0:
            problems.append(RowProblem(row, "denominator", "must be greater than zero"))
        elif numerator < 0 or numerator > denominator and indicator.unit == "percent":
            problems.append(RowProblem(row, "numerator", "must be between 0 and the denominator"))
    else:
        if value is None or numerator is not None or denominator is not None:
            problems.append(RowProblem(row, "value", f"'{indicator.code}' takes a single value"))
        elif indicator.unit == "percent" and not (0 <= value <= 1):
            problems.append(RowProblem(row, "value", "a percentage is given as a fraction between 0 and 1 (0.95 = 95%)"))
        elif indicator.unit in ("count", "minutes", "hours", "days", "weeks") and value < 0:
            problems.append(RowProblem(row, "value", "cannot be negative"))
    if period is None:
        return None
    return _Clean(indicator, unit_id, period, value, numerator, denominator, item.status)


def _parse_period(row: int, raw: dt.date | str, problems: list[RowProblem]) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        problems.append(RowProblem(row, "period", f"'{raw}' is not a date like 2026-04-01"))
        return None


def _parse_number(row: int, field: str, raw: float | str | None, problems: list[RowProblem]) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        number = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        problems.append(RowProblem(row, field, f"'{raw}' is not a number"))
        return None
    if not number.is_finite():
        problems.append(RowProblem(row, field, "must be a finite number"))
        return None
    return number


async def _leaf_unit_ids(session: AsyncSession, org_id: int) -> set[int]:
    rows = await session.exec(
        text("select u.id from org_unit u where u.org_id = :org and not exists (select 1 from org_unit c where c.parent_id = u.id)"),
        params={"org": org_id},
    )
    return {row[0] for row in rows.all()}


async def _upsert(session: AsyncSession, org_id: int, user_id: int | None, source: str, reason: str | None, item: _Clean) -> RecordedMeasurement:
    values = {
        "org_id": org_id, "indicator_id": item.indicator.id, "unit_id": item.unit_id, "period": item.period,
        "value": item.value, "numerator": item.numerator, "denominator": item.denominator, "status": item.status,
        "source": source, "recorded_by": user_id, "recorded_at": dt.datetime.now(dt.UTC), "revision": 1,
    }
    statement = insert(Measurement).values(**values)
    statement = statement.on_conflict_do_update(
        constraint="measurement_one_per_period",
        set_={
            "value": statement.excluded.value, "numerator": statement.excluded.numerator,
            "denominator": statement.excluded.denominator, "status": statement.excluded.status,
            "source": statement.excluded.source, "recorded_by": statement.excluded.recorded_by,
            "recorded_at": statement.excluded.recorded_at, "revision": Measurement.revision + 1,
        },
    ).returning(Measurement.id, Measurement.revision)
    measurement_id, revision = (await session.exec(statement)).one()
    session.add(MeasurementRevision(
        org_id=org_id, measurement_id=measurement_id, revision=revision, value=item.value, numerator=item.numerator,
        denominator=item.denominator, status=item.status, source=source, recorded_by=user_id, reason=reason,
    ))
    return RecordedMeasurement(measurement_id, item.indicator.id, item.unit_id, item.period, revision)
