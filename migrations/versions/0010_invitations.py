"""invitations: a person invited by an administrator sets their own password (issue 11, onboarding)

An administrator (or the operator with ``accord create-admin`` / ``accord create-user``) creates an
account without a password and an invitation: a random secret, of which only the SHA-256 is stored,
valid for a limited time and once. Following the link, the person chooses a password (NCSC
guidance: length and a deny-list of common passwords, no composition rules). Like the other identity
tables, read before any organisation is known, so not under row-level security.

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"


def upgrade() -> None:
    op.execute("""
        create table invitation (
          id serial primary key,
          user_id integer not null references app_user (id) on delete cascade,
          secret_hash varchar not null unique,
          invited_by integer references app_user (id) on delete set null,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null,
          accepted_at timestamptz,
          constraint invitation_expires_after_creation check (expires_at > created_at)
        )
    """)
    op.execute("create index ix_invitation_user_id on invitation (user_id)")
    op.execute(f"grant select, insert, update, delete on invitation to {APP_ROLE}")
    op.execute(f"grant usage, select on sequence invitation_id_seq to {APP_ROLE}")


def downgrade() -> None:
    op.execute("drop table if exists invitation")
