"""The schema refuses bad data by itself: foreign keys, unique keys and check constraints."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.db.session import AccessContext

BAD_ROWS = [
    # (why it is bad, statement)
    ("unknown organisation kind", "insert into organisation (code, name, kind, nation, is_tenant) values ('ZZ1', 'Z', 'hospital', 'England', false)"),
    ("duplicate organisation code", "insert into organisation (code, name, kind, nation, is_tenant) values ('RXW', 'Again', 'trust', 'England', false)"),
    ("contract with itself", "insert into contract (commissioner_id, provider_id, annual_value, services, strategically_important) select id, id, 1, '{}', false from organisation where code = 'RXW'"),
    ("negative contract value", "insert into contract (commissioner_id, provider_id, annual_value, services, strategically_important) select a.id, b.id, -5, '{}', false from organisation a, organisation b where a.code = 'RWD' and b.code = 'RXW'"),
    ("role assignment with two scopes", "insert into role_assignment (user_id, role, org_id, system_id, granted_at) select u.id, 'viewer', o.id, s.id, now() from app_user u, organisation o, health_system s limit 1"),
    ("email without @", "insert into app_user (email, name, is_active, failed_logins, created_at) values ('nobody', 'N', true, 0, now())"),
]


@pytest.mark.parametrize("why,statement", BAD_ROWS, ids=[row[0] for row in BAD_ROWS])
async def test_directory_tables_refuse_bad_rows(database, why, statement):
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            await session.exec(text(statement))


def _measurement(org_id: int, indicator_id: int, unit_id: int, **overrides) -> dict:
    row = {"org_id": org_id, "indicator_id": indicator_id, "unit_id": unit_id, "period": dt.date(2020, 1, 1),
           "value": 1, "numerator": None, "denominator": None, "status": "provisional", "source": "test", "revision": 1}
    row.update(overrides)
    return row


BAD_MEASUREMENTS = [
    ("value and fraction together", {"numerator": 1, "denominator": 2}),
    ("zero denominator", {"value": None, "numerator": 1, "denominator": 0}),
    ("unknown status", {"status": "final"}),
    ("revision zero", {"revision": 0}),
]


@pytest.mark.parametrize("why,overrides", BAD_MEASUREMENTS, ids=[row[0] for row in BAD_MEASUREMENTS])
async def test_measurements_refuse_bad_shapes(database, org_ids, why, overrides):
    org_id = org_ids["RWD"]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        indicator_id, unit_id = (await session.exec(text(
            "select i.id, u.id from indicator i, org_unit u where i.org_id = :o and u.org_id = :o limit 1"), params={"o": org_id})).one()
    with pytest.raises(IntegrityError):
        async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
            await session.exec(text(
                "insert into measurement (org_id, indicator_id, unit_id, period, value, numerator, denominator, status, source, revision, recorded_at)"
                " values (:org_id, :indicator_id, :unit_id, :period, :value, :numerator, :denominator, :status, :source, :revision, now())"),
                params=_measurement(org_id, indicator_id, unit_id, **overrides))


async def test_measurement_cannot_point_at_another_organisations_unit(database, org_ids):
    """The composite foreign key (org_id, unit_id) keeps a row inside one organisation."""
    ulht, sath = org_ids["RWD"], org_ids["RXW"]
    access = AccessContext.for_orgs([ulht, sath], write=True)
    async with database.session(access) as session:
        indicator_id = (await session.exec(text("select id from indicator where org_id = :o limit 1"), params={"o": ulht})).scalar_one()
        foreign_unit = (await session.exec(text("select id from org_unit where org_id = :o limit 1"), params={"o": sath})).scalar_one()
    with pytest.raises(IntegrityError):
        async with database.session(access) as session:
            await session.exec(text(
                "insert into measurement (org_id, indicator_id, unit_id, period, value, status, source, revision, recorded_at)"
                " values (:org, :i, :u, '2020-01-01', 1, 'provisional', 'test', 1, now())"), params={"org": ulht, "i": indicator_id, "u": foreign_unit})


# A replaced measurement leaves its old version in measurement_revision (the trigger of migration 0030).
_REPLACE_ONE = ("update measurement set value = value + 1, revision = revision + 1"
                " where id = (select min(id) from measurement where org_id = :o and value is not null)")


@pytest.mark.parametrize("statement", ["update measurement_revision set value = 0 where org_id = :o",
                                       "delete from measurement_revision where org_id = :o",
                                       "delete from audit_event where org_id = :o"])
async def test_history_is_append_only_even_with_write_access(database, org_ids, statement):
    org_id = org_ids["RWD"]
    with pytest.raises(DBAPIError) as refused:
        async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
            assert (await session.exec(text(_REPLACE_ONE), params={"o": org_id})).rowcount == 1
            await session.exec(text(statement), params={"o": org_id})
    assert "append-only" in str(refused.value) or "permission denied" in str(refused.value)  # the trigger, or no grant at all


@pytest.mark.parametrize("table", ["measurement", "measurement_revision", "assessment"])
async def test_rows_naming_no_organisation_are_refused_without_a_direct_key(database, org_ids, table):
    """These tables keep no foreign key of their own to organisation (migration 0024): the composite
    key to an indicator, or to a measurement, of the same organisation refuses an org_id that names none."""
    ulht = org_ids["RWD"]
    nowhere = 2_000_000_000
    async with database.session(AccessContext.for_orgs([ulht])) as session:
        columns = [name for name, in (await session.exec(text(
            "select column_name from information_schema.columns where table_schema = 'public' and table_name = :t"
            " and column_name not in ('id', 'org_id') order by ordinal_position"), params={"t": table})).all()]
    listed = ", ".join(columns)
    with pytest.raises(IntegrityError) as refused:
        async with database.session(AccessContext.for_orgs([ulht, nowhere], write=True)) as session:
            if table == "measurement_revision":  # a replaced value leaves a revision to copy (rolled back with the rest)
                assert (await session.exec(text(_REPLACE_ONE), params={"o": ulht})).rowcount == 1
            assert (await session.exec(text(f"select count(*) from {table} where org_id = :o"), params={"o": ulht})).scalar_one() > 0
            await session.exec(text(
                f"insert into {table} (org_id, {listed}) select cast(:nowhere as int), {listed} from {table} where org_id = :o limit 1"),
                params={"nowhere": nowhere, "o": ulht})
    assert "violates foreign key constraint" in str(refused.value)


@pytest.mark.parametrize("table", ["measurement", "measurement_revision", "assessment"])
async def test_no_index_is_served_by_another(database, table):
    """Every row written maintains every index: on the tables written in millions no index may be a
    plain (non-unique, non-partial) index whose columns begin another index of the table (migration 0029)."""
    async with database.owner_engine.connect() as connection:
        indexes = (await connection.execute(text(
            """
            select c.relname, i.indisunique, i.indpred is not null,
                   array(select a.attname from unnest(i.indkey) with ordinality k(attnum, n)
                         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.n)
            from pg_index i join pg_class c on c.oid = i.indexrelid
            where i.indrelid = cast(:table as regclass)
            """), {"table": table})).all()
    assert len(indexes) >= 2
    served = [
        (name, other) for name, unique, partial, columns in indexes if not unique and not partial
        for other, _, other_partial, other_columns in indexes
        if other != name and not other_partial and len(other_columns) > len(columns) and other_columns[:len(columns)] == columns
    ]
    assert served == []
