"""indexes for the reads tools make across organisations

Measured at national scale (210 organisations x 250 indicators x 60 months, bench_graphql.py): one
indicator's latest rating across every organisation visited every stored period of every matching
series (60 per series, each checked against the request's organisations by row-level security)
before keeping the latest; the indicator code had no index of its own. A partial index holds
exactly the rows those reads want: each series' latest organisation-level assessment.

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("create index assessment_latest_organisation_level on assessment (indicator_id) where is_latest and unit_id is null")
    op.execute("create index assessment_latest_by_unit on assessment (indicator_id, unit_id) where is_latest")
    op.execute("create index indicator_code on indicator (code)")
    # Row-level security's organisation filter and a read's indicator filter in one index scan: with
    # the organisation index alone, a reader of every organisation made the planner AND a bitmap of
    # all 3.1M measurement rows (100 ms) to keep the 1,200 of 20 indicators.
    op.execute("create index measurement_indicator_org on measurement (indicator_id, org_id, period)")


def downgrade() -> None:
    op.execute("drop index if exists measurement_indicator_org")
    op.execute("drop index if exists indicator_code")
    op.execute("drop index if exists assessment_latest_by_unit")
    op.execute("drop index if exists assessment_latest_organisation_level")
