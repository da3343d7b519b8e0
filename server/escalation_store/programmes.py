"""Programme subjects (Sheffield 3.1: PMO -> Programme Management Delivery Group -> IPDB -> CET).

A tenant declares its programmes (``programmes:`` in its file): the unit where each programme's
measures are recorded, the indicators whose miss is a missed milestone and those whose miss (or
forecast miss) puts its benefits, QIPP savings included, at risk. A period in which any of them
misses is a period of exception; the exception stays unresolved while such periods follow one
another.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation.periods import ReportingPeriod, months_spanned, most_frequent, periods_between, run_up_to_latest
from server.escalation_store.facts import Subject
from server.escalation_store.history import SeriesHistory, read_histories
from server.tenants.load import framework_of


async def programme_subjects(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> list[Subject]:
    framework = await framework_of(session, org_id)
    if framework is None or not framework.programmes:
        return []
    unit_ids = dict((await session.exec(text("select code, id from org_unit where org_id = :org and code = any(:codes)"),
                                        params={"org": org_id, "codes": [p.unit for p in framework.programmes]})).all())
    histories = await read_histories(session, [org_id], unit_ids=list(unit_ids.values()))
    by_code = {(history.code, unit_id): history for (_, unit_id), history in histories.items()}
    subjects = []
    for programme in framework.programmes:
        unit_id = unit_ids.get(programme.unit)
        milestones = [by_code[(c, unit_id)] for c in programme.milestones if (c, unit_id) in by_code]
        benefits = [by_code[(c, unit_id)] for c in programme.benefits if (c, unit_id) in by_code]
        facts, period = _programme_facts(milestones, benefits)
        if facts:
            evidence = {"unit": programme.unit, "milestones_missed": [s.code for s in milestones if s.points and s.fails(s.latest)],
                        "benefits_at_risk": [s.code for s in benefits if s.points and (s.fails(s.latest) or s.failure_forecast)]}
            subjects.append(Subject(f"programme:{programme.code}", programme.name, "programme", facts, unit_id=unit_id, period=period,
                                    evidence=evidence))
    return subjects


def _programme_facts(milestones: list[SeriesHistory], benefits: list[SeriesHistory]) -> tuple[dict[str, object], ReportingPeriod | None]:
    series = [s for s in milestones + benefits if s.points and s.latest.target is not None]
    if not series:
        return {}, None
    frequency = most_frequent({s.frequency for s in series})
    exception: dict[dt.date, bool] = {}
    for history in series:
        for point in history.points:
            exception[point.period] = exception.get(point.period, False) or history.fails(point)
    periods = sorted(exception, reverse=True)
    _, since = run_up_to_latest([(p, exception[p]) for p in periods], frequency)
    sustained, sustained_from = run_up_to_latest([(p, not exception[p]) for p in periods], frequency)
    latest = periods[0]
    milestone_missed = any(s.fails(s.latest) for s in milestones if s.points)
    benefits_at_risk = any(s.fails(s.latest) or s.failure_forecast for s in benefits if s.points)
    return {
        "milestone_missed": milestone_missed, "benefits_at_risk": benefits_at_risk,
        # The exception is raised in the first period of the run; it has been unresolved since then.
        "months_exception_unresolved": periods_between(since, latest, "monthly") if since else 0,
        "target_missed": exception[latest], "periods_sustained": sustained,
        "months_sustained": months_spanned(sustained_from, latest, frequency) if sustained_from else 0,
        "failure_forecast_next_quarter": any(s.failure_forecast for s in series), "reporting_frequency": frequency,
    }, ReportingPeriod(latest, frequency)
