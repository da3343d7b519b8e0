"""org_unit.rolls_up: a unit whose figures stay out of its parent's (issue 15, WHSSC's contract units)

A commissioner records its contracted providers' figures at one unit per contract (tenant file
``contracts[].monitoring.unit``). Those are the provider's figures, not the commissioner's: they
must never roll up into the commissioner's own totals. The tenant file says so per unit
(``rolls_up: false``); the loader keeps it here with ``rollup_top_path``, the path of the deepest
unit at or above this one that does not roll up ('' when there is none: the unit's measurements
roll up to the organisation). A leaf's measurement counts at unit U exactly when U's path begins
with the leaf's ``rollup_top_path``: one more predicate on the path joins that roll up, no walk.

``compose_member_figures`` (a system's figures from its members', 0019) sums a member's measurements
over all its units: it now takes only those that roll up to the member's own figures.

Revision ID: 0023
Revises: 0022
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: Union[str, Sequence[str], None] = "0022"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COMPOSE = "compose_member_figures(int, int, int[], date[], int)"
EDITS = (
    ("and (s.member_rollup <> 'none' or u.parent_id is null)",
     "and (s.member_rollup <> 'none' or u.parent_id is null) and u.rollup_top_path = ''"),
)


def upgrade() -> None:
    op.execute("alter table org_unit add column rolls_up boolean not null default true")
    op.execute("alter table org_unit add column rollup_top_path varchar not null default ''")
    op.execute("alter table org_unit add constraint org_unit_root_rolls_up check (depth > 0 or rolls_up)")
    _edit_compose(forward=True)


def downgrade() -> None:
    _edit_compose(forward=False)
    op.execute("alter table org_unit drop constraint org_unit_root_rolls_up")
    op.execute("alter table org_unit drop column rollup_top_path")
    op.execute("alter table org_unit drop column rolls_up")


def _edit_compose(*, forward: bool) -> None:
    connection = op.get_bind()
    definition = connection.execute(sa.text("select pg_get_functiondef(to_regprocedure(:f))"), {"f": COMPOSE}).scalar_one_or_none()
    if definition is None:
        return
    for before, after in EDITS:
        old, new = (before, after) if forward else (after, before)
        if old not in definition:
            raise RuntimeError(f"{COMPOSE} no longer contains {old!r}: update EDITS in this migration")
        definition = definition.replace(old, new)
    op.execute(definition)
