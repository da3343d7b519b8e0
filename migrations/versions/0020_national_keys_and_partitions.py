"""every tenant key begins with org_id; measurement, its revisions and assessments partitioned by year (issue 16)

Two changes a national deployment needs, made together because both rebuild the same keys.

**Keys.** On Citus a distributed table's primary and unique keys must contain its distribution
column, and every foreign key between distributed tables must include it too. Each tenant table's
key becomes ``(org_id, ...)``; each foreign key that named a row by ``id`` alone now names it by
``(org_id, id)`` (the referencing row's own organisation: indicators, units, plans and meetings are
never shared across organisations, so this also forbids a cross-organisation reference the old keys
allowed). A partner's plan rows name the plan by its owner (``owner_org_id``): plan_event and
plan_trajectory gain that column, filled from the plan on insert. ``ON DELETE SET NULL`` keys clear
only the id column (PostgreSQL 15+ column lists), never ``org_id``.

**Partitions.** ``measurement``, ``measurement_revision`` and ``assessment`` are range-partitioned by
``period``, one partition a calendar year (``measurement_y2026``) and a default partition that takes
any other period, so an import of an unexpected period never fails. Yearly, not monthly: at national
scale a year of one table is some 0.6-8 million rows (see deploy/README.md), small enough to vacuum,
index and detach as a unit; monthly would mean 60+ partitions per table for five years of history,
which every series read (24-60 months) would have to open and plan. A partitioned table's keys
must contain the partition key, so their keys become ``(org_id, id, period)`` and
``(org_id, indicator_id, unit_id, period)``, and a revision carries its measurement's period.

Partitions are made by ``create_period_partitions(first_year, last_year)``, a security-definer
function the application calls after migrating and from the daily tick (server/db/partitions.py),
so the application role can keep partitions ahead without owning a table. A new partition gets
forced row-level security with its parent's policies copied, and no privileges for the
application role: it reads and writes through the parent, whose policies apply; a direct read of a
partition is refused (tests/db/test_partitions.py). A year whose rows already sit in the default
partition is reported, not created (PostgreSQL cannot attach a range the default partition holds
rows of); deploy/README.md says how an operator moves them.

Revision ID: 0020
Revises: 0019
"""
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: Union[str, Sequence[str], None] = "0019"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
PARTITIONED = ("measurement", "measurement_revision", "assessment")

