"""The Integrated Performance Report (IPR): an organisation's balanced scorecard, grouped by its own
domains, at the organisation level or at any unit of its tree, with the next tier down beside it.

Two set-based reads: the unit tree with its tier names (structure.py), then every indicator with the latest
assessment of the selected unit, of its children, and every masked failure in the organisation
(THGPCG 13: a failing area hidden by a compliant aggregate must be surfaced wherever it is).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.reporting.periods import add_periods
from server.reporting.status import LATEST_STATUS_COLUMNS, IndicatorStatus
from server.reporting.data_quality import COHORT_NAMES
from server.reporting.structure import OrganisationTree, UnitRef, select_unit, unit_ancestors, within


@dataclass(frozen=True)
class IndicatorRef:
    id: int
    code: str
    name: str
    unit: str
    polarity: str
    frequency: str
    is_key: bool
    owner: str | None
    kitemark: str | None = None  # the overall data-quality kitemark; None: not kitemarked (ULHT PMF 10)
    cohort: str | None = None  # the patient cohort's code (WHSSC appendix 1)
    cohort_name: str | None = None


@dataclass(frozen=True)
class ScorecardRow:
    indicator: IndicatorRef
    status: IndicatorStatus | None
    children: tuple[IndicatorStatus | None, ...]  # one per child unit, in the scorecard's child order


@dataclass(frozen=True)
class DomainSection:
    code: str
    name: str
    rows: tuple[ScorecardRow, ...]


@dataclass(frozen=True)
class MaskedFailure:
    indicator: IndicatorRef
    unit: UnitRef
    parent: UnitRef | None
    status: IndicatorStatus


@dataclass(frozen=True)
class AtAGlance:
    off_target: tuple[ScorecardRow, ...]
    concerning: tuple[ScorecardRow, ...]
    forecast_to_fail: tuple[ScorecardRow, ...]
    masked_failures: tuple[MaskedFailure, ...]

    @property
    def is_clear(self) -> bool:
        return not (self.off_target or self.concerning or self.forecast_to_fail or self.masked_failures)


@dataclass(frozen=True)
class Scorecard:
    organisation_code: str
    organisation_name: str
    unit: UnitRef | None  # None: the organisation has no unit tree visible to this request
    ancestors: tuple[UnitRef, ...]  # from the root down to the unit's parent
    children: tuple[UnitRef, ...]
    domains: tuple[DomainSection, ...]
    at_a_glance: AtAGlance

    @property
    def is_organisation_level(self) -> bool:
        return self.unit is None or self.unit.is_root

    @property
    def unit_query(self) -> str:
        """The ``?unit=`` to keep on links and exports ('' at the organisation level)."""
        return "" if self.is_organisation_level or self.unit is None else self.unit.code

    @property
    def child_tier(self) -> str:
        return self.children[0].tier if self.children else ""

    @property
    def latest_period(self) -> dt.date | None:
        return max((row.status.period for d in self.domains for row in d.rows if row.status), default=None)


# A past position: each series' last stored row before the day after the chosen period. Only the
# latest row carries the verdicts (variation, assurance, runs: server/assessment_store/rows.py).
_AS_AT = """(select *, row_number() over (partition by indicator_id, unit_id order by period desc) as recency
             from assessment where org_id = :org and period < :before)"""


async def organisation_scorecard(
    session: AsyncSession, tree: OrganisationTree, unit_code: str | None = None, *, before: dt.date | None = None,
) -> Scorecard:
    """The scorecard at ``unit_code`` (None or the root's code: the organisation level), as it stands
    now or, given ``before``, as each series stood at its last period before that day."""
    units = tree.units
    unit = select_unit(units, unit_code)
    by_id = {u.id: u for u in units}
    children = tuple(sorted((u for u in units if unit is not None and u.parent_id == unit.id), key=lambda u: u.name))
    # Organisation-level assessments are stored with unit_id null (the root's roll-up).
    selected_id = None if unit is None or unit.is_root else unit.id
    rows = (await session.exec(
        text(
            f"""
            with {COHORT_NAMES.format(orgs="f.org_id = :org")}
            select i.id, i.code, i.name, i.unit, i.polarity, i.frequency, i.is_key, i.owner,
                   i.kitemark ->> 'overall' as kitemark, i.cohort, cn.name as cohort_name,
                   d.code as domain_code, d.name as domain_name, a.unit_id as assessed_unit_id, {LATEST_STATUS_COLUMNS}
            from indicator i
            join domain d on d.id = i.domain_id
            left join cohort_names cn on cn.org_id = i.org_id and cn.code = i.cohort
            left join {"assessment" if before is None else _AS_AT} a on a.indicator_id = i.id
              and {"a.is_latest" if before is None else "a.recency = 1"}
              and (a.unit_id is not distinct from cast(:unit_id as integer) or a.unit_id = any(:child_ids) or a.masked_failure)
            where i.org_id = :org
            order by d.position, i.position
            """
        ),
        params={"org": tree.organisation.id, "unit_id": selected_id, "child_ids": [c.id for c in children],
                **({} if before is None else {"before": before})},
    )).all()
    return _shape(tree.organisation.code, tree.organisation.name, unit, by_id, children, selected_id, rows)


_REPORTED_MONTHS = """select distinct date_trunc('month', period)::date as month from assessment
                       where org_id = :org and {unit_filter} and period >= cast(:since as date) order by month desc limit :limit"""


async def reported_months(session: AsyncSession, org_id: int, unit_id: int | None, *, limit: int = 24,
                          latest: dt.date | None = None) -> list[dt.date]:
    """The months with stored assessments at the level (None: the organisation's), latest first: a period selector's choices.

    Given the ``latest`` period, the months from ``limit`` - 1 months before it are read first (the
    newest yearly partitions only, 24 of a national trust's 60 months): if they hold ``limit`` months,
    those are the latest, since any other month is older; fewer (gaps, quarters) read every month."""
    statement = text(_REPORTED_MONTHS.format(unit_filter="unit_id is null" if unit_id is None else "unit_id = :unit"))
    params = {"org": org_id, "limit": limit, **({} if unit_id is None else {"unit": unit_id})}
    if latest is not None:
        months = [row[0] for row in (await session.exec(statement, params={**params, "since": add_periods(latest.replace(day=1), 1 - limit, "monthly")})).all()]
        if len(months) == limit:
            return months
    return [row[0] for row in (await session.exec(statement, params={**params, "since": dt.date.min})).all()]


def cohorts_of(scorecard: Scorecard) -> tuple[tuple[str, str], ...]:
    """The patient cohorts (code, name) the scorecard's indicators name, in scorecard order (WHSSC appendix 1)."""
    found = {row.indicator.cohort: row.indicator.cohort_name or row.indicator.cohort for d in scorecard.domains for row in d.rows
             if row.indicator.cohort}
    return tuple(found.items())


def only_cohort(scorecard: Scorecard, cohort: str) -> Scorecard:
    """The scorecard narrowed to one patient cohort's indicators, its glance recounted (domains left empty dropped)."""
    domains = tuple(
        DomainSection(domain.code, domain.name, rows)
        for domain in scorecard.domains if (rows := tuple(row for row in domain.rows if row.indicator.cohort == cohort))
    )
    masked = tuple(m for m in scorecard.at_a_glance.masked_failures if m.indicator.cohort == cohort)
    return dataclasses.replace(scorecard, domains=domains, at_a_glance=_glance(domains, masked))


def with_statuses(scorecard: Scorecard, replaced: Mapping[int, IndicatorStatus]) -> Scorecard:
    """The scorecard with some indicators' statuses at its level replaced (by indicator id), its glance recounted."""
    domains = tuple(
        DomainSection(domain.code, domain.name, tuple(
            ScorecardRow(row.indicator, replaced.get(row.indicator.id, row.status), row.children) for row in domain.rows))
        for domain in scorecard.domains
    )
    return dataclasses.replace(scorecard, domains=domains, at_a_glance=_glance(domains, scorecard.at_a_glance.masked_failures))


def _glance(domains: tuple[DomainSection, ...], masked: tuple[MaskedFailure, ...]) -> AtAGlance:
    all_rows = [r for d in domains for r in d.rows]
    return AtAGlance(
        off_target=tuple(r for r in all_rows if r.status and r.status.off_target),
        concerning=tuple(r for r in all_rows if r.status and r.status.concerning),
        forecast_to_fail=tuple(r for r in all_rows if r.status and r.status.failure_forecast and not r.status.off_target),
        masked_failures=masked,
    )


STATUS_START = 14  # where LATEST_STATUS_COLUMNS begin in the scorecard row


def _shape(org_code, org_name, unit, by_id, children, selected_id, rows) -> Scorecard:  # type: ignore[no-untyped-def]
    column_of = {child.id: column for column, child in enumerate(children)}
    indicators: dict[int, IndicatorRef] = {}
    domain_of: dict[int, tuple[str, str]] = {}
    status_of: dict[int, IndicatorStatus | None] = {}
    child_status: dict[int, list[IndicatorStatus | None]] = {}
    masked: list[MaskedFailure] = []
    for row in rows:
        indicator = indicators.get(row.id)
        if indicator is None:
            indicator = indicators[row.id] = IndicatorRef(
                row.id, row.code, row.name, row.unit, row.polarity, row.frequency, row.is_key, row.owner, row.kitemark, row.cohort, row.cohort_name)
            domain_of[row.id] = (row.domain_code, row.domain_name)
            status_of[row.id] = None
            child_status[row.id] = [None] * len(children)
        status = IndicatorStatus.from_columns(row[STATUS_START:], indicator.frequency)
        if status is None:
            continue
        unit_id = row.assessed_unit_id
        if unit_id == selected_id:
            status_of[row.id] = status
        if unit_id in column_of:
            child_status[row.id][column_of[unit_id]] = status
        if status.masked_failure and unit_id in by_id and within(by_id[unit_id], unit):
            failing_unit = by_id[unit_id]
            masked.append(MaskedFailure(indicator, failing_unit, by_id.get(failing_unit.parent_id), status))

    sections: dict[str, tuple[str, list[ScorecardRow]]] = {}
    for indicator_id, indicator in indicators.items():
        code, name = domain_of[indicator_id]
        scorecard_row = ScorecardRow(indicator, status_of[indicator_id], tuple(child_status[indicator_id]))
        sections.setdefault(code, (name, []))[1].append(scorecard_row)
    domains = tuple(DomainSection(code, name, tuple(found)) for code, (name, found) in sections.items())
    glance = _glance(domains, tuple(sorted(masked, key=lambda m: (m.unit.depth, m.unit.name, m.indicator.name))))
    ancestors = unit_ancestors(unit, by_id)
    return Scorecard(org_code, org_name, unit, ancestors, children, domains, glance)
