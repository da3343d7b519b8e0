"""state shared by several app processes (issue 16)

Several app processes serve one database. What one process caches about access (the directory of
organisations, systems, memberships and contracts) must be dropped by every process when any of
them commits a change: statement-level triggers send ``NOTIFY accord_access`` with the table's
name, which PostgreSQL delivers to listeners only when (and if) the transaction commits
(``server.auth.authz.AccessWatcher``). A table added later to the directory needs the same trigger:
``tests/deploy/test_access_notifications.py`` checks every table the access cache reads.

The failed-login throttle counts recent failures by address and by email (``server.auth.sessions``):
its indexes lead with the key and end with the time, so each count reads only the window.

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACCESS_CHANNEL = "accord_access"
DIRECTORY_TABLES = ("organisation", "health_system", "system_membership", "contract")


def upgrade() -> None:
    op.execute(
        f"""
        create function accord_notify_access() returns trigger language plpgsql as $$
        begin
          perform pg_notify('{ACCESS_CHANNEL}', tg_table_name);
          return null;
        end $$;
        """
    )
    for table in DIRECTORY_TABLES:
        op.execute(
            f"create trigger {table}_access_changed after insert or update or delete or truncate on {table}"
            " for each statement execute function accord_notify_access()"
        )
    op.drop_index("ix_login_attempt_email", table_name="login_attempt")
    op.drop_index("ix_login_attempt_ip", table_name="login_attempt")
    op.create_index("ix_login_attempt_email_at", "login_attempt", ["email", "at"])
    op.create_index("ix_login_attempt_ip_at", "login_attempt", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempt_ip_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_email_at", table_name="login_attempt")
    op.create_index("ix_login_attempt_ip", "login_attempt", ["ip"])
    op.create_index("ix_login_attempt_email", "login_attempt", ["email"])
    for table in DIRECTORY_TABLES:
        op.execute(f"drop trigger {table}_access_changed on {table}")
    op.execute("drop function accord_notify_access()")
