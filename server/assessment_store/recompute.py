"""Derive and store assessments when data changes, so that every read is a cheap lookup.

For one organisation (or some of its indicators): read the rolled-up series, run the assessment
engine on all of them at once (vectorised), and store what changed (store.py) in the same
transaction as the change that caused it, under the indicators' derivation locks (locks.py). Each
stored row carries its evidence and the rule set that made it.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment.masking import find_masked_failures
from server.assessment.params import RULE_SET_NAME, RULE_SET_VERSION, RagThresholds, SpcParameters
from server.assessment.rag import rate_against_target
from server.assessment.spc import compute_spc
from server.assessment.forecast import forecast_failure
from server.assessment.improvement import improvement_since_plan
from server.assessment.underperformance import consecutive_periods_under_target
from server.assessment_store.derived import remember
from server.assessment_store.locks import lock_derivation
from server.assessment_store.members import compose_system_figures
from server.assessment_store.rebase import live_recalculation_periods, rebase_mask
from server.assessment_store.series import OrganisationSeries, read_organisation_series
from server.assessment_store.rows import Derivation, as_dict
from server.assessment_store.scope import ChangedPeriods, everything, read_stored_latest, submission_scope
from server.assessment_store.store import store_records
from server.assessment_store.workers import run_per_organisation, worker_count
from server.db.models import Contract, Indicator, Organisation
from server.db.session import AccessContext, Database
from server.escalation_store.run import run_ladders
from server.organisations.queries import targets_in_force
from server.tenants.load import framework_of
from server.tenants.spec import AssessmentSpec


def engine_parameters(spec: AssessmentSpec) -> tuple[SpcParameters, RagThresholds]:
    """The tenant's declared settings as the engine's parameter objects."""
    spc = SpcParameters.for_method(spec.spc.method, **spec.spc.settings())
    rag = RagThresholds(amber_band=spec.rag.amber_band, on_trajectory_below_target=spec.rag.on_trajectory_below_target)
    return spc, rag


async def assessment_settings(session: AsyncSession, org_id: int) -> AssessmentSpec:
    """The organisation's assessment settings from its loaded framework (defaults if it has none)."""
    framework = await framework_of(session, org_id)
    return framework.assessment if framework else AssessmentSpec()


async def recompute_all(database: Database, *, workers: int | None = None) -> int:
    """Every tenant organisation, each in its own transaction, from its loaded framework. Returns the rows derived.

    ``workers``: processes to share the organisations between (workers.py); by default one per core
    when there are enough organisations.
    """
    async with database.session() as session:
        org_ids = (await session.exec(select(Organisation.id).where(Organisation.is_tenant))).scalars().all()
    await refresh_statistics(database)
    return await run_per_organisation(database, recompute_one, org_ids, worker_count(len(org_ids), workers))


# What a full recompute reads: organisations recorded since PostgreSQL last sampled these tables are
# planned as if empty (the series read then scanned every measurement of the organisation once per
# indicator: 0.86 s of PostgreSQL CPU for one national trust, 0.35 s with fresh statistics).
STATISTICS_TABLES = ("measurement", "org_unit", "indicator", "assessment")


async def refresh_statistics(database: Database) -> None:
    """ANALYZE the tables a recompute reads, as their owner (the application role may not)."""
    async with database.owner_engine.connect() as connection:
        await connection.execute(text(f"analyze {', '.join(STATISTICS_TABLES)}"))
        await connection.commit()


async def recompute_one(database: Database, org_id: int) -> int:
    """One organisation's assessments and ladders, in a transaction of its own."""
    async with database.session(await runner_access(database, org_id)) as session:
        # A system's figures computed from its members' are recomposed first (members.py).
        await compose_system_figures(session, system_org_id=org_id)
        derived = await recompute_organisation(session, org_id, await assessment_settings(session, org_id))
        await run_ladders(session, org_id)
    return derived


async def runner_access(database: Database, org_id: int) -> AccessContext:
    """The engine acts for one organisation: its own rows, plus its providers' contractual ones."""
    async with database.session() as session:
        return await engine_access(session, org_id)


async def engine_access(session: AsyncSession, org_id: int) -> AccessContext:
    providers = (await session.exec(select(Contract.provider_id).where(Contract.commissioner_id == org_id))).scalars().all()
    return AccessContext(read_org_ids=frozenset({org_id}), write_org_ids=frozenset({org_id}), contract_org_ids=frozenset(providers))


