"""recorded decisions to recalculate SPC limits (issue 13)

Reserved in the chain so that work in parallel keeps one line of revisions; the owner fills it in.

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
