"""One indicator at one unit: every stored assessment of the series, the latest row's evidence
(SPC points, limits, rules, verdict reasons) and the revision history of the values behind it.

The organisation level is the root's roll-up (assessment.unit_id null); its values come from
the leaf measurements beneath, so its revision history is theirs, most recent first, limited.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.evidence import evidence_document
from server.assessment_store.methods import METHOD_OF
from server.reporting.outturn import IndicatorOutturn, indicator_outturns
from server.reporting.periods import PeriodIndex
from server.reporting.scorecard import IndicatorRef
from server.reporting.data_quality import COHORT_NAMES, KitemarkView, kitemark_of
from server.reporting.structure import OrganisationTree, UnitRef, UnknownUnit, select_unit, unit_ancestors
from server.reporting.status import LATEST_STATUS_COLUMNS, LATEST_STATUS_WIDTH, IndicatorStatus
from server.reporting.words import POINT_TYPE_WORDS, RAG_WORDS, RULE_NAMES, period_label

REVISION_LIMIT = 50
COMBINE_WORDS = {
    "sum": "the sum of", "rate": "the sum of the numerators over the sum of the denominators of", "max": "the largest of",
    "min": "the smallest of", "mean": "the mean of",
}
STATUS_START = 11  # where LATEST_STATUS_COLUMNS begin in the series row


@dataclass(frozen=True)
class IndicatorFacts:
    ref: IndicatorRef
    definition: str | None
    source: str
    domain: str
    from_members: dict[str, Any] | None = None  # a system's figure computed from its members' (tenant file from_members)
    kitemark: KitemarkView | None = None  # None: not kitemarked

    @property
    def from_members_words(self) -> str:
        """How the system's figure is made, e.g. "sum of numerators over sum of denominators of RXW's RTT18 and RL1's RTT18"."""
        if not self.from_members:
            return ""
        sources = [f"{member}'s {code}" for member, code in self.from_members["indicators"].items()]
        listed = sources[0] if len(sources) == 1 else ", ".join(sources[:-1]) + " and " + sources[-1]
        return f"{COMBINE_WORDS[self.from_members['combine']]} {listed}" if len(sources) > 1 else f"{listed}, as reported"


class SeriesPoint(NamedTuple):
    """One period of the series: the stored assessment row and, where evidence has it, its SPC point.

    A named tuple: pages build thousands (an IPR's 250 sparklines of 24 points, a system's cells), and a
    frozen dataclass cost ~4 us each to make against ~0.5 us."""

    index: int | None  # column in the evidence; None when the evidence does not cover the row
    period: dt.date
    label: str
    value: float | None
    target: float | None
    trajectory: float | None
    rag: str
    masked_failure: bool
    mean: float | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    segment: int = 0
    rules: tuple[str, ...] = ()
    deciding_rule: str = "none"
    point_type: str = "not_assessed"
    direction: int = 0

    @property
    def rag_words(self) -> str:
        return RAG_WORDS.get(self.rag, RAG_WORDS["none"])

    @property
    def point_words(self) -> str:
        return POINT_TYPE_WORDS.get(self.point_type, self.point_type)

    @property
    def rule_names(self) -> str:
        return ", ".join(RULE_NAMES.get(rule, rule) for rule in self.rules)


@dataclass(frozen=True)
class Revision:
    period: dt.date
    unit_code: str
    unit_name: str
    revision: int
    value: float | None
    numerator: float | None
    denominator: float | None
    status: str
    source: str
    recorded_at: dt.datetime
    reason: str | None

    @property
    def fraction(self) -> float | None:
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator / self.denominator


@dataclass(frozen=True)
class IndicatorDetail:
    indicator: IndicatorFacts
    unit: UnitRef | None
    ancestors: tuple[UnitRef, ...]
    units: tuple[UnitRef, ...]
    latest: IndicatorStatus | None
    points: tuple[SeriesPoint, ...]
    evidence: dict[str, Any]
    periods: PeriodIndex
    rule_set: str
    computed_at: dt.datetime | None
    revisions: tuple[Revision, ...]
    revision_limit: int = REVISION_LIMIT
    outturn: IndicatorOutturn | None = None  # year to date and forecast outturn, where the tenant file asks for it
    as_at: dt.date | None = None  # the month shown, when an earlier one was asked for (?period=): ``latest`` and ``points`` stop there

    @property
    def is_organisation_level(self) -> bool:
        return self.unit is None or self.unit.is_root


class UnknownIndicator(LookupError):
    pass


