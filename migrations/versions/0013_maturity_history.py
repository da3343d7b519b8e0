"""maturity self-assessments are history: added and read, never changed or removed (issue 15)

A new self-assessment supersedes the one in force (server/maturity/record.py); the application
never updates or deletes one, and from this revision the database refuses it too, as it does for
measurement revisions and the audit trail. Referential actions (an organisation removed, an
assessor's account removed) run as the table's owner and are unaffected.

Revision ID: 0013
Revises: 0012
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"


def upgrade() -> None:
    op.execute(f"revoke update, delete, truncate on maturity_assessment from {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"grant update, delete on maturity_assessment to {APP_ROLE}")
