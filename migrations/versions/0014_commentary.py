"""commentary: the indicator owner's narrative for a period (issue 14)

A board paper carries, beside each indicator's chart, what its owner says about the period: why it
moved, what is being done. ``commentary`` keeps every version: a new text for the same indicator,
unit and period is a new row (the latest is current), so what an issued pack printed can always be
read again. Append-only like the judgements (0007): forced row-level security, read by those who
read the organisation, added only for an organisation the request writes for and in the author's
own name; nobody updates or deletes a row.

Revision ID: 0014
Revises: 0013
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
USER = "(select nullif(current_setting('app.user_id', true), ''))"


def upgrade() -> None:
    op.execute("""
        create table commentary (
          id serial primary key,
          org_id integer not null references organisation (id) on delete cascade,
          indicator_id integer not null,
          unit_id integer,
          period date not null,
          body varchar not null,
          author_id integer references app_user (id) on delete set null,
          author_name varchar not null,
          written_at timestamptz not null default now(),
          constraint commentary_indicator_same_org foreign key (org_id, indicator_id) references indicator (org_id, id) on delete cascade,
          constraint commentary_unit_same_org foreign key (org_id, unit_id) references org_unit (org_id, id) on delete cascade,
          constraint commentary_has_text check (length(btrim(body)) > 0 and length(body) <= 4000)
        )
    """)
    op.execute("create index commentary_current on commentary (indicator_id, unit_id, period, written_at desc, id desc)")
    op.execute("create index ix_commentary_org_id on commentary (org_id)")
    op.execute("alter table commentary enable row level security")
    op.execute("alter table commentary force row level security")
    op.execute(f"grant select, insert on commentary to {APP_ROLE}")
    op.execute(f"grant usage, select on sequence commentary_id_seq to {APP_ROLE}")
    op.execute(f"create policy commentary_read on commentary for select using (org_id = any({READ}))")
    op.execute(
        f"create policy commentary_insert on commentary for insert with check"
        f" (org_id = any({WRITE}) and (author_id is null or author_id::text = {USER}))"
    )
    # Referential actions (an indicator removed, an author's account deleted) still apply: they run
    # as triggers themselves (depth above 0); a statement from the application never does.
    op.execute(
        "create trigger commentary_append_only before update or delete on commentary"
        " for each row when (pg_trigger_depth() < 1) execute function refuse_history_change()"
    )


def downgrade() -> None:
    op.execute("drop table if exists commentary")
