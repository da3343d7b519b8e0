"""measurement, measurement_revision and assessment are partitioned by year (migration 0020): every
partition is locked as its parent is, an unexpected period lands in the default partition, and the
application keeps next year's partitions ahead."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.db.partitions import PARTITIONED, create_partitions_ahead
from server.measurements.record import MeasurementItem, record_measurements
from tests.db.access import INSUFFICIENT_PRIVILEGE, ids_csv, set_access, sqlstate
from tests.measurements.factories import create_trust

_PARTITIONS = text("""
    select parent.relname, child.relname, child.relrowsecurity, child.relforcerowsecurity,
           has_table_privilege('accord_app', child.oid, 'select'), has_table_privilege('accord_app', child.oid, 'insert'),
           (select array_agg(policyname order by policyname) from pg_policies where tablename = child.relname),
           (select array_agg(policyname order by policyname) from pg_policies where tablename = parent.relname)
    from pg_inherits i join pg_class parent on parent.oid = i.inhparent join pg_class child on child.oid = i.inhrelid
    where parent.relname = any(cast(:parents as text[])) and child.relkind = 'r'
""")


async def test_every_partition_forces_its_parents_policies_and_grants_the_application_nothing(database):
    async with database.owner_engine.connect() as connection:
        partitions = (await connection.execute(_PARTITIONS, {"parents": list(PARTITIONED)})).all()
    assert {parent for parent, *_ in partitions} == set(PARTITIONED)
    this_year = dt.date.today().year
    names = {child for _, child, *_ in partitions}
    assert {f"{table}_{suffix}" for table in PARTITIONED for suffix in ("default", f"y{this_year}", f"y{this_year + 1}")} <= names
    for parent, child, enabled, forced, can_select, can_insert, policies, parent_policies in partitions:
        assert enabled and forced, child
        assert policies == parent_policies and policies, child
        assert not can_select and not can_insert, child


async def test_the_application_role_cannot_read_a_partition_directly(database, org_ids):
    """Through the parent it reads its own organisation's rows; the partition itself refuses it."""
    this_year = dt.date.today().year
    async with database.app_engine.connect() as connection:
        async with connection.begin():
            await set_access(connection, read=ids_csv([org_ids["RXW"]]))
            through_parent = (await connection.execute(text(
                "select array_agg(distinct org_id) from measurement where period >= make_date(:y - 1, 1, 1)"), {"y": this_year})).scalar_one()
            assert through_parent == [org_ids["RXW"]]
        for table in PARTITIONED:
            with pytest.raises(DBAPIError) as refused:
                async with connection.begin():
                    await set_access(connection, read=ids_csv([org_ids["RXW"]]))
                    await connection.execute(text(f"select org_id from {table}_y{this_year - 1} limit 1"))
            assert sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE


async def test_a_partition_read_directly_by_its_owner_still_shows_only_the_organisations_in_the_context(database, org_ids):
    """Row-level security is forced on the partition itself, not only on the parent: even the
    owner (which runs migrations) reading a partition sees the rows of the organisations it is given."""
    last_year = dt.date.today().year - 1
    async with database.owner_engine.connect() as connection:
        async with connection.begin():
            await set_access(connection, read=ids_csv([org_ids["RXW"]]))
            for table in ("measurement", "assessment"):
                seen = (await connection.execute(text(f"select array_agg(distinct org_id) from {table}_y{last_year}"))).scalar_one()
                assert seen == [org_ids["RXW"]], table
        async with connection.begin():
            await set_access(connection)
            assert (await connection.execute(text(f"select count(*) from measurement_y{last_year}"))).scalar_one() == 0


async def test_a_period_without_a_partition_is_stored_in_the_default_one_with_its_revision(database):
    trust = await create_trust(database, "PARTDEF", wards=1)
    long_ago = dt.date(2001, 4, 1)  # before any yearly partition: a backfill of old history
    item = MeasurementItem("FALLS", trust.leaf_codes[0], long_ago, value="3")
    async with database.session(trust.access) as session:
        outcome = await record_measurements(session, org_id=trust.org_id, user_id=None, items=[item])
    assert outcome.ok, outcome.problems
    async with database.session(trust.access) as session:
        await record_measurements(session, org_id=trust.org_id, user_id=None, items=[MeasurementItem("FALLS", trust.leaf_codes[0], long_ago, value="4")])
    async with database.session(trust.access) as session:
        stored = (await session.exec(text(
            "select m.tableoid::regclass::text, m.value, m.revision, array_agg(r.tableoid::regclass::text || ':' || r.revision order by r.revision)"
            " from measurement m join measurement_revision r on r.org_id = m.org_id and r.measurement_id = m.id and r.period = m.period"
            " where m.org_id = :o and m.period = :p group by m.tableoid, m.value, m.revision"),
            params={"o": trust.org_id, "p": long_ago})).one()
    # The current version is the measurement row; the version it replaced is kept beside it (migration 0030).
    assert tuple(stored) == ("measurement_default", 4, 2, ["measurement_revision_default:1"])


async def test_the_application_creates_next_years_partitions_and_leaves_a_year_the_default_holds(database, org_ids):
    """As the daily tick does, in a transaction rolled back (partitions are schema, shared by every test)."""
    this_year = dt.date.today().year
    async with database.app_engine.connect() as connection:
        async with connection.begin() as transaction:
            await set_access(connection, read=ids_csv([org_ids["RXW"]]), write=ids_csv([org_ids["RXW"]]))
            # a year with no partition yet whose rows wait in the default partition
            await connection.execute(text(
                "insert into assessment (org_id, indicator_id, period, rag, variation, assurance, periods_under_target, failure_forecast,"
                " masked_failure, is_latest, evidence, rule_set)"
                " select org_id, id, make_date(:y, 1, 1), 'none', 'none', 'none', 0, false, false, false, '{}', '' from indicator"
                " where org_id = :o limit 1"),
                {"y": this_year + 3, "o": org_ids["RXW"]})
            created = await create_partitions_ahead(connection, dt.date(this_year + 2, 6, 1))
            again = await create_partitions_ahead(connection, dt.date(this_year + 2, 6, 1))
            await transaction.rollback()
    outcomes = {(o.table, o.year): o.outcome for o in created}
    for table in PARTITIONED:
        assert outcomes[(table, this_year + 2)] == "created"
    assert outcomes[("measurement", this_year + 3)] == "created"
    assert outcomes[("assessment", this_year + 3)] == "rows in the default partition"
    assert [(o.table, o.year) for o in again] == [("assessment", this_year + 3)]  # the rest exist now: nothing to do


async def test_the_application_cannot_ask_for_partitions_far_outside_the_data(database):
    async with database.app_engine.connect() as connection:
        with pytest.raises(DBAPIError, match="outside 1990 to five years ahead"):
            async with connection.begin():
                await create_partitions_ahead(connection, dt.date(dt.date.today().year + 20, 1, 1))
