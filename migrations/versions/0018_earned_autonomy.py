"""earned autonomy and the accountability review (issue 15, ULHT PMF 5.2 and 6)

``autonomy_level`` is the history of each division's autonomy under the scheme of delegation: a row
is added whenever the level its performance earns, or the level in force, changes (by a rating after
new data or the daily tick, or by an accountability review); the latest row per unit is current.
``accountability_review`` records each six-monthly review of a division: who, when, the levels it
agreed and its notes. Both are history: forced row-level security, read by those who read the
organisation, added only for an organisation the request writes for (a review in the recorder's own
name); nobody updates or deletes a row. Keys begin with org_id.

Revision ID: 0018
Revises: 0017
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0018"
down_revision: Union[str, Sequence[str], None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
USER = "(select nullif(current_setting('app.user_id', true), ''))"


def upgrade() -> None:
    op.execute("""
        create table accountability_review (
          id serial,
          org_id integer not null references organisation (id) on delete cascade,
          unit_id integer not null,
          held_on date not null,
          autonomy_level integer not null,
          autonomy_code varchar not null,
          escalation_level integer,
          outcome varchar not null,
          notes varchar not null,
          recorded_by integer references app_user (id) on delete set null,
          recorded_by_name varchar not null,
          recorded_role varchar not null,
          recorded_at timestamptz not null default now(),
          constraint accountability_review_pkey primary key (org_id, id),
          constraint accountability_review_unit_same_org foreign key (org_id, unit_id) references org_unit (org_id, id) on delete cascade,
          constraint accountability_review_has_notes check (length(btrim(notes)) > 0 and length(notes) <= 4000)
        )
    """)
    op.execute("create index accountability_review_latest on accountability_review (org_id, unit_id, held_on desc, id desc)")
    op.execute("""
        create table autonomy_level (
          id serial,
          org_id integer not null references organisation (id) on delete cascade,
          unit_id integer not null,
          earned_level integer not null,
          earned_code varchar not null,
          level integer not null,
          level_code varchar not null,
          cause varchar not null,
          review_id integer,
          period date,
          explanation jsonb not null default '{}',
          recorded_at timestamptz not null default now(),
          constraint autonomy_level_pkey primary key (org_id, id),
          constraint autonomy_level_unit_same_org foreign key (org_id, unit_id) references org_unit (org_id, id) on delete cascade,
          constraint autonomy_level_review_same_org foreign key (org_id, review_id) references accountability_review (org_id, id) on delete cascade,
          constraint autonomy_level_cause check (cause in ('rating', 'review')),
          constraint autonomy_level_not_above_earned check (level <= earned_level or cause = 'review')
        )
    """)
    op.execute("create index autonomy_level_latest on autonomy_level (org_id, unit_id, id desc)")
    for table in ("accountability_review", "autonomy_level"):
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"grant select, insert on {table} to {APP_ROLE}")
        op.execute(f"grant usage, select on sequence {table}_id_seq to {APP_ROLE}")
        op.execute(f"create policy {table}_read on {table} for select using (org_id = any({READ}))")
        # Referential actions (a unit or an account removed) run as triggers themselves (depth above 0).
        op.execute(
            f"create trigger {table}_append_only before update or delete on {table}"
            " for each row when (pg_trigger_depth() < 1) execute function refuse_history_change()"
        )
    op.execute(
        "create policy accountability_review_insert on accountability_review for insert with check"
        f" (org_id = any({WRITE}) and recorded_by::text = {USER})"
    )
    op.execute(f"create policy autonomy_level_insert on autonomy_level for insert with check (org_id = any({WRITE}))")


def downgrade() -> None:
    op.execute("drop table if exists autonomy_level")
    op.execute("drop table if exists accountability_review")
