"""contract performance notices with their history (issue 15, Sheffield 3.3)

A commissioner's Contract Management Board issues performance notices to a provider that misses
key targets. ``contract_notice`` is the notice as it stands (raised, issued, remedial action plan
agreed, closed or withdrawn); ``contract_notice_event`` is every step taken, who took it, in which
role, when and why: append-only like the other histories. Both belong to the commissioner (org_id):
forced row-level security reads them for those who read the commissioner and writes them for those
who write for it, so the provider, even once it becomes a tenant, never reads the commissioner's
notices. A notice is never deleted (the application role has no delete privilege). Keys begin with
org_id. The service raises a notice only under a contract in the register; the notice names the
provider, not the contract row, so a contract dropped from the tenant file (the register is
reloaded from it) keeps its notices' history.

Revision ID: 0017
Revises: 0016
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0017"
down_revision: Union[str, Sequence[str], None] = "0016"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
USER = "(select nullif(current_setting('app.user_id', true), ''))"
STATUSES = "('raised', 'issued', 'plan_agreed', 'closed', 'withdrawn')"


def upgrade() -> None:
    op.execute(f"""
        create table contract_notice (
          org_id integer not null references organisation (id) on delete cascade,
          id serial,
          provider_id integer not null,
          kind varchar not null default 'performance',
          title varchar not null,
          reason varchar not null,
          indicator_codes text[] not null default '{{}}',
          status varchar not null default 'raised',
          remedial_plan varchar,
          remedial_plan_due date,
          raised_at timestamptz not null default now(),
          issued_at timestamptz,
          plan_agreed_at timestamptz,
          ended_at timestamptz,
          raised_by integer references app_user (id) on delete set null,
          version integer not null default 1,
          constraint contract_notice_pkey primary key (org_id, id),
          constraint contract_notice_provider foreign key (provider_id) references organisation (id) on delete cascade,
          constraint contract_notice_not_to_itself check (provider_id <> org_id),
          constraint contract_notice_status_known check (status in {STATUSES}),
          constraint contract_notice_kind_known check (kind in ('performance', 'contract')),
          constraint contract_notice_has_text check (length(btrim(title)) > 0 and length(title) <= 200
            and length(btrim(reason)) > 0 and length(reason) <= 4000),
          constraint contract_notice_issued_when check ((status in ('raised') or status = 'withdrawn') or issued_at is not null),
          constraint contract_notice_plan_when check (status not in ('plan_agreed', 'closed') or (plan_agreed_at is not null
            and remedial_plan is not null))
        )
    """)
    op.execute("create index contract_notice_by_provider on contract_notice (org_id, provider_id, status)")
    op.execute("""
        create table contract_notice_event (
          org_id integer not null,
          id serial,
          notice_id integer not null,
          event varchar not null,
          from_status varchar,
          to_status varchar not null,
          note varchar,
          actor_user_id integer references app_user (id) on delete set null,
          actor_name varchar not null,
          actor_role varchar,
          at timestamptz not null default now(),
          constraint contract_notice_event_pkey primary key (org_id, id),
          constraint contract_notice_event_of_notice foreign key (org_id, notice_id)
            references contract_notice (org_id, id) on delete cascade
        )
    """)
    op.execute("create index contract_notice_event_by_notice on contract_notice_event (org_id, notice_id, at)")
    for table in ("contract_notice", "contract_notice_event"):
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"grant usage, select on sequence {table}_id_seq to {APP_ROLE}")
        op.execute(f"create policy {table}_read on {table} for select using (org_id = any({READ}))")
    op.execute(f"grant select, insert, update on contract_notice to {APP_ROLE}")
    op.execute(f"create policy contract_notice_insert on contract_notice for insert with check (org_id = any({WRITE}))")
    op.execute(
        f"create policy contract_notice_update on contract_notice for update using (org_id = any({WRITE})) with check (org_id = any({WRITE}))"
    )
    op.execute(f"grant select, insert on contract_notice_event to {APP_ROLE}")
    op.execute(
        f"create policy contract_notice_event_insert on contract_notice_event for insert with check"
        f" (org_id = any({WRITE}) and (actor_user_id is null or actor_user_id::text = {USER}))"
    )
    op.execute(
        "create trigger contract_notice_event_append_only before update or delete on contract_notice_event"
        " for each row when (pg_trigger_depth() < 1) execute function refuse_history_change()"
    )


def downgrade() -> None:
    op.execute("drop table if exists contract_notice_event")
    op.execute("drop table if exists contract_notice")