async def recompute_organisation(
    session: AsyncSession, org_id: int, spec: AssessmentSpec, indicator_ids: list[int] | None = None, changed: ChangedPeriods | None = None,
) -> int:
    """Re-derive and store the assessments of some (default: all) of the organisation's indicators.

    ``changed``: the periods whose measurements a submission changed, per indicator; only the rows
    those can change are built and merged (scope.py). Without it every row is. Returns the rows stored.
    """
    affected = indicator_ids or await _indicator_ids(session, org_id)
    # Before reading the series: a concurrent deriver of the same indicator finishes (commits) first.
    await lock_derivation(session, affected)
    derivation = await _derive(session, org_id, spec, affected)
    if derivation is None:
        await store_records(session, org_id, [], everything(affected), {})
        return 0
    stored = await read_stored_latest(session, derivation, affected)
    scope = everything(affected) if changed is None else submission_scope(derivation, stored, affected, changed)
    selected = scope.selects([key.indicator_id for key in derivation.series.keys], derivation.series.periods)
    records = derivation.records(selected, stored.digests)
    await store_records(session, org_id, records, scope, derivation.methods)
    # The ladders that follow read these series from here rather than from the rows just stored.
    remember(session, derivation, affected, every_indicator=not indicator_ids)
    return len(records)


async def derive_assessments(session: AsyncSession, org_id: int, spec: AssessmentSpec, indicator_ids: list[int]) -> list[dict]:
    """The assessment rows a recompute would store for these indicators, derived from the stored measurements."""
    derivation = await _derive(session, org_id, spec, indicator_ids)
    return [as_dict(record, derivation.methods) for record in derivation.records()] if derivation else []


async def _derive(session: AsyncSession, org_id: int, spec: AssessmentSpec, indicator_ids: list[int]) -> Derivation | None:
    series = await read_organisation_series(session, org_id, indicator_ids)
    return await _assess(session, series, spec) if series.keys else None


async def _indicator_ids(session: AsyncSession, org_id: int) -> list[int]:
    return list((await session.exec(select(Indicator.id).where(Indicator.org_id == org_id))).scalars())


async def _assess(session: AsyncSession, series: OrganisationSeries, spec: AssessmentSpec) -> Derivation:
    spc_parameters, rag_thresholds = engine_parameters(spec)
    target = await _series_targets(session, series)
    trajectory, trajectory_ahead = await _organisation_trajectories(session, series, horizon=3)
    rebase = rebase_mask(series, spec.spc.rebase_dates, await live_recalculation_periods(session, series.org_id, list(series.indicator_codes)))
    spc = compute_spc(series.values, series.polarity, target, rebase=rebase, parameters=spc_parameters)
    rag = rate_against_target(series.values, target[:, None], series.polarity[:, None], trajectory, rag_thresholds)
    under = consecutive_periods_under_target(series.values, target, series.polarity)
    # STW: "take proactive forward look for the next 3 months" — the agreed trajectory where one
    # covers the quarter ahead, otherwise a projection of the process (forecast.py, METHOD.md).
    forecast = forecast_failure(series.values, target, series.polarity, trajectory_ahead, spc.limits.mean[:, -1])
    masked = _masked_failures(series, target)
    # STW step 3: has the series improved since its improvement plan started? (improvement.py)
    improvement = improvement_since_plan(series.values, series.polarity, await _plan_starts(session, series), spc)

    def explain(s: int) -> dict:  # type: ignore[type-arg]
        latest = int(np.flatnonzero(~np.isnan(series.values[s]))[-1])
        return {
            "spc": spc.explain(s, with_points=False), "rag": rag.explain((s, latest)), "under_target": under.explain(s),
            "forecast": forecast.explain(s), "improvement": improvement.explain(s),
        }

    return Derivation(
        series=series, target=target, trajectory=trajectory, rag=rag.rating, variation=spc.variation, assurance=spc.assurance,
        periods_under_target=under.periods_under_target, failure_forecast=forecast.failure_predicted, masked=masked, explain=explain, spc=spc,
        rule_set=f"{RULE_SET_NAME}/{RULE_SET_VERSION}", computed_at=dt.datetime.now(dt.UTC),
    )


