"""The system position: every member's key indicators side by side, and each member's place on
the performance spectrum (STW, DOMAIN 4.4).

Indicators are matched across members by code (each tenant declares its own; the codes are the
national ones where one exists). The matrix shows the union of key indicators, with a blank where
a member does not report one; the domain filter selects the codes any member files in a domain.
A fixed number of statements whatever the number of members: the system and its members
(directory tables), every member's indicators with their latest organisation-level assessment and
maturity in one set-based read, the members' spectrum rules and cohorts, and (for the page) every
cell's trend in one more.

At national scale a system of five is 1,250 member indicators, of which the matrix shows ~140:
rows are read by column position, every member is rated on the spectrum from columns of its
assessed indicators, and only the shown cells get a status object (measured with
tests/benchmarks/bench_graphql.py: the shaping was the largest Python cost of the GraphQL matrix).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.records import fetch_records
from server.reporting.indicator import SeriesPoint
from server.reporting.spectrum import (
    SpectrumColumns,
    SpectrumView,
    rate_spectrum_columns,
)
from server.reporting.status import LATEST_STATUS_COLUMNS, IndicatorStatus
from server.reporting.words import period_label


@dataclass(frozen=True)
class SystemRecord:
    id: int
    code: str
    name: str
    organisation_id: int
    member_ids: tuple[int, ...]  # the system's own organisation first, then its members

    @property
    def organisation_ids(self) -> frozenset[int]:
        return frozenset(self.member_ids)


@dataclass(frozen=True)
class Member:
    code: str
    name: str
    short_name: str | None
    is_system: bool
    spectrum: SpectrumView
    maturity_level: int | None
    maturity_assessed_on: dt.date | None

    @property
    def label(self) -> str:
        return self.short_name or self.name


@dataclass(frozen=True)
class MatrixCell:
    indicator_name: str
    unit: str
    status: IndicatorStatus | None  # None: the member reports the indicator but has no assessment yet
    indicator_id: int = 0  # the member's own indicator: its series draws the cell's sparkline


@dataclass(frozen=True)
class MatrixRow:
    code: str
    name: str
    cells: tuple[MatrixCell | None, ...]  # one per member, in member order; None: not reported


@dataclass(frozen=True)
class DomainOption:
    code: str
    name: str


@dataclass(frozen=True)
class CommonSet:
    """The system's common indicators (tenant file ``system.common_indicators``): codes every listed member reports."""

    codes: tuple[str, ...]
    members: tuple[str, ...]
    names: tuple[tuple[str, str], ...] = ()  # the set's own name for a code, where it declares one


@dataclass(frozen=True)
class SystemPosition:
    code: str
    name: str
    members: tuple[Member, ...]
    rows: tuple[MatrixRow, ...]
    domains: tuple[DomainOption, ...]
    selected_domain: DomainOption | None
    columns: tuple[Member, ...]  # the matrix's members: all, or those of the common set shown
    common: CommonSet | None = None  # the common set the matrix shows, if it does
    # Patient cohorts (WHSSC appendix 1) that members' key indicators name, and the one chosen.
    cohorts: tuple[DomainOption, ...] = ()
    selected_cohort: DomainOption | None = None
    member_ids: tuple[int, ...] = ()  # the system's organisations (their indicators are the cells')

    @cached_property  # the matrix template asks once per cell
    def latest_period(self) -> dt.date | None:
        periods = [cell.status.period for row in self.rows for cell in row.cells if cell and cell.status]
        return max(periods, default=None)


async def system_by_code(session: AsyncSession, code: str) -> SystemRecord | None:
    """A system and its member organisations (directory rows: access is checked by the caller)."""
    rows = await fetch_records(
        session,
        """
            select s.id, s.code, s.name, s.organisation_id,
                   array(select m.organisation_id from system_membership m where m.system_id = s.id order by m.organisation_id)
            from health_system s where s.code = :code
            """,
        {"code": code},
    )
    row = rows[0] if rows else None
    if row is None:
        return None
    members = tuple(dict.fromkeys([row[3], *row[4]]))
    return SystemRecord(id=row[0], code=row[1], name=row[2], organisation_id=row[3], member_ids=members)


async def visible_systems(session: AsyncSession, readable_org_ids: frozenset[int]) -> list[SystemRecord]:
    """Systems whose every member (and the system's own organisation) this request may read."""
    rows = (await session.exec(
        text(
            """
            select s.id, s.code, s.name, s.organisation_id,
                   array(select m.organisation_id from system_membership m where m.system_id = s.id order by m.organisation_id)
            from health_system s order by s.name
            """
        )
    )).all()
    systems = [SystemRecord(r[0], r[1], r[2], r[3], tuple(dict.fromkeys([r[3], *r[4]]))) for r in rows]
    return [s for s in systems if s.organisation_ids <= readable_org_ids]


