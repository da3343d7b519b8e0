"""Separation of duties in data validation: where a tenant's framework says so, the person who entered
a value may not also validate it (ULHT PMF: divisions submit, the Performance Team validates).

A row sent as ``validated`` is refused when the sender is entering that value now (no stored value, or a
different one) or entered the stored value. One statement reads the stored values of every such row.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.measurements.checks import CleanRow, RowProblem

_STORED = text(
    "select m.indicator_id, m.unit_id, m.period, m.value, m.numerator, m.denominator, m.recorded_by"
    " from measurement m join unnest(cast(:indicators as int[]), cast(:units as int[]), cast(:periods as date[])) as k(i, u, p)"
    " on m.indicator_id = k.i and m.unit_id = k.u and m.period = k.p where m.org_id = :org"
)
_REQUIRED = text(
    "select coalesce((spec #>> '{data_validation,separate_from_submission}')::boolean, false) from tenant_framework where org_id = :org"
)
_SIX_PLACES = Decimal("0.000001")


async def separation_problems(session: AsyncSession, org_id: int, user_id: int | None, rows: list[CleanRow]) -> list[RowProblem]:
    """Rows this person may not mark validated under the tenant's separation of duties (row numbers count from 1)."""
    validated = [(number, row) for number, row in enumerate(rows, start=1) if row.status == "validated"]
    if not validated or user_id is None:
        return []
    if not (await session.exec(_REQUIRED, params={"org": org_id})).scalar():
        return []
    stored = {
        (i, u, p): ((value, numerator, denominator), recorded_by)
        for i, u, p, value, numerator, denominator, recorded_by in (await session.exec(_STORED, params={
            "org": org_id, "indicators": [r.indicator_id for _, r in validated], "units": [r.unit_id for _, r in validated],
            "periods": [r.period for _, r in validated],
        })).all()
    }
    problems = []
    for number, row in validated:
        found = stored.get((row.indicator_id, row.unit_id, row.period))
        if found is None or _figures(found[0]) != _figures((row.value, row.numerator, row.denominator)):
            problems.append(RowProblem(number, "status", "you are entering this value, so someone else must validate it (the framework"
                                                         " separates entering data from validating it); send it as 'provisional'"))
        elif found[1] == user_id:
            problems.append(RowProblem(number, "status", "you entered this value, so someone else must validate it (the framework"
                                                         " separates entering data from validating it)"))
    return problems


def _figures(figures: tuple[Decimal | None, ...]) -> tuple[Decimal | None, ...]:
    return tuple(None if figure is None else Decimal(figure).quantize(_SIX_PLACES) for figure in figures)