async def _series_targets(session: AsyncSession, series: OrganisationSeries) -> np.ndarray:
    """Per series, the target in force: the unit's own, else its nearest ancestor's, else the organisation's."""
    in_force_rows = await targets_in_force(session, list(series.indicator_codes))
    organisation = {i: float(t.value) for (i, unit_id), t in in_force_rows.items() if unit_id is None}
    own = {(i, unit_id): float(t.value) for (i, unit_id), t in in_force_rows.items() if unit_id is not None}
    if not own:
        return np.array([organisation.get(k.indicator_id, np.nan) for k in series.keys])
    parents = dict((await session.exec(text("select id, parent_id from org_unit where org_id = :org"), params={"org": series.org_id})).all())

    def in_force(indicator_id: int, unit_id: int | None) -> float:
        while unit_id is not None:
            if (indicator_id, unit_id) in own:
                return own[(indicator_id, unit_id)]
            unit_id = parents.get(unit_id)
        return organisation.get(indicator_id, np.nan)

    return np.array([in_force(k.indicator_id, k.unit_id) for k in series.keys])


async def _organisation_trajectories(session: AsyncSession, series: OrganisationSeries, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The agreed trajectory on the series' periods, and for the ``horizon`` months after them.

    Trajectories are organisation-level plans, so only the root unit's series carry them.
    """
    trajectory = np.full(series.values.shape, np.nan)
    ahead = np.full((len(series.keys), horizon), np.nan)
    rows = (await session.exec(
        text("select indicator_id, period, value from trajectory where org_id = :org and unit_id is null"), params={"org": series.org_id}
    )).all()
    if not rows or not series.periods:
        return trajectory, ahead
    column = {p: i for i, p in enumerate(series.periods)}
    future = {p: i for i, p in enumerate(_months_after(series.periods[-1], horizon))}
    root_series = {k.indicator_id: s for s, k in enumerate(series.keys) if k.depth == 0}
    for indicator_id, period, value in rows:
        if indicator_id not in root_series:
            continue
        if period in column:
            trajectory[root_series[indicator_id], column[period]] = float(value)
        elif period in future:
            ahead[root_series[indicator_id], future[period]] = float(value)
    return trajectory, ahead


async def _plan_starts(session: AsyncSession, series: OrganisationSeries) -> np.ndarray:
    """Per series, the period index its organisation-level plan started in (-1: no live plan).

    A plan recovers an indicator for the organisation, so only the root unit's series carry it;
    a SPIP owned by the system is visible here to each partner (row-level security allows it).
    """
    starts = np.full(len(series.keys), -1, dtype=np.int64)
    if not series.periods:
        return starts
    rows = (await session.exec(text(
        "select indicator_id, min(started_on) from improvement_plan where indicator_id = any(:ids) and started_on is not null"
        " and status not in ('draft', 'closed') group by indicator_id"
    ), params={"ids": list(series.indicator_codes)})).all()
    started = dict(rows)
    for s, key in enumerate(series.keys):
        begun = started.get(key.indicator_id)
        if key.depth == 0 and begun is not None:
            starts[s] = next((i for i, period in enumerate(series.periods) if period >= begun), len(series.periods))
    return starts


def _months_after(period: dt.date, count: int) -> list[dt.date]:
    months = []
    year, month = period.year, period.month
    for _ in range(count):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        months.append(dt.date(year, month, 1))
    return months


def _masked_failures(series: OrganisationSeries, target: np.ndarray) -> np.ndarray:
    """Per series and period: fails while its parent unit passes (THGPCG 13)."""
    masked = np.zeros(series.values.shape, dtype=bool)
    by_indicator: dict[int, list[int]] = {}
    for s, key in enumerate(series.keys):
        by_indicator.setdefault(key.indicator_id, []).append(s)
    for indicator_id, members in by_indicator.items():
        position = {series.keys[s].unit_id: i for i, s in enumerate(members)}
        parent = np.array([position.get(series.keys[s].parent_unit_id, -1) for s in members])
        polarity = int(series.polarity[members[0]])
        if polarity == 0 or np.isnan(target[members[0]]) or not (parent >= 0).any():
            continue  # no target side, or no series whose parent unit is here to mask it
        found = find_masked_failures(parent, series.values[members], target[members[0]], polarity)
        masked[members] = found.masked
    return masked
