"""Latest organisation-level assessments by organisation: one index scan per yearly partition

Reads of "every indicator's latest rating for these organisations" (a system position, the IPR,
a comparison) read the latest rows of the organisations asked as one set
(server/organisations/queries.py) instead of looking each indicator up in every partition. This
partial index holds only those rows (one per indicator), so it stays small and cheap to keep.

Revision ID: 0022
Revises: 0021
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0022"
down_revision: Union[str, Sequence[str], None] = "0021"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute(
        "create index assessment_latest_organisation_level_by_org on assessment (org_id, indicator_id)"
        " where is_latest and unit_id is null"
    )


def downgrade() -> None:
    op.execute("drop index if exists assessment_latest_organisation_level_by_org")