async def indicator_detail(
    session: AsyncSession, tree: OrganisationTree, *, indicator_code: str, unit_code: str | None = None, month: dt.date | None = None,
) -> IndicatorDetail:
    """Raises UnknownIndicator for an indicator (or unit) this request cannot see. ``month``: the series as it
    stood at its last period in that month (a past IPR's links), as the IPR shows it."""
    units = tree.units
    by_id = {u.id: u for u in units}
    try:
        unit = select_unit(units, unit_code)
    except UnknownUnit as unknown:
        raise UnknownIndicator(unit_code) from unknown
    selected_id = None if unit is None or unit.is_root else unit.id
    rows = (await session.exec(
        text(
            f"""
            with {COHORT_NAMES.format(orgs="f.org_id = :org")}
            select i.id, i.code, i.name, i.unit, i.polarity, i.frequency, i.is_key, i.owner, i.definition, i.source,
                   d.name as domain_name, {LATEST_STATUS_COLUMNS},
                   a.is_latest, case when a.is_latest then a.evidence end as evidence,
                   case when a.is_latest then a.spc_points end as spc_points,
                   case when a.is_latest then {METHOD_OF} end as method, a.rule_set, a.computed_at,
                   i.outturn is not null as has_outturn, i.from_members, i.kitemark, i.cohort, cn.name as cohort_name
            from indicator i
            join domain d on d.id = i.domain_id
            left join cohort_names cn on cn.org_id = i.org_id and cn.code = i.cohort
            left join assessment a on a.indicator_id = i.id and a.unit_id is not distinct from cast(:unit_id as integer)
            where i.org_id = :org and i.code = :code
            order by a.period
            """
        ),
        params={"org": tree.organisation.id, "code": indicator_code, "unit_id": selected_id},
    )).all()
    if not rows:
        raise UnknownIndicator(indicator_code)
    first = rows[0]
    kitemark = kitemark_of(first.kitemark)
    ref = IndicatorRef(first.id, first.code, first.name, first.unit, first.polarity, first.frequency, first.is_key, first.owner,
                       kitemark.overall if kitemark else None, first.cohort, first.cohort_name)
    facts = IndicatorFacts(ref, first.definition, first.source, first.domain_name, first.from_members, kitemark)
    assessed = [row for row in rows if row.period is not None]
    latest_row = next((row for row in reversed(assessed) if row.is_latest), None)
    latest = IndicatorStatus.from_columns(latest_row[STATUS_START:STATUS_START + LATEST_STATUS_WIDTH], ref.frequency) if latest_row else None
    evidence = evidence_document(latest_row.evidence, latest_row.spc_points, latest_row.method) if latest_row else {}
    points, periods = _series_points(assessed, evidence, ref.frequency)
    if month is not None:
        latest, points = _as_at(ref, assessed, points, month)
    revisions = await _revisions(session, indicator_id=facts.ref.id, unit=unit, limit=REVISION_LIMIT)
    outturn = (await indicator_outturns(session, [ref.id], unit_id=selected_id)).get(ref.id) if first.has_outturn else None
    return IndicatorDetail(
        indicator=facts, unit=unit, ancestors=unit_ancestors(unit, by_id), units=tuple(units), latest=latest,
        points=points, evidence=evidence, periods=periods,
        rule_set=latest_row.rule_set if latest_row else "", computed_at=latest_row.computed_at if latest_row else None,
        revisions=revisions, outturn=outturn, as_at=month,
    )


def _as_at(ref: IndicatorRef, rows: list, points: tuple[SeriesPoint, ...], month: dt.date) -> tuple[IndicatorStatus | None, tuple[SeriesPoint, ...]]:  # type: ignore[type-arg]
    """The status and points of the series as it stood at its last period in ``month`` (the IPR's ``?period=``)."""
    from server.reporting.board import status_as_at  # board builds on this module's points
    from server.reporting.periods import add_periods

    before = add_periods(month, 1, "monthly")
    shown = tuple(point for point in points if point.period < before)
    row = next((row for row in reversed(rows) if row.period < before), None)
    if row is None:
        return None, shown
    status = IndicatorStatus.from_columns(row[STATUS_START:STATUS_START + LATEST_STATUS_WIDTH], ref.frequency)
    return status_as_at(ref, status, shown), shown


def _series_points(rows: list, evidence: dict[str, Any], frequency: str) -> tuple[tuple[SeriesPoint, ...], PeriodIndex]:  # type: ignore[type-arg]
    """Pair stored rows with evidence points: the k-th observed evidence point is the k-th row.

    Evidence indexes are columns of the organisation's whole series, which may include periods in
    which this series has no value; rows exist only for observed periods, so pairing in order is exact.
    """
    spc_points = [p for p in (evidence.get("spc") or {}).get("points", []) if p.get("value") is not None]
    paired = len(spc_points) == len(rows)
    periods = PeriodIndex({p["index"]: row.period for p, row in zip(spc_points, rows)} if paired else {}, frequency)
    points = []
    for position, row in enumerate(rows):
        base = dict(period=row.period, label=period_label(row.period, frequency), value=_float(row.value), target=_float(row.target),
                    trajectory=_float(row.trajectory), rag=row.rag or "none", masked_failure=bool(row.masked_failure))
        if paired:
            p = spc_points[position]
            points.append(SeriesPoint(
                index=p["index"], mean=p.get("mean"), lower_limit=p.get("lower_limit"), upper_limit=p.get("upper_limit"),
                segment=int(p.get("segment") or 0), rules=tuple(p.get("rules") or ()), deciding_rule=p.get("deciding_rule") or "none",
                point_type=p.get("point_type") or "not_assessed", direction=int(p.get("direction") or 0), **base,
            ))
        else:
            points.append(SeriesPoint(index=None, **base))
    return tuple(points), periods


async def _revisions(session: AsyncSession, *, indicator_id: int, unit: UnitRef | None, limit: int) -> tuple[Revision, ...]:
    if unit is None:
        return ()
    rows = (await session.exec(
        text(
            """
            select m.period, u.code, u.name, r.revision, r.value, r.numerator, r.denominator, r.status, r.source, r.recorded_at, r.reason
            from measurement_history r
            join measurement m on m.org_id = r.org_id and m.id = r.measurement_id and m.period = r.period
            join org_unit u on u.org_id = m.org_id and u.id = m.unit_id
            where m.indicator_id = :indicator and u.path like :path || '%' and :path like u.rollup_top_path || '%'
            order by r.recorded_at desc, m.period desc, u.name, r.revision desc
            limit :limit
            """
        ),
        params={"indicator": indicator_id, "path": unit.path, "limit": limit},
    )).all()
    return tuple(
        Revision(r[0], r[1], r[2], r[3], _float(r[4]), _float(r[5]), _float(r[6]), r[7], r[8], r[9], r[10]) for r in rows
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
