"""Every tenant table's primary and unique keys should include org_id, so that the schema can be
distributed by organisation (Citus: a distributed table's keys must contain its distribution column)
and partitioned without losing uniqueness.

Migration 0020 widened the last exceptions, so ``KEYS_WITHOUT_ORG_ID`` is empty. The test fails on
a *new* exception (a new tenant table keyed by ``id`` alone). Partitions are checked too: they carry
their parent's keys.
"""
from __future__ import annotations

from sqlalchemy import text

# Directory tables: small, read by every request before an organisation is known; on Citus they are
# reference tables (a copy on every node), so they need no distribution column in their keys.
REFERENCE_TABLES = frozenset({
    "organisation", "health_system", "system_membership", "contract", "region", "app_user", "role_assignment",
    "web_session", "api_token", "login_attempt",
})

KEYS_WITHOUT_ORG_ID: frozenset[tuple[str, str]] = frozenset()  # migration 0020 widened the last of them

# Unique indexes (constraints and plain unique indexes, partial ones too) of tables with an org_id column.
_KEYS = text("""
    select c.relname as table_name, i.relname as key_name,
           bool_or(a.attname = 'org_id') as has_org_id
    from pg_index x
    join pg_class c on c.oid = x.indrelid
    join pg_class i on i.oid = x.indexrelid
    join pg_attribute a on a.attrelid = c.oid and a.attnum = any(x.indkey)
    where x.indisunique and c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
      and exists (select 1 from pg_attribute o where o.attrelid = c.oid and o.attname = 'org_id' and not o.attisdropped)
    group by c.relname, i.relname
""")


async def test_tenant_tables_keys_include_org_id_except_the_listed_ones(database):
    async with database.owner_engine.connect() as connection:
        keys = (await connection.execute(_KEYS)).all()
    assert keys, "no tenant table found: is the schema migrated?"
    without = {(table, key) for table, key, has_org_id in keys if not has_org_id and table not in REFERENCE_TABLES}
    new = sorted(without - KEYS_WITHOUT_ORG_ID)
    assert not new, (
        f"keys of tenant tables without org_id: {new}. Make them (org_id, ...) — a new table: primary key"
        " (org_id, id) — or, if the table is directory data read before an organisation is known, add it to REFERENCE_TABLES."
    )
    fixed = sorted(KEYS_WITHOUT_ORG_ID - without)
    assert not fixed, f"these keys now include org_id (or are gone): strike them from KEYS_WITHOUT_ORG_ID: {fixed}"


async def test_reference_tables_hold_no_measured_data(database):
    """The exemption is for the directory only: none of its tables may grow into tenant data."""
    async with database.owner_engine.connect() as connection:
        rows = (await connection.execute(text(
            "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' and relforcerowsecurity"
        ))).scalars().all()
    assert not REFERENCE_TABLES & set(rows), "a table under forced row-level security is tenant data, not a reference table"
