"""write policies that mirror the accountability matrix

Issue 12: row-level security was looser for writes than the application. A partner's context could
rewrite or re-home a plan it does not own, turn its agreement into another organisation's, add
events and trajectory rows to the plan, and any context could append to another organisation's
audit trail. After this revision:

- no row moves to another organisation (or another plan): a trigger refuses the change of a key
  column, and every write policy's ``with check`` names an organisation the request writes for;
- a partner writes only its own agreement; of a plan it does not own it may change nothing but the
  status, and only to 'agreed' once every partner's agreement is live (the last signer's
  transaction does that, see ``server/plans/workflow.agree``), and it may record only the
  agreement events of that path;
- audit rows name an organisation the writer writes for, or one it reads when the writer names
  itself as the actor (role administration, report issue), or, for a partner, the owner of the
  shared plan it acted on;
- commissioners read the organisation-level figures of contractual indicators only: measurements
  at the root unit, assessments and trajectories with no unit (DOMAIN 4.1).

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
CONTRACT = "(select app_org_ids('app.contract_org_ids'))::int[]"
USER = "(select nullif(current_setting('app.user_id', true), ''))"

# The columns that place a row: changing one would move the row to another organisation or parent.
PLACING_COLUMNS = {
    **{table: ("org_id",) for table in (
        "unit_tier", "org_unit", "domain", "indicator", "target", "trajectory", "measurement", "forum", "assessment",
        "tenant_framework", "maturity_assessment", "escalation", "meeting", "meeting_attendance", "action", "improvement_plan",
    )},
    "plan_partner": ("plan_id", "org_id", "owner_org_id"),
    # An agreement is a signature: only its withdrawal may change later.
    "plan_agreement": ("plan_id", "org_id", "owner_org_id", "user_id", "role", "plan_version", "agreed_at"),
    "plan_trajectory": ("plan_id",),
}

PLAN_OWNED = f"exists (select 1 from improvement_plan p where p.id = plan_id and p.org_id = any({WRITE}))"
CONTRACTUAL_INDICATOR = "exists (select 1 from indicator i where i.id = indicator_id and i.source = 'contractual')"
ROOT_UNIT = "exists (select 1 from org_unit u where u.id = unit_id and u.parent_id is null)"
# Who may read what; measurement, assessment and trajectory lose their per-unit rows for commissioners.
COMMISSIONER_READ = {
    "measurement": f"org_id = any({CONTRACT}) and {CONTRACTUAL_INDICATOR} and {ROOT_UNIT}",
    "assessment": f"org_id = any({CONTRACT}) and {CONTRACTUAL_INDICATOR} and unit_id is null",
    "trajectory": f"org_id = any({CONTRACT}) and {CONTRACTUAL_INDICATOR} and unit_id is null",
}
# As in 0002, to restore on downgrade.
COMMISSIONER_READ_0002 = {table: f"org_id = any({CONTRACT}) and {CONTRACTUAL_INDICATOR}" for table in COMMISSIONER_READ}

# A partner's plan events: its own agreement, and the last signer's note that every partner agreed.
PARTNER_PLAN_EVENT = (
    f"p.partner_org_ids && {WRITE} and ("
    f"(event = 'partner_agreed' and acting_for_org_id = any({WRITE}) and acting_for_org_id = any(p.partner_org_ids))"
    " or (event = 'all_partners_agreed' and acting_for_org_id is null))"
)
PLAN_EVENT_INSERT = (
    f"exists (select 1 from improvement_plan p where p.id = plan_id and (p.org_id = any({WRITE}) or ({PARTNER_PLAN_EVENT})))"
)
AGREEMENT_BELONGS = (
    "exists (select 1 from improvement_plan p where p.id = plan_id and p.org_id = owner_org_id"
    " and plan_agreement.org_id = any(p.partner_org_ids))"
)
# Signing is the partner's; withdrawing is the partner's or the owner's (a substantive edit withdraws).
AGREEMENT_INSERT = f"org_id = any({WRITE}) and {AGREEMENT_BELONGS}"
AGREEMENT_UPDATE = f"(org_id = any({WRITE}) or owner_org_id = any({WRITE})) and {AGREEMENT_BELONGS}"
PLAN_PARTNER_WRITE = (
    f"owner_org_id = any({WRITE}) and exists (select 1 from improvement_plan p where p.id = plan_id and p.org_id = owner_org_id)"
)
AUDIT_INSERT = (
    f"(actor_user_id is null or actor_user_id::text = {USER}) and ("
    f"org_id = any({WRITE})"
    # Role administration and report issue are done by people who read, not write, the organisation:
    # they append in their own name (the operator at the command line has no user at all).
    f" or (org_id = any({READ}) and (actor_user_id is not null or {USER} is null))"
    # The last partner to agree records the plan's agreement in the owner's trail.
    " or (object_type = 'improvement_plan' and exists (select 1 from improvement_plan p"
    f" where p.id::text = object_id and p.org_id = audit_event.org_id and p.partner_org_ids && {WRITE})))"
)
AUDIT_INSERT_0002 = "(actor_user_id is null or actor_user_id::text = nullif(current_setting('app.user_id', true), ''))"

PLAN_WRITABLE_0003 = (
    f"exists (select 1 from improvement_plan p where p.id = plan_id and (p.org_id = any({WRITE}) or p.partner_org_ids && {WRITE}))"
)


def upgrade() -> None:
    op.execute(
        """
        create or replace function refuse_move() returns trigger language plpgsql as $$
        begin
          raise exception 'a % row stays with its organisation and parent', tg_table_name using errcode = 'insufficient_privilege';
        end $$;
        """
    )
    for table, columns in PLACING_COLUMNS.items():
        old = ", ".join(f"old.{column}" for column in columns)
        new = ", ".join(f"new.{column}" for column in columns)
        op.execute(
            f"create trigger {table}_stays_put before update on {table} for each row"
            f" when (row({old}) is distinct from row({new})) execute function refuse_move()"
        )

    # A partner's transaction needs UPDATE's USING on the plan to take the row lock (select ... for
    # update applies it), so the partner's limits are in WITH CHECK and a trigger that sees the old row.
    op.execute(
        """
        create or replace function restrict_partner_plan_update() returns trigger language plpgsql as $$
        begin
          -- pg_trigger_depth() > 1: a foreign key's 'set null' (an indicator removed), not a request.
          if old.org_id = any(app_org_ids('app.write_org_ids')) or pg_trigger_depth() > 1 then
            return new;
          end if;
          if (to_jsonb(new) - 'status' - 'updated_at') is distinct from (to_jsonb(old) - 'status' - 'updated_at')
             or new.status <> 'agreed'
             or exists (select 1 from unnest(old.partner_org_ids) partner where not exists (
                  select 1 from plan_agreement a where a.plan_id = old.id and a.org_id = partner and a.withdrawn_at is null)) then
            raise exception 'a partner organisation changes plan % only by completing the partners'' agreement', old.id
              using errcode = 'insufficient_privilege';
          end if;
          return new;
        end $$;
        """
    )
    op.execute(
        "create trigger improvement_plan_partner_only_agrees before update on improvement_plan"
        " for each row execute function restrict_partner_plan_update()"
    )
    op.execute("drop policy improvement_plan_update on improvement_plan")
    op.execute(
        f"create policy improvement_plan_update on improvement_plan for update"
        f" using (org_id = any({WRITE}) or partner_org_ids && {WRITE})"
        f" with check (org_id = any({WRITE}) or (partner_org_ids && {WRITE} and status = 'agreed'))"
    )

    op.execute("drop policy plan_event_insert on plan_event")
    op.execute(f"create policy plan_event_insert on plan_event for insert with check ({PLAN_EVENT_INSERT})")
    op.execute("drop policy plan_trajectory_write on plan_trajectory")
    op.execute(f"create policy plan_trajectory_write on plan_trajectory for all using ({PLAN_OWNED}) with check ({PLAN_OWNED})")
    op.execute("drop policy plan_agreement_insert on plan_agreement")
    op.execute(f"create policy plan_agreement_insert on plan_agreement for insert with check ({AGREEMENT_INSERT})")
    op.execute("drop policy plan_agreement_withdraw on plan_agreement")
    op.execute(
        f"create policy plan_agreement_withdraw on plan_agreement for update using ({AGREEMENT_UPDATE}) with check ({AGREEMENT_UPDATE})"
    )
    op.execute("drop policy plan_partner_write on plan_partner")
    op.execute(
        f"create policy plan_partner_write on plan_partner for all using ({PLAN_PARTNER_WRITE}) with check ({PLAN_PARTNER_WRITE})"
    )
    op.execute("drop policy audit_event_insert on audit_event")
    op.execute(f"create policy audit_event_insert on audit_event for insert with check ({AUDIT_INSERT})")

    for table, clause in COMMISSIONER_READ.items():
        _replace_read(table, clause)


def downgrade() -> None:
    for table, clause in COMMISSIONER_READ_0002.items():
        _replace_read(table, clause)
    op.execute("drop policy audit_event_insert on audit_event")
    op.execute(f"create policy audit_event_insert on audit_event for insert with check ({AUDIT_INSERT_0002})")
    op.execute("drop policy plan_partner_write on plan_partner")
    op.execute(
        f"create policy plan_partner_write on plan_partner for all using (owner_org_id = any({WRITE})) with check (owner_org_id = any({WRITE}))"
    )
    op.execute("drop policy plan_agreement_withdraw on plan_agreement")
    op.execute(f"create policy plan_agreement_withdraw on plan_agreement for update using ({PLAN_WRITABLE_0003})")
    op.execute("drop policy plan_agreement_insert on plan_agreement")
    op.execute(f"create policy plan_agreement_insert on plan_agreement for insert with check (org_id = any({WRITE}))")
    op.execute("drop policy plan_trajectory_write on plan_trajectory")
    op.execute(
        f"create policy plan_trajectory_write on plan_trajectory for all using ({PLAN_WRITABLE_0003}) with check ({PLAN_WRITABLE_0003})"
    )
    op.execute("drop policy plan_event_insert on plan_event")
    op.execute(f"create policy plan_event_insert on plan_event for insert with check ({PLAN_WRITABLE_0003})")
    op.execute("drop policy improvement_plan_update on improvement_plan")
    op.execute(
        f"create policy improvement_plan_update on improvement_plan for update"
        f" using (org_id = any({WRITE}) or partner_org_ids && {WRITE}) with check (org_id = any({WRITE}) or partner_org_ids && {WRITE})"
    )
    op.execute("drop trigger improvement_plan_partner_only_agrees on improvement_plan")
    op.execute("drop function restrict_partner_plan_update()")
    for table in PLACING_COLUMNS:
        op.execute(f"drop trigger {table}_stays_put on {table}")
    op.execute("drop function refuse_move()")


def _replace_read(table: str, commissioner_clause: str) -> None:
    op.execute(f"drop policy {table}_read on {table}")
    op.execute(f"create policy {table}_read on {table} for select using (org_id = any({READ}) or ({commissioner_clause}))")
