"""programme records (issue 15, Sheffield 3.1): programmes, milestones, QIPP benefits by month, risks

Sheffield's PMO runs each transformation programme from a record: its Senior Responsible Owner,
milestones with due and achieved dates, QIPP savings planned and realised month by month, and its
risks scored likelihood x impact. The programme ladder (PMO -> Programme Management Delivery Group ->
IPDB -> CET) reads its facts from these rows (server/programmes/facts.py). Every key begins with
org_id; forced row-level security: read by those who read the organisation, added and changed only
for one the request writes for. Nothing is deleted: a milestone is dropped, a risk closed, a
programme closed (the audit trail keeps each change).

Revision ID: 0016
Revises: 0015
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0016"
down_revision: Union[str, Sequence[str], None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
TABLES = ("programme", "programme_milestone", "programme_benefit", "programme_risk")


def upgrade() -> None:
    op.execute("""
        create table programme (
          org_id integer not null references organisation (id) on delete cascade,
          id serial not null,
          code varchar not null,
          name varchar not null,
          unit_id integer,
          sro_user_id integer references app_user (id) on delete set null,
          sro_name varchar,
          status varchar not null default 'active',
          starts_on date,
          ends_on date,
          declared boolean not null default false,
          version integer not null default 1,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          constraint programme_pkey primary key (org_id, id),
          constraint programme_code_unique unique (org_id, code),
          constraint programme_unit_same_org foreign key (org_id, unit_id) references org_unit (org_id, id) on delete set null (unit_id),
          constraint programme_status check (status in ('active', 'paused', 'closed')),
          constraint programme_dates check (ends_on is null or starts_on is null or ends_on >= starts_on),
          constraint programme_has_name check (length(btrim(name)) > 0 and length(btrim(code)) > 0)
        )
    """)
    op.execute("""
        create table programme_milestone (
          org_id integer not null references organisation (id) on delete cascade,
          id serial not null,
          programme_id integer not null,
          title varchar not null,
          due_on date not null,
          achieved_on date,
          status varchar not null default 'planned',
          recorded_by integer references app_user (id) on delete set null,
          version integer not null default 1,
          updated_at timestamptz not null default now(),
          constraint programme_milestone_pkey primary key (org_id, id),
          constraint programme_milestone_programme foreign key (org_id, programme_id) references programme (org_id, id) on delete cascade,
          constraint programme_milestone_status check (status in ('planned', 'achieved', 'dropped')),
          constraint programme_milestone_achieved_dated check ((status = 'achieved') = (achieved_on is not null)),
          constraint programme_milestone_has_title check (length(btrim(title)) > 0)
        )
    """)
    op.execute("""
        create table programme_benefit (
          org_id integer not null references organisation (id) on delete cascade,
          programme_id integer not null,
          month date not null,
          planned numeric(14, 2) not null,
          realised numeric(14, 2),
          realised_recorded_by integer references app_user (id) on delete set null,
          realised_recorded_at timestamptz,
          constraint programme_benefit_pkey primary key (org_id, programme_id, month),
          constraint programme_benefit_programme foreign key (org_id, programme_id) references programme (org_id, id) on delete cascade,
          constraint programme_benefit_month check (extract(day from month) = 1),
          constraint programme_benefit_amounts check (planned >= 0 and (realised is null or realised >= 0))
        )
    """)
    op.execute("""
        create table programme_risk (
          org_id integer not null references organisation (id) on delete cascade,
          id serial not null,
          programme_id integer not null,
          description varchar not null,
          likelihood smallint not null,
          impact smallint not null,
          owner varchar not null,
          mitigation varchar not null default '',
          status varchar not null default 'open',
          raised_on date not null,
          closed_on date,
          version integer not null default 1,
          updated_at timestamptz not null default now(),
          constraint programme_risk_pkey primary key (org_id, id),
          constraint programme_risk_programme foreign key (org_id, programme_id) references programme (org_id, id) on delete cascade,
          constraint programme_risk_scale check (likelihood between 1 and 5 and impact between 1 and 5),
          constraint programme_risk_status check (status in ('open', 'closed')),
          constraint programme_risk_closed_dated check ((status = 'closed') = (closed_on is not null)),
          constraint programme_risk_has_text check (length(btrim(description)) > 0 and length(btrim(owner)) > 0)
        )
    """)
    op.execute("create index programme_milestone_of on programme_milestone (org_id, programme_id, due_on)")
    op.execute("create index programme_risk_of on programme_risk (org_id, programme_id)")
    for table in TABLES:
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"grant select, insert, update on {table} to {APP_ROLE}")
        op.execute(f"create policy {table}_read on {table} for select using (org_id = any({READ}))")
        op.execute(f"create policy {table}_insert on {table} for insert with check (org_id = any({WRITE}))")
        op.execute(f"create policy {table}_update on {table} for update using (org_id = any({WRITE})) with check (org_id = any({WRITE}))")
    for sequence in ("programme_id_seq", "programme_milestone_id_seq", "programme_risk_id_seq"):
        op.execute(f"grant usage, select on sequence {sequence} to {APP_ROLE}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"drop table if exists {table}")
