"""a system's own figures computed from its members' (issue 15), and outturn settings

``indicator.from_members`` declares that a system indicator is the same measure as some of its
members' (which indicator of which member, and how they combine); ``indicator.outturn`` declares
the year-to-date and forecast outturn of a finance-style indicator. Both come from the tenant file.

``compose_member_figures`` computes the system's measurements from the members' stored ones, for
every period (or the periods given) in one statement, and stores those that changed as the
system's measurements at its root unit (source 'members', a revision each), so the normal
derivation gives them SPC, ratings and ladders. It runs in the transaction of the member's
submission, whose access context cannot read the other members or write the system: so it is
SECURITY DEFINER, and within it it reads every organisation and writes only the systems whose
figures it composes, then sets the caller's context back before it returns. (Row-level security
is forced on the owner too, so the function sets the context rather than relying on its owner.) It
returns only which system figures changed, never a value, so a caller learns nothing of another
member's data. It takes the derivation lock of each system indicator it composes (lock_kind, from
server/assessment_store/locks.py) before reading the members' rows: a concurrent submission by
another member waits, and then reads this one's committed values.

Revision ID: 0019
Revises: 0018
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0019"
down_revision: Union[str, Sequence[str], None] = "0018"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"

# Every (system indicator, member indicator) pair a tenant file declares, for members of the system.
SOURCES = """
    select si.org_id as system_org_id, si.id as system_indicator_id, si.from_members->>'combine' as combine,
           (select count(*) from jsonb_object_keys(si.from_members->'indicators')) as expected,
           mi.id as member_indicator_id, mi.org_id as member_org_id, mi.rollup as member_rollup
    from indicator si
    cross join lateral jsonb_each_text(si.from_members->'indicators') as declared(member_code, indicator_code)
    join organisation mo on mo.code = declared.member_code
    join health_system h on h.organisation_id = si.org_id
    join system_membership sm on sm.system_id = h.id and sm.organisation_id = mo.id
    join indicator mi on mi.org_id = mo.id and mi.code = declared.indicator_code
    where si.from_members is not null
"""

FUNCTION = f"""
create or replace function compose_member_figures(
    for_system int, for_member int, member_indicators int[], only_periods date[], lock_kind int
) returns table (system_org_id int, indicator_id int, period date)
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $function$
#variable_conflict use_column
declare
  system_indicators int[];
  systems int[];
  callers_read text := current_setting('app.org_ids', true);
  callers_write text := current_setting('app.write_org_ids', true);
begin
  perform set_config('app.org_ids', (select coalesce(string_agg(id::text, ','), '') from organisation), true);
  -- The system indicators to compose: all of one system's, or those built from the member's changed indicators.
  select array_agg(distinct s.system_indicator_id order by s.system_indicator_id), array_agg(distinct s.system_org_id)
    into system_indicators, systems
  from ({SOURCES}) s
  where (for_system is null or s.system_org_id = for_system)
    and (for_member is null or s.member_org_id = for_member)
    and (member_indicators is null or s.member_indicator_id = any(member_indicators));
  if system_indicators is null then
    perform set_config('app.org_ids', coalesce(callers_read, ''), true);
    return;
  end if;
  perform pg_advisory_xact_lock(lock_kind, key) from unnest(system_indicators) as key;
  perform set_config('app.write_org_ids', array_to_string(systems, ','), true);
  return query
  with sources as (
    select * from ({SOURCES}) s where s.system_indicator_id = any(system_indicators)
  ),
  member_values as (
    select s.system_org_id, s.system_indicator_id, s.combine, s.expected, m.period,
           case s.member_rollup
             when 'sum' then sum(m.value) when 'max' then max(m.value) when 'min' then min(m.value)
             when 'rate' then sum(m.numerator) / nullif(sum(m.denominator), 0)
             else case when count(*) = 1 then max(m.value) end
           end as value,
           sum(m.numerator) as numerator, sum(m.denominator) as denominator, bool_and(m.status = 'validated') as validated
    from sources s
    join measurement m on m.indicator_id = s.member_indicator_id
    join org_unit u on u.id = m.unit_id
    where (only_periods is null or m.period = any(only_periods))
      and (s.member_rollup <> 'none' or u.parent_id is null)
    group by s.system_org_id, s.system_indicator_id, s.combine, s.expected, s.member_indicator_id, s.member_rollup, m.period
  ),
  composed as (
    select v.system_org_id, v.system_indicator_id, v.period,
           case when v.combine <> 'rate' then round(case v.combine
             when 'sum' then sum(v.value) when 'max' then max(v.value) when 'min' then min(v.value) when 'mean' then avg(v.value)
           end, 6) end as value,
           case when v.combine = 'rate' then sum(v.numerator) end as numerator,
           case when v.combine = 'rate' then sum(v.denominator) end as denominator,
           bool_and(v.validated) as validated
    from member_values v
    where v.value is not null
    group by v.system_org_id, v.system_indicator_id, v.combine, v.expected, v.period
    -- Every member named has reported the period (a partial sum would flatter the system).
    having count(*) = v.expected and (v.combine <> 'rate' or sum(v.denominator) > 0)
  ),
  changed as (
    insert into measurement as m (org_id, indicator_id, unit_id, period, value, numerator, denominator, status, source, recorded_by,
                                  recorded_at, revision)
    select c.system_org_id, c.system_indicator_id,
           (select min(r.id) from org_unit r where r.org_id = c.system_org_id and r.parent_id is null), c.period,
           c.value, c.numerator, c.denominator, case when c.validated then 'validated' else 'provisional' end, 'members', null, now(), 1
    from composed c
    order by c.system_indicator_id, c.period
    on conflict on constraint measurement_one_per_period do update set
        value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator, status = excluded.status,
        source = excluded.source, recorded_by = null, recorded_at = excluded.recorded_at, revision = m.revision + 1
    where (m.value, m.numerator, m.denominator, m.status, m.source)
          is distinct from (excluded.value, excluded.numerator, excluded.denominator, excluded.status, excluded.source)
    returning m.id, m.org_id, m.indicator_id, m.period, m.revision, m.value, m.numerator, m.denominator, m.status
  ),
  revisions as (
    insert into measurement_revision (org_id, measurement_id, revision, value, numerator, denominator, status, source, recorded_at, reason)
    select c.org_id, c.id, c.revision, c.value, c.numerator, c.denominator, c.status, 'members', now(),
           'computed from the members'' figures'
    from changed c
  )
  select c.org_id, c.indicator_id, c.period from changed c;
  perform set_config('app.org_ids', coalesce(callers_read, ''), true);
  perform set_config('app.write_org_ids', coalesce(callers_write, ''), true);
end
$function$
"""


def upgrade() -> None:
    op.execute("alter table indicator add column from_members jsonb")
    op.execute("alter table indicator add column outturn jsonb")
    op.execute(FUNCTION)
    op.execute("revoke all on function compose_member_figures(int, int, int[], date[], int) from public")
    op.execute(f"grant execute on function compose_member_figures(int, int, int[], date[], int) to {APP_ROLE}")


def downgrade() -> None:
    op.execute("drop function if exists compose_member_figures(int, int, int[], date[], int)")
    op.execute("alter table indicator drop column outturn")
    op.execute("alter table indicator drop column from_members")