# Tables keyed by id alone, whose primary key becomes (org_id, id).
BY_ID = (
    "action", "audit_event", "domain", "escalation", "escalation_event", "forum", "improvement_plan", "indicator",
    "judgement", "maturity_assessment", "meeting", "org_unit", "spc_recalculation", "target", "trajectory",
)
# (table, constraint or index, definition after, definition before): "index ..." is a unique index, else a constraint.
KEYS = (
    ("meeting_attendance", "meeting_attendance_pkey", "primary key (org_id, meeting_id, member)", "primary key (meeting_id, member)"),
    ("meeting", "meeting_one_per_forum_day_subject", "unique nulls not distinct (org_id, forum_id, scheduled_for, subject_key)",
     "unique nulls not distinct (forum_id, scheduled_for, subject_key)"),
    ("target", "target_one_per_kind_and_start", "unique nulls not distinct (org_id, indicator_id, unit_id, kind, valid_from)",
     "unique nulls not distinct (indicator_id, unit_id, kind, valid_from)"),
    ("trajectory", "trajectory_one_per_period", "unique (org_id, indicator_id, unit_id, period)", "unique (indicator_id, unit_id, period)"),
    ("spc_recalculation", "spc_recalculation_live", "index (org_id, indicator_id, unit_id, period) where withdrawn_at is null",
     "index (indicator_id, unit_id, period) where withdrawn_at is null"),
    # A plan's rows are the plan owner's (owner_org_id), a partner's agreement the partner's (org_id) too:
    # on Citus plan rows are distributed by owner, beside the plan.
    ("plan_agreement", "plan_agreement_pkey", "primary key (owner_org_id, org_id, id)", "primary key (id)"),
    ("plan_agreement", "plan_agreement_one_live_per_partner", "index (owner_org_id, plan_id, org_id) where withdrawn_at is null",
     "index (plan_id, org_id) where withdrawn_at is null"),
    ("plan_partner", "plan_partner_pkey", "primary key (owner_org_id, plan_id, org_id)", "primary key (plan_id, org_id)"),
    ("plan_event", "plan_event_pkey", "primary key (owner_org_id, id)", "primary key (id)"),
    ("plan_trajectory", "plan_trajectory_pkey", "primary key (owner_org_id, plan_id, period)", "primary key (plan_id, period)"),
    # (org_id, id) is now the primary key: the separate unique keys the same-organisation foreign keys used go.
    ("domain", "domain_org_id_id", None, "unique (org_id, id)"),
    ("indicator", "indicator_org_id_id", None, "unique (org_id, id)"),
    ("org_unit", "org_unit_org_id_id", None, "unique (org_id, id)"),
)
# Foreign keys that named a row by id alone: (table, name, definition after, definition before).
FOREIGN_KEYS = (
    ("action", "action_meeting_id_fkey", "(org_id, meeting_id) references meeting (org_id, id) on delete cascade",
     "(meeting_id) references meeting (id) on delete cascade"),
    ("action", "action_plan_id_fkey", "(org_id, plan_id) references improvement_plan (org_id, id) on delete cascade",
     "(plan_id) references improvement_plan (id) on delete cascade"),
    ("assessment", "assessment_unit_id_fkey", "(org_id, unit_id) references org_unit (org_id, id) on delete cascade",
     "(unit_id) references org_unit (id) on delete cascade"),
    ("escalation", "escalation_indicator_id_fkey", "(org_id, indicator_id) references indicator (org_id, id) on delete cascade",
     "(indicator_id) references indicator (id) on delete cascade"),
    ("escalation", "escalation_plan_id_fkey", "(org_id, plan_id) references improvement_plan (org_id, id) on delete set null (plan_id)",
     "(plan_id) references improvement_plan (id) on delete set null"),
    ("escalation", "escalation_unit_id_fkey", "(org_id, unit_id) references org_unit (org_id, id) on delete cascade",
     "(unit_id) references org_unit (id) on delete cascade"),
    ("escalation_event", "escalation_event_escalation_id_fkey", "(org_id, escalation_id) references escalation (org_id, id) on delete cascade",
     "(escalation_id) references escalation (id) on delete cascade"),
    ("improvement_plan", "improvement_plan_indicator_id_fkey",
     "(org_id, indicator_id) references indicator (org_id, id) on delete set null (indicator_id)",
     "(indicator_id) references indicator (id) on delete set null"),
    ("judgement", "judgement_supersedes_id_fkey", "(org_id, supersedes_id) references judgement (org_id, id) on delete restrict",
     "(supersedes_id) references judgement (id) on delete restrict"),
    ("measurement_revision", "measurement_revision_measurement_id_fkey",
     "(org_id, measurement_id, period) references measurement (org_id, id, period) on delete cascade",
     "(measurement_id) references measurement (id) on delete cascade"),
    ("meeting", "meeting_forum_id_fkey", "(org_id, forum_id) references forum (org_id, id) on delete cascade",
     "(forum_id) references forum (id) on delete cascade"),
    ("meeting_attendance", "meeting_attendance_meeting_id_fkey", "(org_id, meeting_id) references meeting (org_id, id) on delete cascade",
     "(meeting_id) references meeting (id) on delete cascade"),
    ("plan_agreement", "plan_agreement_plan_id_fkey", "(owner_org_id, plan_id) references improvement_plan (org_id, id) on delete cascade",
     "(plan_id) references improvement_plan (id) on delete cascade"),
    ("plan_event", "plan_event_plan_id_fkey", "(owner_org_id, plan_id) references improvement_plan (org_id, id) on delete cascade",
     "(plan_id) references improvement_plan (id) on delete cascade"),
    ("plan_partner", "plan_partner_plan_id_fkey", "(owner_org_id, plan_id) references improvement_plan (org_id, id) on delete cascade",
     "(plan_id) references improvement_plan (id) on delete cascade"),
    ("plan_trajectory", "plan_trajectory_plan_id_fkey", "(owner_org_id, plan_id) references improvement_plan (org_id, id) on delete cascade",
     "(plan_id) references improvement_plan (id) on delete cascade"),
    ("trajectory", "trajectory_unit_id_fkey", "(org_id, unit_id) references org_unit (org_id, id) on delete cascade",
     "(unit_id) references org_unit (id) on delete cascade"),
)
# The partitioned tables' keys: (table, name, definition after, definition before).
PARTITIONED_KEYS = (
    ("measurement", "measurement_pkey", "primary key (org_id, id, period)", "primary key (id)"),
    ("measurement", "measurement_one_per_period", "unique (org_id, indicator_id, unit_id, period)", "unique (indicator_id, unit_id, period)"),
    ("measurement_revision", "measurement_revision_pkey", "primary key (org_id, id, period)", "primary key (id)"),
    ("measurement_revision", "measurement_revision_unique", "unique (org_id, measurement_id, period, revision)", "unique (measurement_id, revision)"),
    ("assessment", "assessment_pkey", "primary key (org_id, id, period)", "primary key (id)"),
    ("assessment", "assessment_one_per_period", "index (org_id, indicator_id, unit_id, period) nulls not distinct",
     "index (indicator_id, unit_id, period) nulls not distinct"),
)
# Plan rows a partner may hold name their plan by its owner too; the plan's organisation fills it on insert.
PLAN_CHILDREN = ("plan_event", "plan_trajectory")

