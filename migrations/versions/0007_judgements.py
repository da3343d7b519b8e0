"""judgements as data, and the daily ladder tick (issue 11)

``judgement``: what a person judged about a subject (a risk rating, System QPC's assurance, the
ULHT Executive Team's decision), by whom, in which role, why, when and until when. Append-only like
the audit trail: a new judgement supersedes the last one of its kind about the subject (a pointer,
never an update) and a withdrawal is a row of its own, so the whole history stays readable. Forced
row-level security: read by those who read the organisation, added only for an organisation the
request writes for and only in the actor's own name.

``ladder_tick``: one row per day the ladders were re-run for time passing; with the transaction's
advisory lock it makes ``accord tick`` and the in-process scheduler run once a day across processes.

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
USER = "(select nullif(current_setting('app.user_id', true), ''))"
SUBJECT_TYPES = "('indicator', 'unit', 'domain', 'organisation', 'contract', 'programme', 'plan')"


def upgrade() -> None:
    op.execute(f"""
        create table judgement (
          id serial primary key,
          org_id integer not null references organisation (id) on delete cascade,
          kind varchar not null,
          subject_type varchar not null,
          subject_key varchar not null,
          subject_name varchar not null,
          value jsonb,
          withdrawn boolean not null default false,
          reason varchar not null,
          recorded_by integer references app_user (id) on delete restrict,
          recorded_by_name varchar not null,
          recorded_role varchar not null,
          recorded_at timestamptz not null default now(),
          expires_at timestamptz,
          supersedes_id integer references judgement (id) on delete restrict,
          meeting_id integer,
          escalation_id integer,
          context jsonb not null default '{{}}',
          constraint judgement_subject_type_known check (subject_type in {SUBJECT_TYPES}),
          constraint judgement_reason_given check (length(trim(reason)) > 0),
          constraint judgement_value_given check (withdrawn or value is not null),
          constraint judgement_value_typed check (value is null or jsonb_typeof(value) in ('boolean', 'string')),
          constraint judgement_expires_after_recorded check (expires_at is null or expires_at > recorded_at)
        )
    """)
    op.execute("create index ix_judgement_org_id on judgement (org_id)")
    op.execute("create index judgement_current on judgement (org_id, subject_key, kind, recorded_at desc, id desc)")
    op.execute("alter table judgement enable row level security")
    op.execute("alter table judgement force row level security")
    op.execute(f"grant select, insert on judgement to {APP_ROLE}")
    op.execute(f"revoke update, delete, truncate on judgement from {APP_ROLE}")
    op.execute(f"grant usage, select on sequence judgement_id_seq to {APP_ROLE}")
    op.execute(f"create policy judgement_read on judgement for select using (org_id = any({READ}))")
    op.execute(
        f"create policy judgement_insert on judgement for insert with check"
        f" (org_id = any({WRITE}) and (recorded_by is null or recorded_by::text = {USER}))"
    )
    # As measurement_revision and audit_event (0002): even the owner cannot rewrite a judgement.
    op.execute(
        "create trigger judgement_append_only before update or delete on judgement"
        " for each row execute function refuse_history_change()"
    )

    op.execute("""
        create table ladder_tick (
          day date primary key,
          started_at timestamptz not null default now(),
          finished_at timestamptz,
          organisations integer not null default 0,
          changed integer not null default 0
        )
    """)
    op.execute(f"grant select, insert, update on ladder_tick to {APP_ROLE}")


def downgrade() -> None:
    op.execute("drop table if exists ladder_tick")
    op.execute("drop table if exists judgement")
