"""row-level security, the application role and append-only history

Tenant isolation lives in PostgreSQL, not only in Python (issue: accountability and isolation).
Every tenant-owned table has RLS enabled *and forced*, so even the owner is subject to it; the
application connects as ``accord_app``, which owns nothing and cannot bypass RLS. Policies read
transaction-local settings and fail closed: with no context, no rows.

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"

# Tables whose rows belong to one organisation (column org_id).
ORG_TABLES = (
    "unit_tier", "org_unit", "domain", "indicator", "target", "trajectory", "measurement", "forum", "assessment",
)
# Append-only history: the application may add and read, never change or remove.
APPEND_ONLY_TABLES = ("measurement_revision", "audit_event")
# Identity and directory tables: read before an organisation is known (login, access resolution).
# Contracts are directory data: who commissions whom, and the annual value, are published by NHS
# bodies; the access they grant (contractual indicators only) is enforced on the indicator tables.
DIRECTORY_TABLES = (
    "organisation", "health_system", "system_membership", "contract", "app_user", "role_assignment",
    "web_session", "api_token", "login_attempt",
)

READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
CONTRACT = "(select app_org_ids('app.contract_org_ids'))::int[]"

# Commissioners see the contractual indicators of providers they contract with, and nothing else
# of theirs (DOMAIN 4.1): the extra clause per table that lets them.
CONTRACTUAL_READ = {
    "indicator": f"org_id = any({CONTRACT}) and source = 'contractual'",
    "domain": f"org_id = any({CONTRACT})",
    "org_unit": f"org_id = any({CONTRACT}) and depth = 0",
    "unit_tier": f"org_id = any({CONTRACT}) and depth = 0",
    "target": f"org_id = any({CONTRACT}) and exists (select 1 from indicator i where i.id = indicator_id and i.source = 'contractual')",
    "trajectory": f"org_id = any({CONTRACT}) and exists (select 1 from indicator i where i.id = indicator_id and i.source = 'contractual')",
    "measurement": f"org_id = any({CONTRACT}) and exists (select 1 from indicator i where i.id = indicator_id and i.source = 'contractual')",
    "assessment": f"org_id = any({CONTRACT}) and exists (select 1 from indicator i where i.id = indicator_id and i.source = 'contractual')",
}


def upgrade() -> None:
    op.execute(
        f"""
        do $$ begin
          if not exists (select from pg_roles where rolname = '{APP_ROLE}') then
            create role {APP_ROLE} nologin nosuperuser nobypassrls;
          end if;
        end $$;
        """
    )
    op.execute(
        """
        create or replace function app_org_ids(setting text) returns int[]
        language sql stable parallel safe as $$
          select coalesce(string_to_array(nullif(current_setting(setting, true), ''), ',')::int[], '{}'::int[])
        $$;
        """
    )
    op.execute(f"grant usage on schema public to {APP_ROLE}")
    op.execute(f"grant execute on function app_org_ids(text) to {APP_ROLE}")
    op.execute(f"grant select on alembic_version to {APP_ROLE}")
    op.execute(f"grant usage, select on all sequences in schema public to {APP_ROLE}")

    for table in DIRECTORY_TABLES:
        op.execute(f"grant select, insert, update, delete on {table} to {APP_ROLE}")
    for table in ORG_TABLES:
        op.execute(f"grant select, insert, update, delete on {table} to {APP_ROLE}")
        _force_rls(table)
        extra = CONTRACTUAL_READ.get(table)
        read_clause = f"org_id = any({READ})" + (f" or ({extra})" if extra else "")
        op.execute(f"create policy {table}_read on {table} for select using ({read_clause})")
        op.execute(f"create policy {table}_insert on {table} for insert with check (org_id = any({WRITE}))")
        op.execute(f"create policy {table}_update on {table} for update using (org_id = any({WRITE})) with check (org_id = any({WRITE}))")
        op.execute(f"create policy {table}_delete on {table} for delete using (org_id = any({WRITE}))")

    for table in APPEND_ONLY_TABLES:
        op.execute(f"grant select, insert on {table} to {APP_ROLE}")
        op.execute(f"revoke update, delete, truncate on {table} from {APP_ROLE}")
        _force_rls(table)
    op.execute(f"create policy measurement_revision_read on measurement_revision for select using (org_id = any({READ}))")
    op.execute(f"create policy measurement_revision_insert on measurement_revision for insert with check (org_id = any({WRITE}))")
    # Audit rows about an organisation are readable by those who may read it; system-level rows
    # (org_id null) only through the owner. Anyone acting may append, but only as themselves.
    op.execute(f"create policy audit_event_read on audit_event for select using (org_id = any({READ}))")
    op.execute(
        "create policy audit_event_insert on audit_event for insert with check "
        "(actor_user_id is null or actor_user_id::text = nullif(current_setting('app.user_id', true), ''))"
    )
    # Belt and braces: even the owner cannot rewrite history without dropping this trigger first.
    op.execute(
        """
        create or replace function refuse_history_change() returns trigger language plpgsql as $$
        begin
          raise exception '% is append-only', tg_table_name using errcode = 'insufficient_privilege';
        end $$;
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"create trigger {table}_append_only before update or delete on {table} "
            f"for each row execute function refuse_history_change()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY_TABLES:
        op.execute(f"drop trigger if exists {table}_append_only on {table}")
    op.execute("drop function if exists refuse_history_change()")
    op.execute("drop policy if exists audit_event_read on audit_event")
    op.execute("drop policy if exists audit_event_insert on audit_event")
    op.execute("drop policy if exists measurement_revision_read on measurement_revision")
    op.execute("drop policy if exists measurement_revision_insert on measurement_revision")
    for table in ORG_TABLES:
        for suffix in ("read", "insert", "update", "delete"):
            op.execute(f"drop policy if exists {table}_{suffix} on {table}")
    for table in (*ORG_TABLES, *APPEND_ONLY_TABLES):
        op.execute(f"alter table {table} no force row level security")
        op.execute(f"alter table {table} disable row level security")
    for table in (*ORG_TABLES, *APPEND_ONLY_TABLES, *DIRECTORY_TABLES, "alembic_version"):
        op.execute(f"revoke all on {table} from {APP_ROLE}")
    op.execute(f"revoke usage, select on all sequences in schema public from {APP_ROLE}")
    op.execute(f"revoke usage on schema public from {APP_ROLE}")
    op.execute("drop function if exists app_org_ids(text)")
    # The role itself is cluster-wide and may serve other databases: it is left in place.


def _force_rls(table: str) -> None:
    op.execute(f"alter table {table} enable row level security")
    op.execute(f"alter table {table} force row level security")
