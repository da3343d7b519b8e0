"""regions, and region and national scopes for role assignments and API tokens (issue 9)

A regional or national tool (an NHS England region's analysts, a national returns service) reads
across systems. Regions are directory data, declared by each system's tenant file
(``system.region``); a role may now be held for a region (``region:<code>``: every member of every
system in the region) or nationally (``national``: every organisation), and a token may carry that
scope. Casbin decides which roles read at those scopes (policies/policy.csv); row-level security is
unchanged, since access still arrives as the transaction's list of readable organisations.

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
ONE_SCOPE = "num_nonnulls(org_id, system_id, region_id, nullif(national, false)) = 1"
ONE_SCOPE_0001 = "(org_id is null) <> (system_id is null)"


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
    )
    op.create_index("ix_region_code", "region", ["code"], unique=True)
    # A directory table like organisation and health_system: read before any organisation is known.
    op.execute(f"grant select, insert, update, delete on region to {APP_ROLE}")
    op.execute(f"grant usage, select on sequence region_id_seq to {APP_ROLE}")

    # The access cache reads regions (region code -> systems): a change must reach every process,
    # through 0008's notification function (absent only while 0008 is an empty placeholder).
    op.execute(
        """
        do $$ begin
          if exists (select from pg_proc where proname = 'accord_notify_access') then
            create trigger region_access_changed after insert or update or delete or truncate on region
              for each statement execute function accord_notify_access();
          end if;
        end $$;
        """
    )

    op.add_column("health_system", sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id", ondelete="SET NULL"), nullable=True))
    op.create_index("ix_health_system_region_id", "health_system", ["region_id"])

    for table in ("role_assignment", "api_token"):
        op.add_column(table, sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id", ondelete="CASCADE"), nullable=True))
        op.add_column(table, sa.Column("national", sa.Boolean(), nullable=False, server_default=sa.false()))
        op.drop_constraint(f"{table}_one_scope", table, type_="check")
        op.create_check_constraint(f"{table}_one_scope", table, ONE_SCOPE)
    op.create_index("ix_role_assignment_region_id", "role_assignment", ["region_id"])
    op.drop_constraint("role_assignment_unique", "role_assignment", type_="unique")
    op.create_unique_constraint(
        "role_assignment_unique", "role_assignment", ["user_id", "role", "org_id", "system_id", "region_id", "national"],
        postgresql_nulls_not_distinct=True,
    )


def downgrade() -> None:
    # Region and national grants and tokens have no place in the older schema: they go with it.
    op.execute("delete from role_assignment where region_id is not null or national")
    op.execute("delete from api_token where region_id is not null or national")
    op.drop_constraint("role_assignment_unique", "role_assignment", type_="unique")
    op.create_unique_constraint(
        "role_assignment_unique", "role_assignment", ["user_id", "role", "org_id", "system_id"], postgresql_nulls_not_distinct=True,
    )
    op.drop_index("ix_role_assignment_region_id", table_name="role_assignment")
    for table in ("role_assignment", "api_token"):
        op.drop_constraint(f"{table}_one_scope", table, type_="check")
        op.create_check_constraint(f"{table}_one_scope", table, ONE_SCOPE_0001)
        op.drop_column(table, "national")
        op.drop_column(table, "region_id")
    op.drop_index("ix_health_system_region_id", table_name="health_system")
    op.drop_column("health_system", "region_id")
    op.execute("drop trigger if exists region_access_changed on region")
    op.drop_index("ix_region_code", table_name="region")
    op.drop_table("region")
