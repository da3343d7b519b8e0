"""api_token.read_after_lsn: a tool's last write, for read-your-writes with a read replica

After a request made with a token wrote, the primary's WAL position (pg_current_wal_lsn() as a
number) is kept on the token's row, so that the tool's next requests, whichever app process answers
them, read the primary until the replica has replayed it (server/db/replica.py). People carry the
same position in a signed cookie.

Revision ID: 0021
Revises: 0020
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0021"
down_revision: Union[str, Sequence[str], None] = "0020"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table api_token add column read_after_lsn bigint")


def downgrade() -> None:
    op.execute("alter table api_token drop column read_after_lsn")
