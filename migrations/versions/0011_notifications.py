"""notifications: what a person is told, in the app and by email (issue 15)

``notification``: one message to one person about one event of one organisation: an escalation
that opened or moved to a forum they sit on, a plan sign-off waiting for them, a data pack or
report deadline near. ``dedupe_key`` is unique per recipient, so re-running the ladders, the tick or
a plan step never tells a person the same thing twice (``insert ... on conflict do nothing``).

Row-level security is forced and reads like a letterbox: a person reads and marks read only the
notifications addressed to them (``app.user_id``), whatever organisation they are about: a message
already delivered is theirs, as an email in their inbox would be. A notification is added only for
an organisation the request writes for (the ladders, a plan step, the tick acting for it). The
delivery run, which has no person (``app.user_id`` empty), reads and stamps the notifications of the
organisation it acts for. Nobody deletes one.

``notification_preference``: a person's choice of email now or one daily digest (or none). Keyed by
the person only and read before any organisation is known, like the other identity tables.

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
USER = "(select nullif(current_setting('app.user_id', true), ''))"
KINDS = "('escalation', 'sign_off', 'pack_deadline', 'report_deadline')"
# The recipient, or the delivery run acting for the notification's organisation (no person).
RECIPIENT_OR_DELIVERY = f"(recipient_user_id = {USER}::int or ({USER} is null and org_id = any({WRITE})))"


def upgrade() -> None:
    op.execute(f"""
        create table notification (
          id serial primary key,
          recipient_user_id integer not null references app_user (id) on delete cascade,
          org_id integer not null references organisation (id) on delete cascade,
          kind varchar not null,
          subject varchar not null,
          body text not null,
          link varchar not null,
          dedupe_key varchar not null,
          created_at timestamptz not null default now(),
          read_at timestamptz,
          emailed_at timestamptz,
          email_channel varchar,
          email_attempts integer not null default 0,
          email_error varchar,
          constraint notification_kind_known check (kind in {KINDS}),
          constraint notification_email_channel_known check (email_channel in ('smtp', 'outbox', 'digest_smtp', 'digest_outbox')),
          constraint notification_link_is_a_path check (link like '/%' and link not like '//%'),
          constraint notification_once_per_person unique (recipient_user_id, dedupe_key)
        )
    """)
    op.execute("create index ix_notification_org_id on notification (org_id)")
    op.execute("create index notification_inbox on notification (recipient_user_id, created_at desc, id desc)")
    op.execute("create index notification_to_email on notification (org_id, created_at) where emailed_at is null")
    op.execute("alter table notification enable row level security")
    op.execute("alter table notification force row level security")
    op.execute(f"grant select, insert on notification to {APP_ROLE}")
    # Only what reading and delivering change: nobody rewrites what a person was told.
    op.execute(f"grant update (read_at, emailed_at, email_channel, email_attempts, email_error) on notification to {APP_ROLE}")
    op.execute(f"grant usage, select on sequence notification_id_seq to {APP_ROLE}")
    op.execute(f"create policy notification_read on notification for select using {RECIPIENT_OR_DELIVERY}")
    op.execute(f"create policy notification_insert on notification for insert with check (org_id = any({WRITE}))")
    op.execute(f"create policy notification_update on notification for update using {RECIPIENT_OR_DELIVERY} with check {RECIPIENT_OR_DELIVERY}")

    op.execute("""
        create table notification_preference (
          user_id integer primary key references app_user (id) on delete cascade,
          email varchar not null default 'immediately',
          updated_at timestamptz not null default now(),
          constraint notification_preference_email_known check (email in ('immediately', 'daily_digest', 'never'))
        )
    """)
    op.execute(f"grant select, insert, update on notification_preference to {APP_ROLE}")


def downgrade() -> None:
    op.execute("drop table if exists notification_preference")
    op.execute("drop table if exists notification")