# Functions of earlier migrations that write or join these tables, rewritten in place: (signature, [(before, after)]).
FUNCTION_EDITS = (
    ("compose_member_figures(int, int, int[], date[], int)", (
        ("insert into measurement_revision (org_id, measurement_id, revision,", "insert into measurement_revision (org_id, measurement_id, period, revision,"),
        ("select c.org_id, c.id, c.revision,", "select c.org_id, c.id, c.period, c.revision,"),
        ("on conflict on constraint measurement_one_per_period", "on conflict (org_id, indicator_id, unit_id, period)"),
        ("join measurement m on m.indicator_id = s.member_indicator_id", "join measurement m on m.org_id = s.member_org_id and m.indicator_id = s.member_indicator_id"),
        ("join org_unit u on u.id = m.unit_id", "join org_unit u on u.org_id = m.org_id and u.id = m.unit_id"),
    )),
)

CREATE_PARTITIONS = f"""
create function create_period_partitions(first_year int, last_year int)
returns table (partitioned_table text, partition_year int, outcome text)
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  parent text;
  partition_name text;
begin
  -- The application role may call this: it can add a bounded range of years, nothing else.
  if first_year < 1990 or last_year > extract(year from current_date)::int + 5 or first_year > last_year then
    raise exception 'partition years % to % are outside 1990 to five years ahead', first_year, last_year;
  end if;
  foreach parent in array array{list(PARTITIONED)!r}::text[] loop
    for y in first_year .. last_year loop
      partition_name := parent || '_y' || y;
      continue when to_regclass('public.' || quote_ident(partition_name)) is not null;
      partitioned_table := parent;
      partition_year := y;
      begin
        execute format('create table public.%I partition of public.%I for values from (%L) to (%L)',
                       partition_name, parent, make_date(y, 1, 1), make_date(y + 1, 1, 1));
      exception when check_violation then
        -- the default partition holds rows of this year: PostgreSQL cannot carve the range out of it
        outcome := 'rows in the default partition';
        return next;
        continue;
      end;
      perform secure_partition(parent, partition_name);
      outcome := 'created';
      return next;
    end loop;
  end loop;
end $$
"""
# A partition is reached through its parent, whose policies apply; the partition itself is locked
# too (forced row-level security with the parent's policies, no privileges for the application role).
SECURE_PARTITION = r"""
create function secure_partition(parent text, partition text) returns void
language plpgsql set search_path = pg_catalog, public as $$
declare
  policy record;
begin
  execute format('alter table public.%I enable row level security, force row level security', partition);
  -- a policy's subqueries name the row's table (measurement.indicator_id): the copy names the partition
  for policy in
    select policyname, permissive, cmd, array_to_string(roles, ', ') as roles,
           regexp_replace(qual, '\m' || parent || '\.', partition || '.', 'g') as qual,
           regexp_replace(with_check, '\m' || parent || '\.', partition || '.', 'g') as with_check
    from pg_policies where schemaname = 'public' and tablename = parent
  loop
    execute format('create policy %I on public.%I as %s for %s to %s', policy.policyname, partition, policy.permissive, policy.cmd, policy.roles)
      || coalesce(' using (' || policy.qual || ')', '') || coalesce(' with check (' || policy.with_check || ')', '');
  end loop;
end $$
"""
FILL_PLAN_OWNER = """
create function fill_plan_owner() returns trigger language plpgsql as $$
begin
  if new.owner_org_id is null then
    select org_id into new.owner_org_id from improvement_plan where id = new.plan_id;
  end if;
  return new;
end $$
"""


