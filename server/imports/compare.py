"""What an import would change: each line is new, changed or the same as what is stored."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.imports.framework import Framework
from server.imports.lines import Line

STORED_PLACES = Decimal("0.000001")  # NUMERIC(18, 6)


@dataclass
class IndicatorChange:
    code: str
    name: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Comparison:
    changes: list[IndicatorChange]  # per indicator, in the tenant file's order
    to_store: list[Line]  # new and changed lines only: a re-import stores nothing new


def _stored(number: Decimal | None) -> Decimal | None:
    return None if number is None else number.quantize(STORED_PLACES)


async def compare(session: AsyncSession, framework: Framework, lines: list[Line]) -> Comparison:
    indicator_ids = sorted({framework.indicators[line.indicator_code].id for line in lines})
    periods = sorted({line.period for line in lines})
    stored: dict[tuple[int, int, object], tuple[Decimal | None, ...]] = {}
    if lines:
        rows = await session.exec(text(
            "select indicator_id, unit_id, period, value, numerator, denominator from measurement"
            " where org_id = :o and indicator_id = any(:indicators) and period = any(:periods)"),
            params={"o": framework.org_id, "indicators": indicator_ids, "periods": periods})
        stored = {(row[0], row[1], row[2]): (row[3], row[4], row[5]) for row in rows.all()}
    by_code: dict[str, IndicatorChange] = {}
    to_store = []
    for line in lines:
        indicator = framework.indicators[line.indicator_code]
        change = by_code.setdefault(line.indicator_code, IndicatorChange(indicator.code, indicator.name))
        before = stored.get((indicator.id, framework.units[line.unit_code].id, line.period))
        after = (_stored(line.value), _stored(line.numerator), _stored(line.denominator))
        if before is None:
            change.new += 1
            to_store.append(line)
        elif tuple(_stored(number) for number in before) != after:
            change.changed += 1
            to_store.append(line)
        else:
            change.unchanged += 1
    order = list(framework.indicators)
    return Comparison(sorted(by_code.values(), key=lambda change: order.index(change.code)), to_store)
