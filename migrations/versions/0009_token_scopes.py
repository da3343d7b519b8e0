"""region and national token scopes (issue 9)

Reserved in the chain so that work in parallel keeps one line of revisions; the owner fills it in.

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