def upgrade() -> None:
    connection = op.get_bind()
    with _rows_visible_to_the_owner():
        kept = _drop_foreign_keys_to(connection, (*BY_ID, *PARTITIONED))
        for table in BY_ID:
            op.execute(f"alter table {table} drop constraint {table}_pkey, add constraint {table}_pkey primary key (org_id, id)")
        _add_plan_owner()
        for table, name, after, before in KEYS:
            _replace_key(table, name, before, after)
        op.execute(SECURE_PARTITION)
        op.execute(CREATE_PARTITIONS)
        op.execute("revoke execute on function create_period_partitions(int, int), secure_partition(text, text) from public")
        op.execute(f"grant execute on function create_period_partitions(int, int) to {APP_ROLE}")
        years = _data_years(connection)
        for table in PARTITIONED:
            _partition(connection, table, years)
        for table, name, after, _ in PARTITIONED_KEYS:
            _replace_key(table, name, None, after)  # the rebuilt tables start without keys
        for table in PARTITIONED:
            op.execute(f"analyze {table}")  # new tables have no statistics, and autovacuum never analyzes a partitioned parent
        _add_foreign_keys([(table, name, f"foreign key {after}") for table, name, after, _ in FOREIGN_KEYS] + kept)
        _edit_functions(connection, forward=True)


def downgrade() -> None:
    connection = op.get_bind()
    with _rows_visible_to_the_owner():
        _edit_functions(connection, forward=False)
        kept = _drop_foreign_keys_to(connection, (*BY_ID, *PARTITIONED))
        for table in PARTITIONED:
            _unpartition(connection, table)
        op.execute("drop function create_period_partitions(int, int)")
        op.execute("drop function secure_partition(text, text)")
        for table, name, _, before in PARTITIONED_KEYS:
            _replace_key(table, name, None, before)
        for table, name, after, before in KEYS:
            _replace_key(table, name, after, before)
        for table in PLAN_CHILDREN:
            op.execute(f"drop trigger {table}_plan_owner on {table}")
            op.execute(f"alter table {table} drop column owner_org_id")
        op.execute("drop function fill_plan_owner()")
        for table in BY_ID:
            op.execute(f"alter table {table} drop constraint {table}_pkey, add constraint {table}_pkey primary key (id)")
        _add_foreign_keys([(table, name, f"foreign key {before}") for table, name, _, before in FOREIGN_KEYS] + kept)


