"""Evidence indexes read as periods; the CSV export refuses spreadsheet formulas."""
from __future__ import annotations

import csv
import datetime as dt
import io

from server.reporting.export import CSV_HEADER, scorecard_csv
from server.reporting.periods import PeriodIndex, add_periods
from server.reporting.scorecard import AtAGlance, DomainSection, IndicatorRef, Scorecard, ScorecardRow


def test_period_index_steps_the_frequency_across_gaps_and_beyond_the_last_point():
    index = PeriodIndex({0: dt.date(2025, 11, 1), 1: dt.date(2025, 12, 1), 4: dt.date(2026, 3, 1)})
    assert index.label(2) == "Jan 2026"
    assert index.label(6) == "May 2026"  # a forecast two periods ahead
    assert index.ranges([0, 1, 2, 4]) == "Nov 2025 to Jan 2026, Mar 2026"
    assert add_periods(dt.date(2026, 1, 5), 2, "weekly") == dt.date(2026, 1, 19)
    assert add_periods(dt.date(2026, 1, 1), 1, "quarterly") == dt.date(2026, 4, 1)


def test_csv_prefixes_text_that_a_spreadsheet_would_run_as_a_formula():
    indicator = IndicatorRef(1, "X1", "=HYPERLINK(\"http://evil\")", "count", "higher_is_better", "monthly", True, None)
    scorecard = Scorecard("ORG", "Org", None, (), (), (DomainSection("d", "+Domain", (ScorecardRow(indicator, None, ()),)),),
                          AtAGlance((), (), (), ()))
    rows = list(csv.reader(io.StringIO(scorecard_csv(scorecard))))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1][5].startswith("'=") and rows[1][3] == "'+Domain"


async def test_the_reported_months_read_from_the_latest_are_the_months_read_from_every_period(database, org_ids):
    """The month selector's choices read from 23 months before the latest period equal those read
    from every stored period, at every organisation and unit, for any number of choices (a short
    history, or fewer months than asked for, falls back to every period)."""
    from server.db.session import AccessContext
    from server.reporting.scorecard import organisation_scorecard, reported_months
    from server.reporting.structure import organisation_tree

    compared = 0
    async with database.session(AccessContext.for_orgs(org_ids.values())) as session:
        for code, org_id in org_ids.items():
            tree = await organisation_tree(session, code)
            for unit in [None, *tree.units[:3]]:
                unit_code = None if unit is None else unit.code
                scorecard = await organisation_scorecard(session, tree, unit_code=unit_code)
                unit_id = None if scorecard.is_organisation_level or scorecard.unit is None else scorecard.unit.id
                for limit in (3, 24, 200):
                    everything = await reported_months(session, org_id, unit_id, limit=limit)
                    assert await reported_months(session, org_id, unit_id, limit=limit, latest=scorecard.latest_period) == everything
                    early = add_periods(scorecard.latest_period, -5, "monthly") if scorecard.latest_period else None
                    assert await reported_months(session, org_id, unit_id, limit=limit, latest=early) == everything  # an earlier 'latest'
                    compared += len(everything)
    assert compared > 500
