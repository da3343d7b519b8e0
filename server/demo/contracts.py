"""Demo contract monitoring: each contracted provider's figures at its commissioner's contract unit.

Providers differ, as they do in life: a provider's story (deterministic from the commissioner and
provider codes) puts it clear of its targets, in and out of them, or off them, indicator by
indicator, so that some contracts sit at routine monitoring and others climb the provider route.
The month's value of activity varies around a twelfth of the contract value, over-performing more
for a provider under pressure, so the forecast outturn differs from the contract value by a
realistic few per cent.
"""
from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.tenants.spec import ContractSpec, IndicatorSpec, TenantFile

STORIES = ("good", "mixed", "struggling")
_STORY_WEIGHTS = (0.4, 0.35, 0.25)
_SIDE = {"pass": 2.0, "hit_and_miss": 0.0, "fail": -1.5}  # noise widths on the passing side of the target
_OVERRUN = {"good": 0.0, "mixed": 0.02, "struggling": 0.05}  # share of the contract value over-performed


def _rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(("contract", *parts)).encode()))


def monitored_units(tenant: TenantFile) -> dict[str, ContractSpec]:
    """Contract unit code -> its contract, for contracts the commissioner records itself."""
    return {c.monitoring.unit: c for c in tenant.contracts if c.monitoring is not None}


def spend_indicators(tenant: TenantFile) -> set[str]:
    return {c.monitoring.spend for c in tenant.contracts if c.monitoring is not None and c.monitoring.spend}


def story(org: str, provider: str) -> str:
    return str(_rng(org, provider).choice(STORIES, p=_STORY_WEIGHTS))


def level_offset(org: str, contract: ContractSpec, spec: IndicatorSpec) -> float:
    """How far this provider's series sits from the indicator's demo level: onto a side of the target by its story."""
    demo = spec.demo
    target = next((t.value for t in spec.targets), None)
    if demo is None or target is None or spec.polarity == "neutral":
        return 0.0
    told = story(org, contract.provider)
    side = {"good": "pass", "struggling": "fail"}.get(told) or str(_rng(org, contract.provider, spec.code).choice(tuple(_SIDE)))
    better = 1.0 if spec.polarity == "higher_is_better" else -1.0
    baseline = target if demo.baseline is None else demo.baseline
    return (target - baseline) + better * _SIDE[side] * abs(demo.noise)


def monthly_spend(org: str, contract: ContractSpec, periods: list[dt.date]) -> np.ndarray:
    """The month's value of activity under the contract, in pounds."""
    rng = _rng(org, contract.provider, "spend")
    overrun = _OVERRUN[story(org, contract.provider)] + rng.normal(0, 0.01)
    monthly = contract.annual_value / 12.0
    return np.round(monthly * (1 + overrun + rng.normal(0, 0.03, len(periods))), 2)


async def generate_demo_notices(session: AsyncSession, tenants: dict[str, TenantFile], *, now: dt.datetime | None = None) -> int:
    """One contract performance notice per commissioner that has none: to the provider of its largest contract
    whose story is not good, issued two months ago by the contract's board, its remedial action plan agreed a
    month ago and due in three (Sheffield 3.3). Each step is in the notice's history. Returns notices added."""
    now = now or dt.datetime.now(dt.UTC)
    added = 0
    for code, tenant in tenants.items():
        chosen = next((c for c in sorted(tenant.contracts, key=lambda c: -c.annual_value)
                       if c.monitoring is not None and story(code, c.provider) != "good"), None)
        if chosen is None:
            continue
        org_id = (await session.exec(text("select id from organisation where code = :code"), params={"code": code})).scalar_one()
        if (await session.exec(text("select count(*) from contract_notice where org_id = :org"), params={"org": org_id})).scalar_one():
            continue  # a second run keeps what people did
        raised, issued, agreed = now - dt.timedelta(days=75), now - dt.timedelta(days=61), now - dt.timedelta(days=30)
        board = chosen.forum or "the contract board"
        codes = list(chosen.monitoring.indicators[:2])  # type: ignore[union-attr]
        notice_id = (await session.exec(text(
            """
            insert into contract_notice (org_id, provider_id, kind, title, reason, indicator_codes, status, remedial_plan, remedial_plan_due,
                                         raised_at, issued_at, plan_agreed_at)
            select :org, p.id, 'performance', :title, :reason, :codes, 'plan_agreed', :plan, :due, :raised, :issued, :agreed
            from organisation p where p.code = :provider returning id
            """
        ), params={"org": org_id, "provider": chosen.provider, "title": f"Contractual standards missed: {', '.join(codes)}",
                   "reason": "Key contractual standards missed for consecutive months and not recovered through contract monitoring.",
                   "codes": codes, "plan": "Recovery trajectory by month for each standard, weekly validation of the figures, and a "
                   "capacity plan reviewed at each board until the standards are met.", "due": (now + dt.timedelta(days=90)).date(),
                   "raised": raised, "issued": issued, "agreed": agreed})).scalar_one()
        for event, from_status, to_status, at, note in (("raised", None, "raised", raised, "Raised at contract monitoring"),
                                                         ("issue", "raised", "issued", issued, f"Issued by {board}"),
                                                         ("agree_plan", "issued", "plan_agreed", agreed, "Remedial action plan agreed")):
            await session.exec(text(
                "insert into contract_notice_event (org_id, notice_id, event, from_status, to_status, note, actor_name, at)"
                " values (:org, :notice, :event, :from_status, :to_status, :note, :actor, :at)"
            ), params={"org": org_id, "notice": notice_id, "event": event, "from_status": from_status, "to_status": to_status,
                       "note": note, "actor": "Demo data", "at": at})
        added += 1
    return added