@contextmanager
def _rows_visible_to_the_owner() -> Iterator[None]:
    """The data moves read and write tables under forced row-level security as their owner: set it aside meanwhile."""
    forced = ("improvement_plan", *PLAN_CHILDREN, *PARTITIONED)
    for table in forced:
        op.execute(f"alter table {table} no force row level security")
    yield
    for table in forced:
        op.execute(f"alter table {table} force row level security")


def _edit_functions(connection, *, forward: bool) -> None:  # type: ignore[no-untyped-def]
    """A revision now carries its period and the keys begin with org_id: functions that write these tables follow."""
    for signature, edits in FUNCTION_EDITS:
        definition = connection.execute(sa.text("select pg_get_functiondef(to_regprocedure(:f))"), {"f": signature}).scalar_one_or_none()
        if definition is None:
            continue
        for before, after in edits:
            old, new = (before, after) if forward else (after, before)
            if old not in definition:
                raise RuntimeError(f"{signature} no longer contains {old!r}: update FUNCTION_EDITS in this migration")
            definition = definition.replace(old, new)
        op.execute(definition)


def _add_foreign_keys(keys: list[tuple[str, str, str]]) -> None:
    for table, name, definition in keys:
        op.execute(f"alter table {table} add constraint {name} {definition}")


def _drop_foreign_keys_to(connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Drop every foreign key that points at these tables (their keys are about to change); answer the
    ones this migration does not redefine, to be added back as they were."""
    rows = connection.execute(sa.text(
        "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        " where contype = 'f' and confrelid = any(cast(:tables as regclass[])) and conparentid = 0"
    ), {"tables": list(tables)}).all()
    redefined = {name for _, name, _, _ in FOREIGN_KEYS}
    kept = []
    for table, name, definition in rows:
        op.execute(f"alter table {table} drop constraint {name}")
        if name not in redefined:
            if "(org_id, id)" not in definition and "(org_id, id, period)" not in definition:
                raise RuntimeError(f"{table}.{name} ({definition}) names a row by id alone: add it to FOREIGN_KEYS in this migration")
            kept.append((table, name, definition))
    return kept


def _replace_key(table: str, name: str, current: str | None, wanted: str | None) -> None:
    """Replace key ``name`` (a constraint, or a unique index when its definition starts with "index") by ``wanted``."""
    if current is not None:
        op.execute(f"drop index {name}" if current.startswith("index ") else f"alter table {table} drop constraint {name}")
    if wanted is None:
        return
    if wanted.startswith("index "):
        op.execute(f"create unique index {name} on {table} {wanted.removeprefix('index ')}")
    else:
        op.execute(f"alter table {table} add constraint {name} {wanted}")


def _add_plan_owner() -> None:
    op.execute(FILL_PLAN_OWNER)
    for table in PLAN_CHILDREN:
        op.execute(f"alter table {table} add column owner_org_id integer")
        op.execute(f"alter table {table} disable trigger user")  # plan_event is append-only by trigger
        op.execute(f"update {table} child set owner_org_id = plan.org_id from improvement_plan plan where plan.id = child.plan_id")
        op.execute(f"alter table {table} enable trigger user")
        op.execute(f"alter table {table} alter column owner_org_id set not null")
        op.execute(f"create trigger {table}_plan_owner before insert on {table} for each row execute function fill_plan_owner()")


def _data_years(connection) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The years to make partitions for: every year with data, five back and one ahead of today."""
    first, last = connection.execute(sa.text(
        "select least(min(extract(year from period)), extract(year from current_date) - 5),"
        "       greatest(max(extract(year from period)), extract(year from current_date) + 1)"
        " from (select period from measurement union all select period from assessment) data"
    )).one()
    return int(first), int(last)


def _capture(connection, table: str) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """What a rebuilt table must get back: its outgoing foreign keys, plain indexes, triggers, policies and grants."""
    query = {
        "foreign_keys": "select conname, pg_get_constraintdef(oid) from pg_constraint where conrelid = cast(:t as regclass) and contype = 'f'",
        "indexes": "select pg_get_indexdef(indexrelid) from pg_index x where indrelid = cast(:t as regclass) and not indisunique",
        "triggers": "select pg_get_triggerdef(oid) from pg_trigger where tgrelid = cast(:t as regclass) and not tgisinternal",
        "policies": "select policyname, permissive, cmd, array_to_string(roles, ', '), qual, with_check from pg_policies"
                    " where schemaname = 'public' and tablename = :t",
        "grants": "select distinct privilege_type from information_schema.role_table_grants where table_name = :t and grantee = :app",
    }
    return {kind: connection.execute(sa.text(sql), {"t": table, "app": APP_ROLE}).all() for kind, sql in query.items()}


def _rebuild(connection, table: str, create: list[str], fill: str) -> None:  # type: ignore[no-untyped-def]
    """Replace ``table`` by a new one (``create``, given the old one's name), its rows copied by ``fill``;
    the old table's foreign keys, indexes, triggers, policies and grants are put back on the new one."""
    held = _capture(connection, table)
    op.execute(f"alter sequence {table}_id_seq owned by none")
    op.execute(f"alter table {table} rename to {table}_old")
    for statement in create:
        op.execute(statement.format(old=f"{table}_old"))
    op.execute(fill.format(old=f"{table}_old"))
    op.execute(f"drop table {table}_old")
    op.execute(f"alter sequence {table}_id_seq owned by {table}.id")
    redefined = {name for _, name, _, _ in FOREIGN_KEYS}
    for name, definition in held["foreign_keys"]:
        if name not in redefined:
            op.execute(f"alter table {table} add constraint {name} {definition}")
    for (definition,) in held["indexes"]:
        op.execute(definition)
    for (definition,) in held["triggers"]:
        op.execute(definition)
    op.execute(f"alter table {table} enable row level security")
    for name, permissive, command, roles, using, check in held["policies"]:
        op.execute(f"create policy {name} on {table} as {permissive} for {command} to {roles}"
                   + (f" using ({using})" if using else "") + (f" with check ({check})" if check else ""))
    if held["grants"]:
        op.execute(f"grant {', '.join(p for (p,) in held['grants'])} on {table} to {APP_ROLE}")


def _partition(connection, table: str, years: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    period = ", period date not null" if table == "measurement_revision" else ""  # a revision is partitioned by its measurement's period
    create = [
        f"create table {table} (like {{old}} including defaults including constraints{period}) partition by range (period)",
        f"create table {table}_default partition of {table} default",
        # the partitions exist before the rows arrive: each row goes straight to its year
        *(f"create table {table}_y{year} partition of {table} for values from ('{year}-01-01') to ('{year + 1}-01-01')"
          for year in range(years[0], years[1] + 1)),
    ]
    if table == "measurement_revision":
        fill = f"insert into {table} select r.*, m.period from {{old}} r join measurement m on m.id = r.measurement_id"
    else:
        fill = f"insert into {table} select * from {{old}}"
    _rebuild(connection, table, create, fill)
    for (partition,) in connection.execute(sa.text(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = cast(:t as regclass)"
    ), {"t": table}).all():
        op.execute(f"select secure_partition('{table}', '{partition}')")


def _unpartition(connection, table: str) -> None:  # type: ignore[no-untyped-def]
    create = [f"create table {table} (like {{old}} including defaults including constraints)"]
    if table == "measurement_revision":
        create.append(f"alter table {table} drop column period")
        fill = (f"insert into {table} select id, org_id, measurement_id, revision, value, numerator, denominator, status, source,"
                f" recorded_by, recorded_at, reason from {{old}}")
    else:
        fill = f"insert into {table} select * from {{old}}"
    _rebuild(connection, table, create, fill)
