"""notification and commentary keys begin with org_id (issue 16: every tenant table's keys include its organisation)

A notification belongs to the organisation it is about (its row-level security and the Citus
distribution column both go by ``org_id``), so its primary key becomes (org_id, id) and the "never
twice" key (org_id, recipient, dedupe key): a dedupe key names an event of one organisation anyway.
A commentary's primary key becomes (org_id, id) likewise.

Revision ID: 0015
Revises: 0014
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0015"
down_revision: Union[str, Sequence[str], None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table notification drop constraint notification_pkey")
    op.execute("alter table notification add constraint notification_pkey primary key (org_id, id)")
    op.execute("alter table notification drop constraint notification_once_per_person")
    op.execute("alter table notification add constraint notification_once_per_person unique (org_id, recipient_user_id, dedupe_key)")
    op.execute("alter table commentary drop constraint commentary_pkey")
    op.execute("alter table commentary add constraint commentary_pkey primary key (org_id, id)")


def downgrade() -> None:
    op.execute("alter table commentary drop constraint commentary_pkey")
    op.execute("alter table commentary add constraint commentary_pkey primary key (id)")
    op.execute("alter table notification drop constraint notification_once_per_person")
    op.execute("alter table notification add constraint notification_once_per_person unique (recipient_user_id, dedupe_key)")
    op.execute("alter table notification drop constraint notification_pkey")
    op.execute("alter table notification add constraint notification_pkey primary key (id)")
