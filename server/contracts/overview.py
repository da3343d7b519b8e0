"""One contract as its page and GraphQL show it: the contract, the provider's figures as the
commissioner sees them, the finance outturn, the open escalation on the provider route and the notices."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.contracts.notices import NoticeView, notices_of
from server.contracts.outturn import Outturn, contract_outturn
from server.contracts.register import ContractView, contract_of, contracts_of
from server.meetings.pack import contract_indicators


@dataclass(frozen=True)
class ContractEscalation:
    id: int
    ladder: str
    level: int
    level_name: str
    forum: str | None


@dataclass(frozen=True)
class ContractOverview:
    contract: ContractView
    indicators: list[dict]  # as a pack shows them (server/meetings/pack.py)
    outturn: Outturn | None
    escalations: list[ContractEscalation]
    notices: list[NoticeView]


async def contract_overview(session: AsyncSession, org_id: int, provider_code: str) -> ContractOverview | None:
    contract = await contract_of(session, org_id, provider_code)
    if contract is None:
        return None
    indicators = await contract_indicators(session, contract)
    escalations = [ContractEscalation(*row) for row in (await session.exec(text(
        "select id, ladder_code, level, level_name, forum_code from escalation"
        " where org_id = :org and subject_key = :key and status <> 'closed' order by level desc, id"
    ), params={"org": org_id, "key": contract.subject_key})).all()]
    return ContractOverview(contract, indicators, await contract_outturn(session, contract), escalations,
                            await notices_of(session, org_id, provider_id=contract.provider_id))


@dataclass(frozen=True)
class ContractSummary:
    contract: ContractView
    level: int | None
    level_name: str | None
    open_notices: int


async def contract_summaries(session: AsyncSession, org_id: int) -> list[ContractSummary]:
    """Every contract with its provider route's level and open notices: three statements whatever the number of contracts."""
    contracts = await contracts_of(session, org_id)
    levels = {key: (level, name) for key, level, name in (await session.exec(text(
        "select distinct on (subject_key) subject_key, level, level_name from escalation"
        " where org_id = :org and subject_type = 'contract' and status <> 'closed' order by subject_key, level desc"
    ), params={"org": org_id})).all()}
    open_notices = dict((await session.exec(text(
        "select provider_id, count(*) from contract_notice where org_id = :org and status in ('raised', 'issued', 'plan_agreed')"
        " group by provider_id"
    ), params={"org": org_id})).all())
    return [ContractSummary(c, *levels.get(c.subject_key, (None, None)), open_notices.get(c.provider_id, 0)) for c in contracts]
