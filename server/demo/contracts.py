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
    return (target - demo.baseline) + better * _SIDE[side] * abs(demo.noise)


def monthly_spend(org: str, contract: ContractSpec, periods: list[dt.date]) -> np.ndarray:
    """The month's value of activity under the contract, in pounds."""
    rng = _rng(org, contract.provider, "spend")
    overrun = _OVERRUN[story(org, contract.provider)] + rng.normal(0, 0.01)
    monthly = contract.annual_value / 12.0
    return np.round(monthly * (1 + overrun + rng.normal(0, 0.03, len(periods))), 2)