async def common_set(session: AsyncSession, system: SystemRecord) -> CommonSet | None:
    rows = await fetch_records(
        session, "select spec #> '{system,common_indicators}' from tenant_framework where org_id = :org", {"org": system.organisation_id},
    )
    declared = rows[0][0] if rows else None
    return CommonSet(tuple(declared["codes"]), tuple(declared["members"]), tuple((declared.get("names") or {}).items())) if declared else None


async def system_position(
    session: AsyncSession, system: SystemRecord, *, domain_code: str | None = None, period: dt.date | None = None,
    common: CommonSet | None = None,
    cohort: str | None = None,
) -> SystemPosition:
    """The matrix at the latest period each member reports, or at ``period`` (verdicts such as
    variation and assurance belong to a series' latest point, so earlier periods show RAG only).
    Given the system's ``common`` set: its codes (key or not) for its members only, a full matrix."""
    assessment_at = "a.is_latest" if period is None else "a.period = :period"
    # The members' organisation-level ratings first, by organisation (a few index probes per
    # partition: assessment_latest_organisation_level_by_org), then joined by indicator; probing by
    # indicator instead cost one probe per indicator and partition (10,000 at national scale). The
    # stored evidence is carried only where LATEST_STATUS_COLUMNS reads it (a neutral verdict's side).
    # The members' domains likewise as one small set, hashed (a probe per indicator row read three
    # times the buffers of the whole statement's other work).
    records = await fetch_records(
        session,
        f"""
            with d as materialized (select id, org_id, code, name, position from domain where org_id = any(:member_ids)),
            a as materialized (
              select a.indicator_id, a.period, a.value, a.target, a.trajectory, a.rag, a.variation, a.assurance,
                     a.periods_under_target, a.failure_forecast, a.masked_failure,
                     case when a.variation = 'special_cause_neutral' then a.evidence end as evidence,
                     case when a.variation = 'special_cause_neutral' then a.spc_points end as spc_points
              from assessment a
              where a.org_id = any(:member_ids) and a.unit_id is null and {assessment_at}
            )
            select o.id as org_id, o.code as org_code, o.name as org_name, o.short_name,
                   maturity.level as maturity_level,
                   maturity.assessed_on as maturity_assessed_on,
                   i.code, i.name, i.unit, i.polarity, i.frequency, i.is_key, d.code as domain_code, d.name as domain_name, i.cohort,
                   i.id as indicator_id,
                   {LATEST_STATUS_COLUMNS}
            from organisation o
            left join lateral (
              select level, assessed_on from maturity_assessment m
              where m.org_id = o.id and m.programme is null order by m.assessed_on desc, m.id desc limit 1
            ) maturity on true
            left join indicator i on i.org_id = o.id
            left join d on d.org_id = i.org_id and d.id = i.domain_id
            left join a on a.indicator_id = i.id
            where o.id = any(:member_ids)
            order by d.position, i.position
            """,
        {"member_ids": list(system.member_ids), **({} if period is None else {"period": period})},
    )
    rules, cohort_names = await member_settings(session, system.member_ids)
    return shape_position(system, records, domain_code, rules, common, cohort, cohort_names)


async def member_settings(session: AsyncSession, org_ids: Iterable[int]) -> tuple[dict[int, Any], dict[str, str]]:
    """Each organisation's own spectrum rules, and the names of the patient cohorts any declares, read
    once per organisation (not once per matrix row: unpacking the stored tenant file for every row
    cost ~100 ms of PostgreSQL CPU a page)."""
    rows = await fetch_records(
        session, "select org_id, spec #> '{assessment,spectrum}', spec -> 'cohorts' from tenant_framework where org_id = any(:ids)",
        {"ids": list(org_ids)},
    )
    names: dict[str, str] = {}
    for _, _, cohorts in rows:
        for cohort in cohorts or ():
            names.setdefault(cohort["code"], cohort["name"])
    return {org_id: rules for org_id, rules, _ in rows}, names


