"""mutual benchmarking agreements between organisations (issue 15, ULHT 8.2, THGPCG 8)

``peer_group_declaration`` holds each ``peer_groups:`` entry of a tenant file, written by the tenant
loader in the transaction that stores the file (server/tenants/load.py): the group's code and name,
the organisations it names (``member_ids``, the declaring one included) and the indicator codes the
declaring organisation agrees to share in it (``shares``). A declaration belongs to its organisation:
forced row-level security, read by those who read it, written only by a request that writes for it.

``benchmark_peers(subject, peer_group, indicator_code, at)`` returns the benchmark of the peers of one
organisation in one of its groups that have agreed to it, even when the caller may not read them:

- nothing unless ``subject`` is in the request's readable organisations (``app.org_ids``, the setting
  the policies of 0002 read; a commissioner's contractual reading does not count);
- a peer only when both sides declare the group (same code) and each names the other: a file that
  names another organisation exposes nothing of it by itself;
- a code only when the peer shares it in that group;
- only the benchmark: the organisation-level (``unit_id`` null) value, target and rating at the
  period, with the peer's code and name. Never units, numerators, evidence or anything else.

It is SECURITY DEFINER because the caller cannot read the peers. Row-level security is forced on the
owner too, so, like compose_member_figures (0019), it widens the request's reading context for its
one query, to the organisations the subject's own declaration names and no further, and sets the
caller's context back before it returns. The application role may only EXECUTE it.

Revision ID: 0025
Revises: 0030 (numbers were handed out in advance; 0029 and 0030 landed first, so the chain runs 0024, 0029, 0030, 0025)
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0025"
down_revision: Union[str, Sequence[str], None] = "0030"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"
READ = "(select app_org_ids('app.org_ids'))::int[]"
WRITE = "(select app_org_ids('app.write_org_ids'))::int[]"
SIGNATURE = "benchmark_peers(int, text, text, date)"

FUNCTION = """
create function benchmark_peers(subject int, peer_group text, indicator_code text, at date)
returns table (organisation_id int, organisation_code text, organisation_name text, unit text,
               value double precision, target double precision, rag text)
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $function$
#variable_conflict use_column
declare
  callers_read text := current_setting('app.org_ids', true);
  named int[];
begin
  if benchmark_peers.subject is null or not benchmark_peers.subject = any(app_org_ids('app.org_ids')) then
    return;
  end if;
  -- The subject's own declaration, read in the caller's context (the caller reads the subject).
  select d.member_ids into named from peer_group_declaration d
   where d.org_id = benchmark_peers.subject and d.group_code = benchmark_peers.peer_group;
  if named is null then
    return;
  end if;
  perform set_config('app.org_ids', array_to_string(named, ','), true);
  return query
    select o.id, o.code::text, o.name::text, i.unit::text, a.value, a.target, coalesce(a.rag, 'none')::text
      from peer_group_declaration theirs
      join organisation o on o.id = theirs.org_id
      join indicator i on i.org_id = theirs.org_id and i.code = benchmark_peers.indicator_code
      left join assessment a on a.org_id = i.org_id and a.indicator_id = i.id and a.unit_id is null and a.period = benchmark_peers.at
     where theirs.group_code = benchmark_peers.peer_group and theirs.org_id = any(named) and theirs.org_id <> benchmark_peers.subject
       -- mutual: the peer names the subject in the same group, and shares this code in it
       and benchmark_peers.subject = any(theirs.member_ids) and benchmark_peers.indicator_code = any(theirs.shares);
  perform set_config('app.org_ids', coalesce(callers_read, ''), true);
end
$function$
"""


def upgrade() -> None:
    op.execute("""
        create table peer_group_declaration (
          org_id integer not null references organisation (id) on delete cascade,
          group_code varchar not null,
          name varchar not null,
          position integer not null,
          member_ids integer[] not null,
          shares varchar[] not null,
          source varchar,
          constraint peer_group_declaration_pkey primary key (org_id, group_code),
          constraint peer_group_declaration_names_itself check (org_id = any(member_ids))
        )
    """)
    op.execute(f"grant select, insert, update, delete on peer_group_declaration to {APP_ROLE}")
    op.execute("alter table peer_group_declaration enable row level security")
    op.execute("alter table peer_group_declaration force row level security")
    op.execute(f"create policy peer_group_declaration_read on peer_group_declaration for select using (org_id = any({READ}))")
    op.execute(f"create policy peer_group_declaration_insert on peer_group_declaration for insert with check (org_id = any({WRITE}))")
    op.execute(f"create policy peer_group_declaration_update on peer_group_declaration for update using (org_id = any({WRITE}))"
               f" with check (org_id = any({WRITE}))")
    op.execute(f"create policy peer_group_declaration_delete on peer_group_declaration for delete using (org_id = any({WRITE}))")
    op.execute(FUNCTION)
    op.execute(f"revoke all on function {SIGNATURE} from public")
    op.execute(f"grant execute on function {SIGNATURE} to {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"drop function if exists {SIGNATURE}")
    op.execute("drop table if exists peer_group_declaration")
