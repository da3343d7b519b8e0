"""Deterministic demo data: five years of monthly measures at the lowest unit level.

Each series is drawn from the indicator's ``demo`` block in its tenant file: a baseline (where the
series stands now), a yearly trend, winter seasonality, noise, and a ``story`` for the path it took:
stable, hit and miss about the target, improving after an improvement plan, deteriorating after
months on target, or a step change (its SPC limits recalculated from the step, server/demo/stories.py).
An indicator that names no story deteriorates if its baseline misses the target and is otherwise
stable, with a step change partway through for about a third of them. A unit whose ``demo`` block
says it sustains its targets has every team under it on the passing side of each target for the
months it names (ULHT 5.2: sustained achievement earns autonomy). The same inputs always give the
same numbers. A system indicator declared ``from_members`` is not drawn: its figures are computed
from the members' drawn ones (server/assessment_store/members.py), as they are when members submit.
"""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.members import compose_system_figures
from server.auth.authz import Authorizer
from server.db.models import AppUser, HealthSystem, Indicator, Measurement, Organisation, OrgUnit
from server.db.session import AccessContext, Database
from server.demo.contracts import level_offset, monthly_spend, monitored_units, spend_indicators
from server.demo.users import DEMO_PASSWORD, DEMO_USERS
from server.tenants.spec import DemoSeriesSpec, IndicatorSpec, TenantFile, UnitSpec


def month_starts(months: int, until: dt.date) -> list[dt.date]:
    """The ``months`` month-starts ending with the last complete month before ``until``."""
    year, month = until.year, until.month - 1
    if month == 0:
        year, month = year - 1, 12
    periods = []
    for _ in range(months):
        periods.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return periods[::-1]


def _rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(parts).encode()))


def _default_demo(spec: IndicatorSpec) -> DemoSeriesSpec:
    target = next((t.value for t in spec.targets), None)
    if spec.unit == "percent":
        return DemoSeriesSpec(baseline=target if target is not None else 0.8, noise=0.02, denominator=500)
    base = target if target is not None else 100.0
    return DemoSeriesSpec(baseline=base, noise=abs(base) * 0.08 + 0.5)


def demo_of(spec: IndicatorSpec) -> DemoSeriesSpec:
    """The indicator's demo block with its baseline filled in (the target when the file gives none)."""
    demo = spec.demo or _default_demo(spec)
    if demo.baseline is None:
        fallback = _default_demo(spec)
        demo = demo.model_copy(update={"baseline": fallback.baseline, "noise": demo.noise or fallback.noise})
    return demo


def _most_stretching_target(spec: IndicatorSpec) -> float | None:
    if not spec.targets or spec.polarity == "neutral":
        return None
    values = [t.value for t in spec.targets]
    return max(values) if spec.polarity == "higher_is_better" else min(values)