class _PositionRow(NamedTuple):
    """One member indicator (or a member without any) with its latest status columns: the
    statement's columns in order (``shape_position`` reads records by these positions)."""

    org_id: int
    org_code: str
    org_name: str
    short_name: str | None
    maturity_level: int | None
    maturity_assessed_on: dt.date | None
    code: str | None
    name: str | None
    unit: str | None
    polarity: str | None
    frequency: str | None
    is_key: bool | None
    domain_code: str | None
    domain_name: str | None
    cohort: str | None
    indicator_id: int | None
    period: dt.date | None  # LATEST_STATUS_COLUMNS from here
    value: float | None
    target: float | None
    trajectory: float | None
    rag: str | None
    variation: str | None
    direction: int | None
    assurance: str | None
    periods_under_target: int | None
    failure_forecast: bool | None
    masked_failure: bool | None


# Where each column sits in a row (records are read by index: a named tuple per row cost more than
# everything else shape_position does with it).
(ORG_ID, ORG_CODE, ORG_NAME, SHORT_NAME, MATURITY_LEVEL, MATURITY_ASSESSED_ON, CODE, NAME, UNIT, POLARITY, FREQUENCY, IS_KEY,
 DOMAIN_CODE, DOMAIN_NAME, COHORT, INDICATOR_ID, PERIOD, VALUE, TARGET, TRAJECTORY, RAG, VARIATION) = range(22)
STATUS_START = PERIOD  # where LATEST_STATUS_COLUMNS begin in the row


def _status(row) -> IndicatorStatus | None:  # type: ignore[no-untyped-def]
    return IndicatorStatus.from_columns(row[STATUS_START:], row[FREQUENCY])


def shape_position(  # type: ignore[no-untyped-def]
    system: SystemRecord, rows: Sequence, domain_code: str | None, rules: dict[int, Any], common: CommonSet | None = None,  # type: ignore[type-arg]
    cohort: str | None = None, cohort_names: dict[str, str] | None = None,
) -> SystemPosition:
    """The position from the statement's rows (records, or ``_PositionRow``): every member's spectrum
    from all its indicators' columns, and a status object only for the cells the matrix shows. Also
    shapes a commissioner's providers' position (server/contracts/position.py), the providers as members."""
    by_org: dict[int, list] = {org_id: [] for org_id in system.member_ids}  # type: ignore[type-arg]
    heads: dict[int, Any] = {}
    for row in rows:
        org_id = row[ORG_ID]
        if org_id not in heads:
            heads[org_id] = row
        if row[CODE] is not None:
            by_org[org_id].append(row)
    # The system's own organisation first, then members by name.
    others = sorted((org_id for org_id in heads if org_id != system.organisation_id), key=lambda org_id: heads[org_id][ORG_NAME])
    everyone = [org_id for org_id in [system.organisation_id, *others] if org_id in heads]
    members = tuple(_member(heads[org_id], by_org[org_id], org_id == system.organisation_id, rules.get(org_id)) for org_id in everyone)
    # The matrix's columns: every member, or the members the common set names.
    order = everyone if common is None else [org_id for org_id in everyone if heads[org_id][ORG_CODE] in common.members]
    columns = tuple(member for org_id, member in zip(everyone, members, strict=True) if org_id in order)

    # The rows the matrix may show, by column: the common set's codes, or each member's key indicators.
    codes = frozenset(common.codes) if common is not None else None
    shown = [[row for row in by_org[org_id] if (row[CODE] in codes if codes is not None else row[IS_KEY])] for org_id in order]
    domains = _domain_options(row for column in shown for row in column)
    selected = next((d for d in domains if d.code == domain_code), None)
    # Members file the same indicator under their own domains (SaTH's cancer standards sit in
    # "Operational performance", the system's in "Cancer"): a domain selects the indicator codes
    # any member files there, and the row then shows every member that reports the code.
    # A cohort (WHSSC appendix 1) selects likewise the codes any member files for that cohort.
    names = cohort_names or {}
    cohorts = tuple(DomainOption(code, names.get(code, code)) for code in dict.fromkeys(
        row[COHORT] for column in shown for row in column if row[COHORT]))
    chosen = next((c for c in cohorts if c.code == cohort), None)
    in_domain = {row[CODE] for column in shown for row in column if (selected is None or row[DOMAIN_CODE] == selected.code)
                 and (chosen is None or row[COHORT] == chosen.code)}
    matrix: dict[str, dict[int, MatrixCell]] = {}
    for index, column in enumerate(shown):
        for row in column:
            if row[CODE] in in_domain:
                matrix.setdefault(row[CODE], {})[index] = MatrixCell(row[NAME], row[UNIT], _status(row), row[INDICATOR_ID])
    system_column = order.index(system.organisation_id) if system.organisation_id in order else -1
    set_names = dict(common.names) if common else {}  # the common set's own words for a row, where it declares them
    matrix_rows = tuple(
        MatrixRow(code=code, name=set_names.get(code) or _row_name(cells, system_column), cells=tuple(cells.get(column) for column in range(len(order))))
        for code, cells in matrix.items()
    )
    return SystemPosition(system.code, system.name, members, matrix_rows, domains, selected, columns, common, cohorts, chosen, system.member_ids)


