"""A commissioner's contracts as the contract page, the packs and the provider ladder read them.

The contract register is the commissioner's tenant file (``contracts:``), loaded into ``contract``;
its ``monitoring`` block (where the commissioner records a provider's figures itself) and ``forum``
(the contract's own board) are read from the stored framework.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.tenants.load import framework_of


@dataclass(frozen=True)
class ContractView:
    commissioner_id: int
    provider_id: int
    provider_code: str
    provider_name: str
    provider_is_tenant: bool
    annual_value: float
    services: tuple[str, ...]
    strategically_important: bool
    start: dt.date | None
    end: dt.date | None
    forum: str | None = None  # the contract's own board (Sheffield: the provider's Contract Management Board)
    monitoring_unit: str | None = None  # where the commissioner records the provider's figures
    monitoring_unit_id: int | None = None
    indicators: tuple[str, ...] = ()  # the commissioner's indicators recorded there
    spend: str | None = None  # the indicator holding the month's value of activity

    @property
    def subject_key(self) -> str:
        return f"contract:{self.provider_code}"


async def contracts_of(session: AsyncSession, org_id: int) -> list[ContractView]:
    """Every contract the organisation commissions, largest first: one statement and the stored framework."""
    framework = await framework_of(session, org_id)
    declared = {c.provider: c for c in framework.contracts} if framework else {}
    rows = (await session.exec(text(
        """
        select p.id, p.code, p.name, p.is_tenant, c.annual_value, c.services, c.strategically_important, c.start_date, c.end_date,
               (select jsonb_object_agg(u.code, u.id) from org_unit u where u.org_id = c.commissioner_id)
        from contract c join organisation p on p.id = c.provider_id
        where c.commissioner_id = :org order by c.annual_value desc, p.code
        """
    ), params={"org": org_id})).all()
    contracts = []
    for provider_id, code, name, is_tenant, value, services, strategic, start, end, unit_ids in rows:
        spec = declared.get(code)
        monitoring = spec.monitoring if spec else None
        contracts.append(ContractView(
            commissioner_id=org_id, provider_id=provider_id, provider_code=code, provider_name=name, provider_is_tenant=bool(is_tenant),
            annual_value=float(value), services=tuple(services or ()), strategically_important=bool(strategic), start=start, end=end,
            forum=spec.forum if spec else None, monitoring_unit=monitoring.unit if monitoring else None,
            monitoring_unit_id=(unit_ids or {}).get(monitoring.unit) if monitoring else None,
            indicators=tuple(monitoring.indicators) if monitoring else (), spend=monitoring.spend if monitoring else None,
        ))
    return contracts


async def contract_of(session: AsyncSession, org_id: int, provider_code: str) -> ContractView | None:
    return next((c for c in await contracts_of(session, org_id) if c.provider_code == provider_code), None)


@dataclass(frozen=True)
class ProviderContract:
    """One contract as a provider's commissioner finds it: where its figures, outturn and notices are."""
    provider_id: int
    commissioner_code: str
    commissioner_name: str
    provider_code: str

    @property
    def href(self) -> str:
        return f"/organisations/{self.commissioner_code}/contracts/{self.provider_code}"


async def contracts_with(session: AsyncSession, provider_ids: frozenset[int], commissioner_ids: frozenset[int]) -> dict[int, list[ProviderContract]]:
    """The contracts between these commissioners and providers, by provider: one statement (the contract
    register is directory data; the caller passes the organisations its access reads in full and contracts)."""
    if not provider_ids or not commissioner_ids:
        return {}
    rows = (await session.exec(text(
        """
        select c.provider_id, o.code, o.name, p.code
        from contract c join organisation o on o.id = c.commissioner_id join organisation p on p.id = c.provider_id
        where c.provider_id = any(:providers) and c.commissioner_id = any(:commissioners) order by o.name
        """
    ), params={"providers": sorted(provider_ids), "commissioners": sorted(commissioner_ids)})).all()
    found: dict[int, list[ProviderContract]] = {}
    for provider_id, commissioner_code, commissioner_name, provider_code in rows:
        found.setdefault(provider_id, []).append(ProviderContract(provider_id, commissioner_code, commissioner_name, provider_code))
    return found
