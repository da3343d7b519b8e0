"""A measurement's history keeps the versions it replaced; the current version is the measurement row

Until now every value written was stored twice: as the measurement row and as a revision row, even
the first value of a measurement, which is most of every history import (a national trust's five
years are 15,000 measurements and, with them, 15,000 revisions that only repeated them). Now:

- ``measurement`` carries the current version whole, its ``reason`` included (new column);
- ``measurement_revision`` receives a version when it is replaced: a statement-level trigger on
  ``measurement`` copies the replaced rows out of the statement's transition table (the old row as it
  was under the row lock, so two people replacing the same value one after the other each keep what
  they replaced), skipping a version already stored (histories written before this migration hold
  their current version as a revision too);
- ``measurement_history`` (a view run with the reader's rights, so row-level security applies) is
  every version: the stored revisions and each measurement's current version unless it is stored
  already. Readers of a history read the view.

The revision table stays append-only (``refuse_history_change``). A measurement could not be deleted
before, since deleting it would have deleted its revisions, which refuse it; a measurement whose
only version is its own row now refuses deletion itself (``refuse_measurement_delete``), so no
value ever sent is lost.

Revision ID: 0030
Revises: 0029
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0030"
down_revision: Union[str, Sequence[str], None] = "0029"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
VERSION_COLUMNS = "value, numerator, denominator, status, source, recorded_by, recorded_at, reason"


def upgrade() -> None:
    op.execute("alter table measurement add column reason text")
    op.execute(f"""
        create function keep_superseded_measurements() returns trigger
        language plpgsql set search_path = pg_catalog, public as $$
        begin
          insert into measurement_revision (org_id, measurement_id, period, revision, {VERSION_COLUMNS})
          select o.org_id, o.id, o.period, o.revision, o.value, o.numerator, o.denominator, o.status, o.source, o.recorded_by,
                 o.recorded_at, o.reason
          from replaced o join replacing n on n.org_id = o.org_id and n.id = o.id and n.period = o.period
          where n.revision <> o.revision
          order by o.org_id, o.id, o.period
          on conflict (org_id, measurement_id, period, revision) do nothing;
          return null;
        end
        $$
    """)
    op.execute("""
        create trigger measurement_keeps_superseded after update on measurement
        referencing old table as replaced new table as replacing
        for each statement execute function keep_superseded_measurements()
    """)
    op.execute("""
        create function refuse_measurement_delete() returns trigger language plpgsql as $$
        begin
          raise exception 'a measurement is kept with its history: % rows are not deleted', tg_table_name
            using errcode = 'insufficient_privilege';
        end $$
    """)
    op.execute("create trigger measurement_kept before delete on measurement for each row execute function refuse_measurement_delete()")
    op.execute(f"""
        create view measurement_history with (security_invoker = true) as
        select r.org_id, r.measurement_id, r.period, r.revision, {', '.join('r.' + c.strip() for c in VERSION_COLUMNS.split(','))}
        from measurement_revision r
        union all
        select m.org_id, m.id, m.period, m.revision, {', '.join('m.' + c.strip() for c in VERSION_COLUMNS.split(','))}
        from measurement m
        where not exists (select 1 from measurement_revision r
                          where r.org_id = m.org_id and r.measurement_id = m.id and r.period = m.period and r.revision = m.revision)
    """)
    op.execute(f"grant select on measurement_history to {APP_ROLE}")


def downgrade() -> None:
    # The versions that lived only in measurement rows become revisions again before the column goes.
    op.execute("drop view measurement_history")
    op.execute("drop trigger measurement_kept on measurement")
    op.execute("drop function refuse_measurement_delete()")
    op.execute("drop trigger measurement_keeps_superseded on measurement")
    op.execute("drop function keep_superseded_measurements()")
    op.execute("alter table measurement_revision no force row level security")
    op.execute("alter table measurement no force row level security")
    op.execute(f"""
        insert into measurement_revision (org_id, measurement_id, period, revision, {VERSION_COLUMNS})
        select m.org_id, m.id, m.period, m.revision, {', '.join('m.' + c.strip() for c in VERSION_COLUMNS.split(','))}
        from measurement m
        on conflict (org_id, measurement_id, period, revision) do nothing
    """)
    op.execute("alter table measurement force row level security")
    op.execute("alter table measurement_revision force row level security")
    op.execute("alter table measurement drop column reason")