TREND_PERIODS = 12  # a cell's sparkline: the member's last twelve organisation-level values

# Each indicator's newest organisation-level values, read backwards from its own index entries
# (org_id, indicator_id, unit_id, period): a window over every period of every indicator read all
# sixty months and joined the whole readable indicator table (tens of thousands of rows for a
# national reader).
_CELL_TRENDS = """
select i.id, i.frequency, t.period, t.value, t.target, t.trajectory, t.rag
from indicator i
cross join lateral (
  select a.period, a.value, a.target, a.trajectory, a.rag from assessment a
  where a.org_id = i.org_id and a.indicator_id = i.id and a.unit_id is null and a.period <= coalesce(cast(:upto as date), 'infinity')
  order by a.period desc limit :periods
) t
where i.org_id = any(:org_ids) and i.id = any(:ids)
order by i.id, t.period
"""


async def cell_trends(
    session: AsyncSession, position: SystemPosition, *, upto: dt.date | None = None, periods: int = TREND_PERIODS,
) -> dict[int, tuple[SeriesPoint, ...]]:
    """Every matrix cell's last ``periods`` organisation-level values to ``upto`` (None: all), oldest
    first, by the member's indicator id: one set-based statement, whatever the number of cells."""
    ids = sorted({cell.indicator_id for row in position.rows for cell in row.cells if cell is not None})
    if not ids:
        return {}
    rows = await fetch_records(session, _CELL_TRENDS, {"org_ids": list(position.member_ids), "ids": ids, "upto": upto, "periods": periods})
    series: dict[int, list[SeriesPoint]] = {}
    labels: dict[tuple[dt.date, str], str] = {}  # the same dozen months label every cell's points
    for indicator_id, frequency, period, value, target, trajectory, rag in rows:
        label = labels.get((period, frequency))
        if label is None:
            label = labels[period, frequency] = period_label(period, frequency)
        points = series.get(indicator_id)
        if points is None:
            points = series[indicator_id] = []
        # A point of the series outside any evidence (index None): what a sparkline draws and says.
        points.append(SeriesPoint(None, period, label, value, target, trajectory, rag or "none", False))  # float8 columns: floats already
    return {indicator_id: tuple(points) for indicator_id, points in series.items()}


def _row_name(cells: dict[int, MatrixCell], system_column: int) -> str:
    """A member's own wording reads better than the system's "(system)" variant."""
    member_names = [cell.indicator_name for column, cell in sorted(cells.items()) if column != system_column]
    return (member_names or [cell.indicator_name for _, cell in sorted(cells.items())])[0]


def _member(head, rows: list, is_system: bool, tenant_rules: Any) -> Member:  # type: ignore[no-untyped-def, type-arg]
    """The member and its place on the spectrum, rated from the columns of its assessed indicators."""
    assessed = [row for row in rows if row[PERIOD] is not None and row[VALUE] is not None]
    spectrum = rate_spectrum_columns(
        SpectrumColumns(
            domains=[row[DOMAIN_NAME] for row in assessed], key=[row[IS_KEY] for row in assessed],
            polarity=[row[POLARITY] for row in assessed], values=[row[VALUE] for row in assessed],
            targets=[row[TARGET] for row in assessed], variations=[row[VARIATION] or "none" for row in assessed],
        ),
        tenant_rules=tenant_rules, maturity_level=head[MATURITY_LEVEL],
    )
    return Member(code=head[ORG_CODE], name=head[ORG_NAME], short_name=head[SHORT_NAME], is_system=is_system, spectrum=spectrum,
                  maturity_level=head[MATURITY_LEVEL], maturity_assessed_on=head[MATURITY_ASSESSED_ON])


def _domain_options(key_rows: Iterable[Any]) -> tuple[DomainOption, ...]:
    """Domains that hold at least one key indicator, by code; differing names are joined."""
    names: dict[str, list[str]] = {}
    for row in key_rows:
        seen = names.setdefault(row[DOMAIN_CODE], [])
        if row[DOMAIN_NAME] not in seen:
            seen.append(row[DOMAIN_NAME])
    return tuple(DomainOption(code, " / ".join(found)) for code, found in names.items())
