"""Contract subjects: the provider's contractual performance as the commissioner may see it.

Two sources, read together as one group of series (history.group_facts):
- the provider's own contractual indicators, where the provider is a tenant (row-level security lets
  a commissioner read those of providers it contracts with, DOMAIN 4.1);
- the figures the commissioner records itself at the contract's monitoring unit (its tenant file's
  ``contracts[].monitoring``), for a provider that is not a tenant, or alongside one that is.
The contract's performance notices add whether one is issued, for how long, and whether its remedial
action plan is agreed; the months since that plan was agreed count as months without improvement
while the provider still misses (as an improvement plan's do for the provider's own indicators).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.contracts.notices import notice_facts
from server.contracts.register import contracts_of
from server.escalation_store.facts import PLAN_IN_PLACE_SQL, Subject, months_without_improvement
from server.escalation_store.history import SeriesHistory, group_evidence, group_facts, read_histories

# A contract is rated on its runs and the misses of its indicators, not on a scorecard of its own.
_NOT_FOR_CONTRACTS = frozenset({"kpi_targets_missed", "all_indicators_met", "key_indicators_met", "all_targets_exceeded", "rag",
                                "target_shortfall_percent"})


async def contract_subjects(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> list[Subject]:
    """One subject per contract this organisation commissions, with the provider's contractual performance."""
    at = at or dt.datetime.now(dt.UTC)
    contracts = await contracts_of(session, org_id)
    if not contracts:
        return []
    by_provider: dict[int, list[SeriesHistory]] = {}
    plans: dict[int, int] = {}
    tenants = [c.provider_id for c in contracts if c.provider_is_tenant]  # only a tenant has figures of its own
    if tenants:
        plans = await _provider_plans_without_improvement(session, org_id)
        for history in (await read_histories(session, tenants, contractual_only=True)).values():
            by_provider.setdefault(history.org_id, []).append(history)
    monitored = {c.monitoring_unit_id: c for c in contracts if c.monitoring_unit_id is not None}
    if monitored:
        for (_, unit_id), history in (await read_histories(session, [org_id], unit_ids=list(monitored))).items():
            contract = monitored[unit_id]  # type: ignore[index]
            if history.code in contract.indicators:
                by_provider.setdefault(contract.provider_id, []).append(history)
    notices = await notice_facts(session, org_id, at=at)
    subjects = []
    for contract in contracts:
        provided = by_provider.get(contract.provider_id, [])
        facts, period = group_facts(provided)
        facts = {fact: known for fact, known in facts.items() if fact not in _NOT_FOR_CONTRACTS}
        notice = notices.get(contract.provider_id)
        without_improvement = plans.get(contract.provider_id, 0)
        if notice is not None and notice.plan_agreed_on is not None and period is not None:
            still_missing = bool(facts.get("target_missed"))
            without_improvement = max(without_improvement, months_without_improvement(
                notice.plan_agreed_on, period.latest, None if still_missing else "improved"))
        facts.update(contract_value=contract.annual_value, strategically_important=contract.strategically_important,
                     provider_code=contract.provider_code, months_since_plan_without_improvement=without_improvement,
                     performance_notice_issued=notice is not None and notice.issued,
                     months_since_notice_issued=notice.months_since_issued if notice is not None else 0)
        if notice is not None and notice.issued:
            # The notice's remedial action plan; a judgement recorded about the contract still prevails (run.py).
            facts["remedial_action_plan_agreed"] = notice.plan_agreed_on is not None
        evidence = group_evidence(provided)
        if contract.monitoring_unit:
            evidence["recorded_at"] = contract.monitoring_unit
        if notice is not None:
            evidence["notice"] = notice.reference
        subjects.append(Subject(contract.subject_key, f"Contract with {contract.provider_name}", "contract", facts, period=period,
                                evidence=evidence))
    return subjects


async def _provider_plans_without_improvement(session: AsyncSession, org_id: int) -> dict[int, int]:
    """Per provider, the longest months without improvement among its contractual indicators with a live plan."""
    rows = (await session.exec(text(
        """
        select c.provider_id, a.period, pl.started_on, a.evidence -> 'improvement' ->> 'status'
        from contract c
        join indicator i on i.org_id = c.provider_id and i.source = 'contractual'
        join assessment a on a.indicator_id = i.id and a.unit_id is null and a.is_latest
        join lateral (
          select started_on from improvement_plan pl where pl.indicator_id = i.id and {in_place} order by pl.id desc limit 1
        ) pl on true
        where c.commissioner_id = :org
        """.format(in_place=PLAN_IN_PLACE_SQL.format(p="pl"))
    ), params={"org": org_id})).all()
    months: dict[int, int] = {}
    for provider_id, period, started_on, improvement in rows:
        months[provider_id] = max(months.get(provider_id, 0), months_without_improvement(started_on, period, improvement))
    return months