def _deterioration_story(spec: IndicatorSpec, demo: DemoSeriesSpec, level: np.ndarray, seasonal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A series that fails now met its target until a deterioration 1-18 months ago.

    That is the shape performance teams see (and what the ladders are for): months on target,
    then a slide to where the tenant file says the series stands now.
    """
    target = _most_stretching_target(spec)
    if target is None:
        return level
    better = 1.0 if spec.polarity == "higher_is_better" else -1.0
    failing_now = (demo.baseline - target) * better < 0  # type: ignore[operator]
    if not failing_now:
        return level
    months_failing = demo.turned_months_ago or int(rng.integers(1, 19))
    return _turn(level, target + better * _margin(demo, target) + seasonal, len(level) - months_failing)


def _margin(demo: DemoSeriesSpec, target: float) -> float:
    """How far on one side of the target a series sits to be plainly there, month after month."""
    return max(abs(demo.noise) * 2.0, abs(target) * 0.02)


def _turn(after: np.ndarray, before: np.ndarray, at: float, months: float = 1.5) -> np.ndarray:
    """``before`` until month ``at``, ``after`` from it, with a turn of about ``months`` between."""
    ramp = 1.0 / (1.0 + np.exp(-(np.arange(len(after)) - at) / months))  # 0 before the turn, 1 after
    return ramp * after + (1.0 - ramp) * before


def story_levels(spec: IndicatorSpec, demo: DemoSeriesSpec, periods: list[dt.date], shared: np.random.Generator) -> np.ndarray:
    """The organisation's level each month: the trend to the baseline, winter, and the story's path."""
    n = len(periods)
    years = np.arange(n) / 12.0
    month_index = np.array([p.month for p in periods])
    # Winter pressure peaks in January (NHS seasonality); the sign makes it hurt on either polarity.
    winter = np.cos(2 * np.pi * (month_index - 1) / 12.0)
    hurt = -1.0 if spec.polarity == "higher_is_better" else 1.0
    seasonal = hurt * demo.seasonal_amplitude * winter
    baseline = float(demo.baseline)  # type: ignore[arg-type]
    # The baseline is where the series stands now: the trend runs up to it, not away from it.
    trended = baseline + demo.trend_per_year * (years - years[-1]) + seasonal
    target = _most_stretching_target(spec)
    if demo.story is None:
        step = np.zeros(n)
        if shared.random() < 0.35:  # a step change partway through for about a third of indicators
            at = int(shared.integers(n // 3, n - 6))
            step[at:] = hurt * abs(demo.noise) * shared.uniform(1.5, 3.0)
        return _deterioration_story(spec, demo, trended + step, seasonal, shared)
    if target is None or demo.story == "stable":
        return trended
    better = 1.0 if spec.polarity == "higher_is_better" else -1.0
    margin = _margin(demo, target)
    standing = better * (baseline - target)  # how far on the passing side it stands now (negative: failing)
    if demo.story == "hit_and_miss":
        return target + seasonal + np.zeros(n)
    if demo.story == "deteriorating":
        earlier = target + better * max(margin, standing + 2 * margin) + seasonal
        return _turn(trended, earlier, n - (demo.turned_months_ago or 9))
    if demo.story == "improving":
        # Failing before the plan, recovering over the months after it started.
        earlier = (target + better * min(-margin, standing - 2 * margin) if demo.before_turn is None else demo.before_turn) + seasonal
        started = n - 1 - demo.plan.months_ago  # type: ignore[union-attr]  # the plan's first month (server/demo/stories.py)
        return _turn(trended, earlier, started + 2, months=1.0)
    # step_change: a sustained shift to the baseline from the other side of the target, a genuine
    # change in the process (Making Data Count: recalculate the limits from it).
    shift = max(4.0 * abs(demo.noise), 2 * margin)
    earlier = trended - better * shift if standing >= 0 else trended + better * shift
    if demo.before_turn is not None:
        earlier = demo.before_turn + seasonal + np.zeros(n)
    # The latest ``turned_months_ago`` months are at the new level (the recalculation starts at the first).
    return _turn(trended, earlier, n - (demo.turned_months_ago or 12) - 0.5, months=0.2)


@dataclass(frozen=True)
class SeriesValues:
    unit_id: int
    values: np.ndarray | None
    numerators: np.ndarray | None
    denominators: np.ndarray | None


def draw_series(org: str, spec: IndicatorSpec, units: list[tuple[int, str]], periods: list[dt.date],
                offsets: dict[int, float] | None = None, sustained: dict[int, int] | None = None) -> list[SeriesValues]:
    """One series per unit; ``offsets`` moves a unit's level (a contracted provider's story, server/demo/contracts.py);
    ``sustained`` holds a unit on the passing side of the target for its latest months (a unit's ``demo`` block)."""
    demo = demo_of(spec)
    n = len(periods)
    shared = _rng(org, spec.code, "shared")
    level = story_levels(spec, demo, periods, shared)
    target = _most_stretching_target(spec)
    series: list[SeriesValues] = []
    share = 1.0 / max(len(units), 1)
    for unit_id, unit_code in units:
        rng = _rng(org, spec.code, unit_code)
        unit_bias = rng.normal(0, abs(demo.noise) * 0.5) + (offsets or {}).get(unit_id, 0.0)
        noise = rng.normal(0, abs(demo.noise), n)
        unit_level = level
        months = (sustained or {}).get(unit_id)
        if months and target is not None:
            # Sustained achievement: on the passing side by a clear margin whatever the noise.
            better = 1.0 if spec.polarity == "higher_is_better" else -1.0
            passing = np.maximum(level * better, (target + better * (_margin(demo, target) + 3 * abs(demo.noise))) * better) * better
            unit_level, unit_bias = _turn(passing, level, n - months - 0.5, months=0.2), 0.0
        if spec.rollup == "rate":
            # A percentage is a proportion of 0..1; other rates (e.g. length-of-stay ratios) only >= 0.
            proportion = np.clip(unit_level + unit_bias + noise, 0.0, 1.0 if spec.unit == "percent" else None)
            denominators = np.maximum(1, np.round((demo.denominator or 400) * share * rng.uniform(0.6, 1.4) * (1 + 0.05 * rng.normal(size=n))))
            numerators = np.round(proportion * denominators)
            if spec.unit == "percent":
                numerators = np.clip(numerators, 0, denominators)
            series.append(SeriesValues(unit_id, None, numerators, denominators))
            continue
        if spec.rollup == "sum":
            raw = (unit_level + unit_bias + noise) * share
        else:  # max / min / none: each unit varies around the organisation's level
            raw = (unit_level + unit_bias + noise) * rng.uniform(0.7, 1.0)
        if spec.unit == "percent":
            raw = np.clip(raw, 0.0, 1.0)
        elif spec.unit in ("count", "minutes", "hours", "days", "weeks"):
            raw = np.maximum(raw, 0.0)
        values = np.round(raw) if spec.unit == "count" else np.round(raw, 4)
        series.append(SeriesValues(unit_id, values, None, None))
    return series


async def generate_demo_measurements(session: AsyncSession, tenants: dict[str, TenantFile], *, months: int = 60, until: dt.date | None = None) -> int:
    """Insert demo measurements for every tenant with none yet. Returns the number of rows added."""
    periods = month_starts(months, until or dt.date.today())
    added = 0
    for code, tenant in tenants.items():
        org_id = (await session.exec(select(Organisation.id).where(Organisation.code == code))).scalar_one()
        existing = (await session.exec(select(func.count()).select_from(Measurement).where(Measurement.org_id == org_id))).scalar_one()
        if existing:
            continue  # a second run keeps what people entered
        units = (await session.exec(select(OrgUnit.id, OrgUnit.code, OrgUnit.parent_id, OrgUnit.depth).where(OrgUnit.org_id == org_id))).all()
        parents = {parent for _, _, parent, _ in units if parent is not None}
        leaves = [(unit_id, unit_code) for unit_id, unit_code, _, _ in units if unit_id not in parents]
        roots = [(unit_id, unit_code) for unit_id, unit_code, _, depth in units if depth == 0]
        indicator_ids = dict((await session.exec(select(Indicator.code, Indicator.id).where(Indicator.org_id == org_id))).all())
        rows = []
        # A contract unit holds its provider's contractual figures only (issue 15), each provider with its own story.
        contracts = monitored_units(tenant)
        unit_codes = dict(leaves)
        spend = spend_indicators(tenant)
        sustaining = sustained_months(tenant)
        sustained = {unit_id: sustaining[unit_code] for unit_id, unit_code in leaves if unit_code in sustaining}
        for spec in tenant.indicators:
            if spec.from_members is not None:
                continue  # the system's figure is computed from its members' below, never drawn
            if spec.code in spend:
                for unit_id, unit_code in leaves:
                    contract = contracts.get(unit_code)
                    if contract is not None and contract.monitoring and contract.monitoring.spend == spec.code:
                        values = monthly_spend(code, contract, periods)
                        rows += [_row(org_id, indicator_ids[spec.code], unit_id, period, float(values[i]), None, None, i, len(periods))
                                 for i, period in enumerate(periods)]
                continue
            target_units = roots if spec.rollup == "none" else [
                (unit_id, unit_code) for unit_id, unit_code in leaves
                if unit_code not in contracts or spec.code in contracts[unit_code].monitoring.indicators  # type: ignore[union-attr]
            ]
            offsets = {unit_id: level_offset(code, contracts[unit_codes[unit_id]], spec) for unit_id, _ in target_units
                       if unit_codes.get(unit_id) in contracts}
            for drawn in draw_series(code, spec, target_units, periods, offsets, sustained):
                for index, period in enumerate(periods):
                    rows.append(_row(
                        org_id, indicator_ids[spec.code], drawn.unit_id, period,
                        None if drawn.values is None else float(drawn.values[index]),
                        None if drawn.numerators is None else float(drawn.numerators[index]),
                        None if drawn.denominators is None else float(drawn.denominators[index]), index, len(periods),
                    ))
        for start in range(0, len(rows), 5000):
            await session.exec(Measurement.__table__.insert(), params=rows[start:start + 5000])
        added += len(rows)
    # Issue 15: a system's figures that are the same measure as its members' come from theirs.
    for code, tenant in tenants.items():
        if tenant.system is not None:
            org_id = (await session.exec(select(Organisation.id).where(Organisation.code == code))).scalar_one()
            composed = await compose_system_figures(session, system_org_id=org_id)
            added += sum(len(periods) for changed in composed.values() for periods in changed.values())
    return added


def sustained_months(tenant: TenantFile) -> dict[str, int]:
    """Team code -> the months it sustains its targets, from the ``demo`` block of the team or a unit above it."""
    months: dict[str, int] = {}

    def walk(unit: UnitSpec, inherited: int | None) -> None:
        here = unit.demo.sustained_months if unit.demo else inherited
        if here and not unit.children:
            months[unit.code] = here
        for child in unit.children:
            walk(child, here)

    for root in tenant.units:
        walk(root, None)
    return months


def _row(org_id: int, indicator_id: int, unit_id: int, period: dt.date, value: float | None, numerator: float | None,
         denominator: float | None, index: int, count: int) -> dict[str, object]:
    return {"org_id": org_id, "indicator_id": indicator_id, "unit_id": unit_id, "period": period, "value": value,
            "numerator": numerator, "denominator": denominator,
            "status": "validated" if index < count - 1 else "provisional", "source": "demo", "revision": 1}


async def create_demo_users(database: Database, authorizer: Authorizer | None = None) -> int:
    """Create the demo accounts that do not exist yet, through the same services an operator and an
    administrator use (server/admin/accounts.py): the password checked as NCSC advises, each role
    granted and audited in its organisation's trail."""
    from server.admin.accounts import AccountRefused, create_user
    from server.admin.authority import Actor
    from server.admin.roles import RoleChangeRefused, grant_role
    from server.settings import PROJECT_ROOT

    authorizer = authorizer or Authorizer(PROJECT_ROOT / "policies")
    async with database.session() as session:
        org_ids = dict((await session.exec(select(Organisation.code, Organisation.id))).all())
        system_codes = set((await session.exec(select(HealthSystem.code))).scalars())
        existing = set((await session.exec(select(AppUser.email))).scalars())
    operator = Actor.operator()
    created = 0
    # Every organisation's trail may record the accounts and roles made for it.
    async with database.session(AccessContext.for_orgs(org_ids.values(), write=True)) as session:
        for demo in DEMO_USERS:
            if demo.email in existing or demo.home not in org_ids:
                continue
            made = await create_user(session, operator, email=demo.email, name=demo.name, home_org_code=demo.home, password=DEMO_PASSWORD)
            if isinstance(made, AccountRefused):
                raise ValueError(f"demo user {demo.email}: {made.message}")
            for role, domain in demo.roles:
                kind, _, code = domain.partition(":")
                if (kind == "org" and code in org_ids) or (kind == "system" and code in system_codes):
                    granted = await grant_role(session, authorizer, operator, email=demo.email, role=role, domain=domain)
                    if isinstance(granted, RoleChangeRefused):
                        raise ValueError(f"demo user {demo.email}, {role} for {domain}: {granted.message}")
            created += 1
    return created
