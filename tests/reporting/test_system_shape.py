"""The system position's shaping reads the statement's rows by position and rates each member from
columns: it must agree with the object path (an IndicatorStatus and a SpectrumInput per indicator)
on every mix of values, targets, polarities and verdicts."""
from __future__ import annotations

import datetime as dt
import itertools
import random

from server.reporting.spectrum import SpectrumInput, rate_spectrum
from server.reporting.status import LATEST_STATUS_COLUMNS
from server.reporting.system import (
    CODE, COHORT, DOMAIN_CODE, DOMAIN_NAME, FREQUENCY, INDICATOR_ID, IS_KEY, MATURITY_LEVEL, NAME, ORG_CODE, ORG_ID, ORG_NAME, PERIOD,
    POLARITY, STATUS_START, TARGET, UNIT, VALUE, VARIATION, SystemRecord, _PositionRow, shape_position, _status,
)
from tests.reporting.test_spectrum import stw_rules

VARIATIONS = ("common_cause", "special_cause_improving", "special_cause_concerning", "special_cause_neutral", "none", None)
POLARITIES = ("higher_is_better", "lower_is_better", "neutral")


def test_the_column_positions_are_the_rows_fields():
    fields = _PositionRow._fields
    positions = {"org_id": ORG_ID, "org_code": ORG_CODE, "org_name": ORG_NAME, "maturity_level": MATURITY_LEVEL, "code": CODE,
                 "name": NAME, "unit": UNIT, "polarity": POLARITY, "frequency": FREQUENCY, "is_key": IS_KEY, "domain_code": DOMAIN_CODE,
                 "domain_name": DOMAIN_NAME, "cohort": COHORT, "indicator_id": INDICATOR_ID, "period": PERIOD, "value": VALUE,
                 "target": TARGET, "variation": VARIATION}
    assert all(fields[position] == name for name, position in positions.items())
    assert STATUS_START == PERIOD


def _rows(rng: random.Random, org_id: int, count: int) -> list[_PositionRow]:
    maturity = rng.choice((None, 2, 4))
    if not count:  # a member without indicators: one row, its indicator columns empty
        head = (org_id, f"O{org_id}", f"Organisation {org_id}", None, maturity, None)
        return [_PositionRow(*head, *([None] * (len(_PositionRow._fields) - len(head))))]
    rows = []
    for n in range(count):
        assessed = rng.random() > 0.1
        value = None if not assessed or rng.random() < 0.1 else round(rng.uniform(0, 100), 1)
        target = None if rng.random() < 0.25 else round(rng.uniform(0, 100), 1)
        if value is not None and target is not None and rng.random() < 0.1:
            target = value  # exactly on target: meets, does not exceed
        domain = rng.choice(("uec", "cancer", "finance"))
        rows.append(_PositionRow(
            org_id, f"O{org_id}", f"Organisation {org_id}", None, maturity, None, f"I{n}", f"Indicator {n}", "percent",
            rng.choice(POLARITIES), "monthly", rng.random() < 0.6, domain, domain.title(), None, org_id * 1000 + n,
            dt.date(2026, 10, 1) if assessed else None, value, target, None, rng.choice(("red", "amber", "green", "none")),
            rng.choice(VARIATIONS) if assessed else None, None, "none" if assessed else None, 0 if assessed else None,
            False if assessed else None, False if assessed else None,
        ))
    return rows


def test_each_members_spectrum_from_columns_is_the_object_paths():
    rng = random.Random(9)
    for rules, trial in itertools.product((None, stw_rules()), range(40)):
        members = (1, 2, 3)
        rows = [row for org_id in members for row in _rows(rng, org_id, rng.choice((0, *range(1, 30))))]
        system = SystemRecord(id=1, code="S", name="System", organisation_id=1, member_ids=members)
        position = shape_position(system, rows, None, dict.fromkeys(members, rules))
        for member in position.members:
            own = [row for row in rows if row.org_code == member.code and row.code is not None]
            head = next(row for row in rows if row.org_code == member.code)
            expected = rate_spectrum([SpectrumInput(row.domain_name, row.is_key, row.polarity, _status(row)) for row in own], rules,
                                     maturity_level=head.maturity_level)
            assert member.spectrum == expected, (rules is not None, trial, member.code)
        # The matrix shows every key indicator with the status the object path reads.
        cells = {cell.indicator_id: cell.status for row in position.rows for cell in row.cells if cell is not None}
        assert cells == {row.indicator_id: _status(row) for row in rows if row.code is not None and row.is_key}


async def test_a_neutral_verdicts_side_is_read_from_the_stored_points_as_the_document_gives_it(database, org_ids):
    """LATEST_STATUS_COLUMNS reads the deciding point's side as one byte of the stored SPC points: the
    direction the whole evidence document gives that point, on every stored latest assessment of the
    demo data, neutral or not."""
    from sqlalchemy import text

    from server.assessment_store.points import with_points
    from server.db.session import AccessContext

    read = "get_byte(a.spc_points, (a.evidence #>> '{spc,variation,from_point}')::int) - 1"
    assert read in LATEST_STATUS_COLUMNS
    async with database.session(AccessContext.for_orgs(list(org_ids.values()))) as session:
        rows = (await session.exec(text(f"select {read}, a.evidence, a.spc_points from assessment a where a.is_latest"))).all()
    directions = []
    for _, evidence, points in rows:
        spc = with_points(evidence, points).get("spc") or {}
        deciding = spc.get("variation", {}).get("from_point")
        directions.append(None if deciding is None else spc["points"][deciding]["direction"])
    assert len(rows) > 100 and any(direction for direction in directions)
    assert [row[0] for row in rows] == directions
