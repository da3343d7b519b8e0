"""A dry run stores nothing; an import stores all; the same file again stores nothing new."""
from __future__ import annotations

from server.db.session import AccessContext
from server.imports.service import import_file
from tests.imports.conftest import sample, stored_count


async def _import(database, org_id, content, filename, *, dry_run=False):  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        return await import_file(session, org_id=org_id, user_id=None, content=content, filename=filename, dry_run=dry_run)


async def test_dry_run_reports_what_would_change_and_stores_nothing(database, org_ids):
    rxw = org_ids["RXW"]
    before = await stored_count(database, rxw, "2024-03-01")
    outcome = await _import(database, rxw, sample("cancer-provider-march-2024.csv"), "cancer.csv", dry_run=True)
    assert outcome.ok and outcome.dry_run
    assert [(c.code, c.new, c.changed, c.unchanged) for c in outcome.changes] == [("CAN62", 1, 0, 0), ("CANFDS", 1, 0, 0)]
    assert outcome.stored == 0
    assert await stored_count(database, rxw, "2024-03-01") == before


async def test_re_importing_the_same_file_stores_nothing_new(database, org_ids):
    sheffield = org_ids["03N"]
    first = await _import(database, sheffield, sample("ae-provider-march-2024.csv"), "ae.csv")
    assert first.ok, first.problems
    assert first.stored == 2 and first.changes[0].new == 2
    revisions = await stored_count(database, sheffield, "2024-03-01")
    again = await _import(database, sheffield, sample("ae-provider-march-2024.csv"), "ae.csv")
    assert again.ok and again.stored == 0
    assert [(c.code, c.new, c.changed, c.unchanged) for c in again.changes] == [("AE4H", 0, 0, 2)]
    assert await stored_count(database, sheffield, "2024-03-01") == revisions


async def test_a_changed_value_keeps_the_old_one_as_a_revision(database, org_ids):
    sheffield = org_ids["03N"]
    text = sample("dm01-provider-march-2024.xlsx")
    first = await _import(database, sheffield, text, "dm01.xlsx")
    assert first.ok and first.stored == 1
    header = "Indicator code,Indicator,Unit code,Unit,Measured as,Period,Value,Numerator,Denominator\n"
    changed = header + "DM01,Diagnostics,03N-PROV-STH,STH,numerator and denominator,2024-03-01,,999,12330\n"
    second = await _import(database, sheffield, changed.encode(), "fix.csv")
    assert second.ok and second.stored == 1 and second.changes[0].changed == 1
    async with database.session(AccessContext.for_orgs([sheffield])) as session:
        from sqlalchemy import text as sql

        revisions = (await session.exec(sql(
            "select r.numerator from measurement_history r join measurement m on m.id = r.measurement_id join indicator i on i.id = m.indicator_id"
            " where m.org_id = :o and i.code = 'DM01' and m.period = '2024-03-01' order by r.revision"), params={"o": sheffield})).scalars().all()
    assert [int(n) for n in revisions] == [640 + 420 + 300 + 210 + 140 + 90 + 60 + 150, 999]
