"""A commissioner's providers side by side (issue 15): the contractual figures it records for each
provider at the contract's unit (``contracts[].monitoring``), latest period, as one matrix of providers
x indicators, filtered by domain or by patient cohort (WHSSC appendix 1: the four measure domains are
applied to four cohorts, and WHSSC oversees its contracted providers, not a system).

The matrix is the system position's (server/reporting/system.py): the same rows, cells, domain and
cohort options, shaped by the same ``shape_position``, with the providers as its columns. Two statements
whatever the number of providers: the contract register (with the stored framework) and every
monitored cell's latest rating; the cohorts' names come from the commissioner's framework.
"""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.contracts.register import ContractView, contracts_of
from server.db.records import fetch_records
from server.reporting.status import LATEST_STATUS_COLUMNS
from server.reporting.system import CommonSet, SystemPosition, SystemRecord, member_settings, shape_position

# One row per (provider, monitored indicator) in the system position's column order (_PositionRow),
# the provider standing where a member does; its rating is the commissioner's at the contract unit.
_PROVIDER_ROWS = f"""
with monitored as (
  select * from unnest(cast(:providers as int[]), cast(:units as int[]), cast(:codes as text[])) as m(provider_id, unit_id, code)
),
a as materialized (
  select a.indicator_id, a.unit_id, a.period, a.value, a.target, a.trajectory, a.rag, a.variation, a.assurance,
         a.periods_under_target, a.failure_forecast, a.masked_failure,
         case when a.variation = 'special_cause_neutral' then a.evidence end as evidence,
         case when a.variation = 'special_cause_neutral' then a.spc_points end as spc_points
  from assessment a
  where a.org_id = :org and a.unit_id = any(:units) and a.is_latest
)
select p.id as org_id, p.code as org_code, p.name as org_name, p.short_name,
       null::int as maturity_level, null::date as maturity_assessed_on,
       i.code, i.name, i.unit, i.polarity, i.frequency, i.is_key, d.code as domain_code, d.name as domain_name, i.cohort,
       i.id as indicator_id,
       {LATEST_STATUS_COLUMNS}
from monitored m
join organisation p on p.id = m.provider_id
join indicator i on i.org_id = :org and i.code = m.code
left join domain d on d.org_id = i.org_id and d.id = i.domain_id
left join a on a.indicator_id = i.id and a.unit_id = m.unit_id
order by d.position, i.position
"""


def monitored_contracts(contracts: list[ContractView]) -> list[ContractView]:
    """The contracts whose provider's figures the commissioner records itself (the matrix's columns)."""
    return [c for c in contracts if c.monitoring_unit_id is not None and c.indicators]


async def provider_position(
    session: AsyncSession, org_id: int, org_code: str, org_name: str, *, domain_code: str | None = None, cohort: str | None = None,
    contracts: list[ContractView] | None = None,
) -> SystemPosition:
    """Providers x the indicators the commissioner records for them; ``contracts``: the register, when the caller has read it."""
    monitored = monitored_contracts(contracts if contracts is not None else await contracts_of(session, org_id))
    cells = [(c.provider_id, c.monitoring_unit_id, code) for c in monitored for code in c.indicators]
    records = await fetch_records(session, _PROVIDER_ROWS, {
        "org": org_id, "providers": [cell[0] for cell in cells], "units": [cell[1] for cell in cells], "codes": [cell[2] for cell in cells],
    }) if cells else []
    _, cohort_names = await member_settings(session, [org_id])
    # The commissioner stands where a system's own organisation would: not a column, since these are not its figures.
    columns = SystemRecord(id=0, code=org_code, name=org_name, organisation_id=org_id, member_ids=tuple(c.provider_id for c in monitored))
    indicators = CommonSet(codes=tuple(dict.fromkeys(cell[2] for cell in cells)), members=tuple(c.provider_code for c in monitored))
    return shape_position(columns, records, domain_code, {}, indicators, cohort, cohort_names)
