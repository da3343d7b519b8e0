"""Reads about organisations, shared by the GraphQL schema and the pages.

Every function takes a session opened with the request's access context: row-level security has
already narrowed what these queries can see; the functions never widen it.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import (
    Domain,
    Indicator,
    Measurement,
    Organisation,
    OrgUnit,
    Target,
    UnitTier,
)
from server.db.records import fetch_records
from server.reporting.data_quality import COHORT_NAMES

# Organisation-level value from leaf measurements, by the indicator's roll-up method (DOMAIN 4.2):
# counts sum, rates as sum(numerator)/sum(denominator), longest waits as max; 'none' is not rolled up.
# Percentages are stored as fractions (0.95 = 95%) throughout, as the tenant files write them.
ROLLUP_SQL = """
  case i.rollup
    when 'sum' then sum(m.value)
    when 'max' then max(m.value)
    when 'min' then min(m.value)
    when 'rate' then sum(m.numerator) / nullif(sum(m.denominator), 0)
    else case when count(*) = 1 then max(m.value) end
  end
"""


async def visible_organisations(session: AsyncSession, org_ids: Sequence[int]) -> list[Organisation]:
    """Organisations among org_ids, by name. Directory rows: the caller passes what access allows."""
    if not org_ids:
        return []
    rows = await session.exec(select(Organisation).where(Organisation.id.in_(org_ids)).order_by(Organisation.name))
    return list(rows.all())


async def organisation_by_code(session: AsyncSession, code: str) -> Organisation | None:
    return (await session.exec(select(Organisation).where(Organisation.code == code))).first()


async def indicators_of(session: AsyncSession, *, org_id: int, key_only: bool = False) -> list[Indicator]:
    statement = select(Indicator).where(Indicator.org_id == org_id).order_by(Indicator.position)
    if key_only:
        statement = statement.where(Indicator.is_key)
    return list((await session.exec(statement)).all())


async def domains_of(session: AsyncSession, *, org_id: int) -> list[Domain]:
    return list((await session.exec(select(Domain).where(Domain.org_id == org_id).order_by(Domain.position))).all())


async def units_of(session: AsyncSession, *, org_id: int) -> list[OrgUnit]:
    return list((await session.exec(select(OrgUnit).where(OrgUnit.org_id == org_id).order_by(OrgUnit.path))).all())


async def tiers_of(session: AsyncSession, *, org_id: int) -> list[UnitTier]:
    return list((await session.exec(select(UnitTier).where(UnitTier.org_id == org_id).order_by(UnitTier.depth))).all())


async def current_targets(session: AsyncSession, indicator_ids: Sequence[int], on: dt.date | None = None) -> dict[int, Target]:
    """The target in force per indicator: the most stretching of those valid on the day.

    A tenant may set a local or stretch target more demanding than the national one (THGPCG 5);
    it cannot lower the standard, so a less demanding local figure (a plan's stepping stone) is
    tracked as a trajectory, not as the target.
    """
    if not indicator_ids:
        return {}
    chosen = await targets_in_force(session, indicator_ids, on)
    return {indicator_id: target for (indicator_id, unit_id), target in chosen.items() if unit_id is None}


async def targets_in_force(session: AsyncSession, indicator_ids: Sequence[int], on: dt.date | None = None) -> dict[tuple[int, int | None], Target]:
    """The target in force per (indicator, unit): the organisation's own under unit None, and each unit
    that has its own (a unit without one is rated against its nearest ancestor's, then the
    organisation's). Of several valid on the day, the most stretching. One statement."""
    if not indicator_ids:
        return {}
    on = on or dt.date.today()
    rows = (await session.exec(
        select(Target, Indicator.polarity).join(Indicator, Indicator.id == Target.indicator_id).where(Target.indicator_id.in_(indicator_ids))
    )).all()
    chosen: dict[tuple[int, int | None], Target] = {}
    for target, polarity in rows:
        if (target.valid_from and target.valid_from > on) or (target.valid_to and target.valid_to < on):
            continue
        key = (target.indicator_id, target.unit_id)
        best = chosen.get(key)
        sign = -1 if polarity == "lower_is_better" else 1
        if best is None or sign * target.value > sign * best.value:
            chosen[key] = target
    return chosen


async def recent_measurements(session: AsyncSession, *, indicator_id: int, limit: int = 12) -> list[Measurement]:
    statement = (
        select(Measurement).where(Measurement.indicator_id == indicator_id)
        .order_by(Measurement.period.desc(), Measurement.unit_id).limit(limit)
    )
    return list((await session.exec(statement)).all())


class LatestAssessment(NamedTuple):
    indicator_id: int
    unit_id: int | None
    period: dt.date
    value: float | None
    target: float | None
    trajectory: float | None
    rag: str
    variation: str
    assurance: str
    periods_under_target: int
    failure_forecast: bool
    masked_failure: bool
    rule_set: str


class IndicatorRecord(NamedTuple):
    """An indicator with its organisation's code, its domain, the target in force today and its
    latest organisation-level assessment (each when asked for), for lists across organisations.

    Records of long lists are named tuples: made from a row in a fraction of a frozen dataclass's
    time (1,250 of them cost 2.3 ms as dataclasses, a system position's whole read 1.5 ms). The
    GraphQL ``Indicator`` reads these records as they are (its attributes are these fields).
    """

    id: int
    org_id: int
    organisation_code: str
    code: str
    name: str
    definition: str | None
    unit: str
    polarity: str
    rollup: str
    frequency: str
    source: str
    is_key: bool
    owner: str | None
    cohort: str | None
    kitemark_data: dict | None  # the data-quality kitemark as stored; {} or None: not kitemarked
    domain_code: str
    domain_name: str
    target: float | None
    latest: LatestAssessment | None = None


# The most stretching target valid today (current_targets above, in SQL for many indicators at once):
# a subquery per indicator, most of the statement's cost, so only when the caller wants it.
_TARGET_IN_FORCE = """(select (case when i.polarity = 'lower_is_better' then min(t.value) else max(t.value) end)::float8 from target t
         where t.indicator_id = i.id and t.unit_id is null and (t.valid_from is null or t.valid_from <= current_date)
           and (t.valid_to is null or t.valid_to >= current_date))"""
_LATEST_COLUMNS = (
    "a.indicator_id, a.unit_id, a.period, a.value, a.target, a.trajectory, a.rag, a.variation, a.assurance,"
    " a.periods_under_target, a.failure_forecast, a.masked_failure, a.rule_set"
)
_INDICATORS_OF_ORGS = """{latest_with}
select i.id, i.org_id, o.code, i.code, i.name, i.definition, i.unit, i.polarity, i.rollup, i.frequency, i.source, i.is_key,
       i.owner, i.cohort, i.kitemark, d.code, d.name, {target}{latest_columns}
from indicator i join domain d on d.id = i.domain_id join organisation o on o.id = i.org_id{latest_join}
where i.org_id = any(:org_ids) {filters}
order by i.org_id, d.position, i.position, i.id
"""
_RECORD_WIDTH = 18  # the IndicatorRecord columns before the latest assessment's


def _indicator_filters(
    org_ids: Sequence[int], domain: str | None, key: bool | None, source: str | None, codes: Sequence[str] | None,
    cohort: str | None = None,
) -> tuple[str, dict[str, object]]:
    """The ``where`` additions and parameters narrowing an organisation's indicators (both reads below)."""
    filters, params = [], {"org_ids": list(org_ids)}  # type: ignore[var-annotated]
    if domain is not None:
        filters.append("and d.code = :domain")
        params["domain"] = domain
    if key is not None:
        filters.append("and i.is_key = :key")
        params["key"] = key
    if source is not None:
        filters.append("and i.source = :source")
        params["source"] = source
    if codes is not None:
        filters.append("and i.code = any(:codes)")
        params["codes"] = list(codes)
    if cohort is not None:
        filters.append("and i.cohort = :cohort")
        params["cohort"] = cohort
    return " ".join(filters), params


async def indicators_of_orgs(
    session: AsyncSession, org_ids: Sequence[int], *, domain: str | None = None, key: bool | None = None,
    source: str | None = None, codes: Sequence[str] | None = None, target: bool = True, latest: bool = False, cohort: str | None = None,
) -> dict[int, list[IndicatorRecord]]:
    """Per organisation, its indicators in scorecard order, optionally filtered, with the target in
    force (``target``) and the latest organisation-level assessment (``latest``): one statement."""
    filters, params = _indicator_filters(org_ids, domain, key, source, codes, cohort)
    statement = _INDICATORS_OF_ORGS.format(
        filters=filters, target=_TARGET_IN_FORCE if target else "null::float8",
        latest_columns=f", {_LATEST_COLUMNS}" if latest else "",
        latest_join=_LATEST_JOIN if latest else "", latest_with=_LATEST_WITH if latest else "",
    )
    rows = await fetch_records(session, statement, params)
    found: dict[int, list[IndicatorRecord]] = {org_id: [] for org_id in org_ids}
    # _make: a tuple from an iterable in one step (the named tuple's own constructor binds 18 arguments).
    make, make_latest = IndicatorRecord._make, LatestAssessment._make
    for row in rows:
        if latest:
            found[row[1]].append(make((*row[:_RECORD_WIDTH], make_latest(row[_RECORD_WIDTH:]) if row[_RECORD_WIDTH] else None)))
        else:
            found[row[1]].append(make((*row, None)))
    return found


async def cohort_names_of_orgs(session: AsyncSession, org_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Per organisation, its patient cohorts' names by code (the tenant file's ``cohorts:``): one statement."""
    rows = (await session.exec(text(
        "with " + COHORT_NAMES.format(orgs="f.org_id = any(:org_ids)") + " select org_id, code, name from cohort_names"
    ), params={"org_ids": list(org_ids)})).all()
    found: dict[int, dict[str, str]] = {}
    for org_id, code, name in rows:
        found.setdefault(org_id, {})[code] = name
    return found


# The columns of indicators_of_orgs as SQL over the same aliases (i, d, o, and a for the latest
# assessment), for reads that shape their answer in PostgreSQL (schema/prerender.py).
INDICATOR_COLUMNS = {
    "organisationCode": "o.code", "code": "i.code", "name": "i.name", "definition": "i.definition", "unit": "i.unit",
    "polarity": "i.polarity", "rollup": "i.rollup", "frequency": "i.frequency", "source": "i.source", "isKey": "i.is_key",
    "owner": "i.owner", "cohort": "i.cohort", "domainCode": "d.code", "domainName": "d.name", "target": _TARGET_IN_FORCE,
}
LATEST_COLUMNS = {
    "period": "a.period", "value": "a.value", "target": "a.target", "trajectory": "a.trajectory", "rag": "a.rag",
    "variation": "a.variation", "assurance": "a.assurance", "periodsUnderTarget": "a.periods_under_target",
    "failureForecast": "a.failure_forecast", "maskedFailure": "a.masked_failure", "ruleSet": "a.rule_set",
}
LATEST_PRESENT = "a.indicator_id"  # null when the indicator has no latest assessment
# The latest organisation-level assessments of the organisations asked, read once as a set and
# joined by indicator. Joined per indicator instead, PostgreSQL looked each indicator up in every
# yearly partition of assessment (1,250 indicators x 8 partitions for a system of five: 13.9 ms of
# its CPU against 4.4 ms this way, measured on the national data set).
_LATEST_WITH = """with a as materialized (
    select indicator_id, unit_id, period, value, target, trajectory, rag, variation, assurance, periods_under_target,
           failure_forecast, masked_failure, rule_set
    from assessment where is_latest and unit_id is null and org_id = any(:org_ids))"""
_LATEST_JOIN = " left join a on a.indicator_id = i.id"

_INDICATOR_PAGE_ROWS = """{latest_with}
select * from (
    select i.org_id, row_number() over (partition by i.org_id order by d.position, i.position, i.id) as rn,
           count(*) over (partition by i.org_id) as total, {columns}
    from indicator i join domain d on d.id = i.domain_id{organisation_join}{latest_join}
    where i.org_id = any(:org_ids) {filters}
) r
where (r.rn > :offset and r.rn <= :offset + :first) or r.rn = r.total
order by r.org_id, r.rn
"""
_ORGANISATION_COLUMN = re.compile(r"\bo\.")
PAGE_ROW_OFFSET = 3  # org_id, rn, total come first in each row


async def indicator_page_rows(
    session: AsyncSession, org_ids: Sequence[int], columns: Sequence[str], *, offset: int, first: int, domain: str | None = None,
    key: bool | None = None, source: str | None = None, codes: Sequence[str] | None = None, latest: bool = False,
    cohort: str | None = None,
) -> dict[int, tuple[int, list[Any]]]:
    """Per organisation, (how many indicators match, the rows of the page ``offset``..``offset +
    first``) with only ``columns``: the same indicators, order and rights as indicators_of_orgs,
    one statement. ``columns`` are SQL over INDICATOR_COLUMNS / LATEST_COLUMNS (``latest``: they
    read the latest assessment), chosen by schema/prerender.py from those names, never from values.
    Each row starts with org_id, rn, total (PAGE_ROW_OFFSET); the last row of each organisation
    is always read, so the count is known even for a page past the end."""
    filters, params = _indicator_filters(org_ids, domain, key, source, codes, cohort)
    statement = _INDICATOR_PAGE_ROWS.format(
        filters=filters, columns=", ".join(columns), latest_join=_LATEST_JOIN if latest else "", latest_with=_LATEST_WITH if latest else "",
        # The organisation is joined only for a column of its own (its code): the join cost a nested loop.
        organisation_join=" join organisation o on o.id = i.org_id" if any(_ORGANISATION_COLUMN.search(column) for column in columns) else "",
    )
    found: dict[int, tuple[int, list[Any]]] = {org_id: (0, []) for org_id in org_ids}
    for row in await fetch_records(session, statement, {**params, "offset": offset, "first": first}):
        org_id, position, total = row[0], row[1], row[2]
        rows = found[org_id][1]
        if offset < position <= offset + first:
            rows.append(row)
        found[org_id] = (total, rows)
    return found


@dataclass(frozen=True)
class UnitRecord:
    id: int
    org_id: int
    code: str
    name: str
    tier: str
    parent_code: str | None
    rolls_up: bool  # False: its figures stay out of its parent's and the organisation's (a contract unit)


async def units_of_orgs(session: AsyncSession, org_ids: Sequence[int]) -> dict[int, list[UnitRecord]]:
    """Per organisation, its units in tree order with their tier names: one statement."""
    rows = (await session.exec(text(
        "select u.id, u.org_id, u.code, u.name, coalesce(t.name, ''), p.code, u.rolls_up from org_unit u"
        " left join unit_tier t on t.org_id = u.org_id and t.depth = u.depth"
        " left join org_unit p on p.id = u.parent_id"
        " where u.org_id = any(:org_ids) order by u.org_id, u.path"
    ), params={"org_ids": list(org_ids)})).all()
    found: dict[int, list[UnitRecord]] = {org_id: [] for org_id in org_ids}
    for row in rows:
        found[row[1]].append(UnitRecord(*row))
    return found


async def targets_of(session: AsyncSession, indicator_ids: Sequence[int]) -> dict[int, list[Target]]:
    """Every organisation-level target of each indicator (national, contractual, local, stretch), oldest first."""
    rows = (await session.exec(
        select(Target).where(Target.indicator_id.in_(list(indicator_ids)), Target.unit_id.is_(None))
        .order_by(Target.indicator_id, Target.valid_from, Target.id)
    )).all()
    found: dict[int, list[Target]] = {}
    for target in rows:
        found.setdefault(target.indicator_id, []).append(target)
    return found
