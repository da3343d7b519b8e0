"""recorded decisions to recalculate SPC limits (issue 13)

Making Data Count: limits are recalculated after a sustained shift with a known cause, as a
decision a person records with its reason, never automatically. ``spc_recalculation`` keeps every
decision of an organisation, live or withdrawn (withdrawal keeps who, when and why), under forced
row-level security like every other tenant table; a row never moves to another organisation or
series, and only its withdrawal may change later.

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"


def upgrade() -> None:
    op.execute("""
        create table spc_recalculation (
          id serial primary key,
          org_id integer not null references organisation (id) on delete cascade,
          indicator_id integer not null,
          unit_id integer not null,
          period date not null,
          reason varchar not null,
          recorded_by integer references app_user (id) on delete set null,
          recorded_at timestamptz not null default now(),
          withdrawn_at timestamptz,
          withdrawn_by integer references app_user (id) on delete set null,
          withdrawal_reason varchar,
          constraint spc_recalculation_indicator_same_org foreign key (org_id, indicator_id)
            references indicator (org_id, id) on delete cascade,
          constraint spc_recalculation_unit_same_org foreign key (org_id, unit_id)
            references org_unit (org_id, id) on delete cascade,
          constraint spc_recalculation_has_reason check (length(btrim(reason)) > 0),
          constraint spc_recalculation_withdrawal_has_reason check ((withdrawn_at is null) = (withdrawal_reason is null))
        )
    """)
    op.execute("create index ix_spc_recalculation_org_id on spc_recalculation (org_id)")
    op.execute("create unique index spc_recalculation_live on spc_recalculation (indicator_id, unit_id, period) where withdrawn_at is null")
    op.execute("alter table spc_recalculation enable row level security")
    op.execute("alter table spc_recalculation force row level security")
    # Decisions are never deleted (a withdrawal is an update that keeps the row).
    op.execute(f"grant select, insert, update on spc_recalculation to {APP_ROLE}")
    op.execute(f"grant usage, select on sequence spc_recalculation_id_seq to {APP_ROLE}")
    op.execute(f"create policy spc_recalculation_read on spc_recalculation for select using (org_id = any({READ}))")
    op.execute(f"create policy spc_recalculation_insert on spc_recalculation for insert with check (org_id = any({WRITE}))")
    op.execute(
        f"create policy spc_recalculation_update on spc_recalculation for update"
        f" using (org_id = any({WRITE})) with check (org_id = any({WRITE}))"
    )
    op.execute(
        "create trigger spc_recalculation_stays_put before update on spc_recalculation for each row"
        " when (row(old.org_id, old.indicator_id, old.unit_id, old.period, old.reason, old.recorded_at)"
        " is distinct from row(new.org_id, new.indicator_id, new.unit_id, new.period, new.reason, new.recorded_at))"
        " execute function refuse_move()"
    )


def downgrade() -> None:
    op.execute("drop table if exists spc_recalculation")
