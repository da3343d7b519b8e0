"""targets per unit (issue 15): a target may be set for any unit and is inherited from the parent

THGPCG breaks the Board's targets down to teams; ULHT sets each division's share (e.g. an agency
spend cap). ``target.unit_id`` names the unit (null: the organisation's own target, as before); a
unit without a target of its own is rated against its nearest ancestor's, then the organisation's.
A unit's target stays with its organisation (same-organisation foreign key), and the uniqueness of
a kind and start date now holds per unit, nulls counting as one (PostgreSQL 15+).

Revision ID: 0012
Revises: 0011
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("alter table target add column unit_id integer")
    op.execute(
        "alter table target add constraint target_unit_same_org foreign key (org_id, unit_id)"
        " references org_unit (org_id, id) on delete cascade"
    )
    op.execute("alter table target drop constraint target_one_per_kind_and_start")
    op.execute(
        "alter table target add constraint target_one_per_kind_and_start"
        " unique nulls not distinct (indicator_id, unit_id, kind, valid_from)"
    )
    # A row stays with its organisation, indicator and unit (0004's trigger covered org_id only).
    op.execute("drop trigger if exists target_stays_put on target")
    op.execute(
        "create trigger target_stays_put before update on target for each row"
        " when (row(old.org_id, old.indicator_id, old.unit_id) is distinct from row(new.org_id, new.indicator_id, new.unit_id))"
        " execute function refuse_move()"
    )


def downgrade() -> None:
    op.execute("drop trigger if exists target_stays_put on target")
    op.execute("create trigger target_stays_put before update on target for each row"
               " when (row(old.org_id) is distinct from row(new.org_id)) execute function refuse_move()")
    op.execute("delete from target where unit_id is not null")
    op.execute("alter table target drop constraint target_one_per_kind_and_start")
    op.execute("alter table target add constraint target_one_per_kind_and_start unique (indicator_id, kind, valid_from)")
    op.execute("alter table target drop constraint target_unit_same_org")
    op.execute("alter table target drop column unit_id")
