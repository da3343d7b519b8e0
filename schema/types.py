"""Organisations, their units and indicators, series and latest ratings, for tools.

Every list is loaded a level at a time: an organisation's indicators for all organisations in the
answer in one statement (a per-request DataLoader), their latest ratings in the same pass when
the query asks for them (look-ahead), their series in one statement per distinct range. Objects are
plain records (``server.organisations.queries``), read by attribute, so the executor's fast path
(schema/executor.py) completes long lists without a resolver per leaf.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from schema.assessments import Assessment, Escalation, latest_assessment
from schema.context import AccordContext, BadInput, Info
from schema.governance import (
    AuditTrailPage, DataPack, FromDate, Meeting, ReportingSchedule, organisation_audit_trail, organisation_data_packs,
    organisation_latest_data_pack, organisation_meetings, organisation_reporting_schedule,
)
from schema.enums import DataQualityRating, EscalationStatus, Frequency, IndicatorSource, MeasureUnit, OutturnMethod, PointType, Polarity, Rollup
from schema.ratings import Rating
from schema.pagination import Connection, connection, page_bounds, prerendered_connection
from schema.prerender import Column, Nested, nodes_plan
from schema.programmes import Programme, ProgrammeSponsor, organisation_programme_sponsors, organisation_programmes
from schema.selection import selects, selects_at
from server.escalation_store.queries import escalations_of_orgs
from server.organisations import queries
from server.reporting.outturn import indicator_outturns
from server.reporting.data_quality import kitemark_of
from server.reporting.series import indicator_series
from server.tenants.spec import KITEMARK_DIMENSIONS


@strawberry.type(description="A measurement as stored, at one unit (deprecated list: use Indicator.series).")
class Measurement:
    period: dt.date
    unit_code: str
    value: float | None
    numerator: float | None
    denominator: float | None
    status: str
    revision: int
    recorded_at: dt.datetime


@strawberry.type
class Target:
    kind: str
    value: float
    valid_from: dt.date | None
    valid_to: dt.date | None


@strawberry.type(description="An indicator's latest stored rating at organisation level (or at one unit).")
class LatestRating(Rating):
    period: dt.date
    trajectory: float | None
    failure_forecast: bool
    masked_failure: bool
    rule_set: str


@strawberry.type(description="One period of a series: the value, its parts, target, rating and SPC limits.")
class SeriesPoint(Rating):
    period: dt.date
    numerator: float | None
    denominator: float | None
    trajectory: float | None
    mean: float | None = strawberry.field(description="SPC centre line for the point's segment.")
    lower_limit: float | None = strawberry.field(description="Lower process limit (3 sigma).")
    upper_limit: float | None = strawberry.field(description="Upper process limit (3 sigma).")
    point_type: PointType | None  # type: ignore[valid-type]
    is_latest: bool


@strawberry.type(description="Year to date and forecast year-end outturn as they stood at one month (tenant file outturn:).")
class Outturn:
    period: dt.date = strawberry.field(description="The month reported last.")
    year_start: dt.date = strawberry.field(description="First month of the financial year.")
    year_end: dt.date = strawberry.field(description="Last month of the financial year.")
    months_reported: int
    ytd_actual: float = strawberry.field(description="This year's reported months summed.")
    ytd_plan: float | None = strawberry.field(description="The plan of the same months (trajectory, else target); null if a month has neither.")
    ytd_variance: float | None = strawberry.field(description="ytdActual minus ytdPlan.")
    ytd_favourable: bool | None = strawberry.field(description="Whether the variance is on the better side, by polarity.")
    forecast: float = strawberry.field(description="Forecast outturn for the whole year, by the method.")
    annual_plan: float | None = strawberry.field(description="The plan summed over the twelve months.")
    forecast_variance: float | None
    forecast_favourable: bool | None

    @classmethod
    def of(cls, point: Any) -> "Outturn":
        return cls(period=point.period, year_start=point.year_start, year_end=point.year_end, months_reported=point.months_reported,
                   ytd_actual=point.ytd_actual, ytd_plan=point.ytd_plan, ytd_variance=point.ytd_variance, ytd_favourable=point.ytd_favourable,
                   forecast=point.forecast, annual_plan=point.annual_plan, forecast_variance=point.forecast_variance,
                   forecast_favourable=point.forecast_favourable)


@strawberry.type(description="An indicator's year to date and forecast outturn: the latest and as it stood at each reported month.")
class IndicatorOutturn:
    method: OutturnMethod  # type: ignore[valid-type]
    year_start_month: int
    latest: Outturn | None
    months: list[Outturn] = strawberry.field(metadata={"max_items": 120})


@strawberry.type
class Unit:
    code: str
    name: str
    tier: str
    parent_code: str | None
    rolls_up: bool = strawberry.field(description="False: the unit's figures (and those below it) stay out of its parent's and the "
                                      "organisation's own, as a commissioner's contract units do (tenant file rolls_up)")


@strawberry.type(description="A data-quality kitemark: each dimension the data owner rated, and overall.")
class DataQualityKitemark:
    overall: DataQualityRating  # type: ignore[valid-type]
    timeliness: DataQualityRating | None  # type: ignore[valid-type]
    completeness: DataQualityRating | None  # type: ignore[valid-type]
    validation: DataQualityRating | None  # type: ignore[valid-type]
    audit: DataQualityRating | None  # type: ignore[valid-type]


@strawberry.federation.type(keys=["organisationCode code"], description="An indicator of one organisation's framework.")
class Indicator:
    """Lists answer with ``queries.IndicatorRecord`` records as they are (the same attributes, no
    object made per indicator); the resolvers below read ``self`` from either."""

    id: strawberry.Private[int]
    org_id: strawberry.Private[int]
    organisation_code: str
    code: str
    name: str
    definition: str | None
    unit: MeasureUnit  # type: ignore[valid-type]
    polarity: Polarity  # type: ignore[valid-type]
    rollup: Rollup  # type: ignore[valid-type]
    frequency: Frequency  # type: ignore[valid-type]
    source: IndicatorSource  # type: ignore[valid-type]
    is_key: bool
    owner: str | None
    cohort: str | None = strawberry.field(description="The patient cohort's code (WHSSC appendix 1); null: none")
    kitemark_data: strawberry.Private[dict | str | None]
    domain_code: str
    domain_name: str
    target: float | None = strawberry.field(description="The target in force today (the most stretching valid one).")
    latest: LatestRating | None = strawberry.field(description="The latest organisation-level rating.")

    @strawberry.field(description="The data-quality kitemark (ULHT PMF 2.5, 10); null: not kitemarked.")
    def kitemark(self) -> DataQualityKitemark | None:
        stored = json.loads(self.kitemark_data) if isinstance(self.kitemark_data, str) else self.kitemark_data
        view = kitemark_of(stored)
        if view is None:
            return None
        rated = dict(view.dimensions)
        return DataQualityKitemark(overall=DataQualityRating(view.overall), **{  # type: ignore[arg-type]
            name: DataQualityRating(rated[name]) if name in rated else None for name in KITEMARK_DIMENSIONS})  # type: ignore[misc]

    @strawberry.field(description="The patient cohort's name, as the organisation's framework declares it.")
    async def cohort_name(self, info: Info) -> str | None:
        if self.cohort is None:
            return None
        names = await _cohort_names_loader(info.context).load(self.org_id)
        return names.get(self.cohort)

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Indicator | None:
        """Federation entity: authorised exactly as ``organisation(code).indicator(code)``. The
        representation arrives as the key's GraphQL names (``organisationCode``, ``code``); the
        entity union resolves its type from the object, so the record becomes an Indicator here."""
        organisation_code, code = representation.get("organisationCode"), representation.get("code")
        if not isinstance(organisation_code, str) or not isinstance(code, str):
            raise BadInput("An Indicator representation needs its key: organisationCode and code")
        organisation = await Organisation.resolve_reference(info, organisation_code)
        record = await organisation.indicator(info, code) if organisation else None
        return cls(**record._asdict()) if record is not None else None

    @strawberry.field(description="Stored series at organisation level (rolled up) or at one unit, oldest first, within from..to.", metadata={"max_items": 120})
    async def series(
        self, info: Info, unit_code: str | None = None, from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
    ) -> list[SeriesPoint]:
        unit_id = await _unit_id(info.context, self.org_id, unit_code)
        if unit_code is not None and unit_id is None:
            return []
        return await _series_loader(info.context).load((self.id, unit_id, from_, to))  # type: ignore[return-value]

    @strawberry.field(description="The latest stored assessment with its full evidence (points, limits, rules, parameters).")
    async def assessment(self, info: Info, unit_code: str | None = None) -> Assessment | None:
        unit_id = await _unit_id(info.context, self.org_id, unit_code)
        if unit_code is not None and unit_id is None:
            return None
        found = await info.context.read(lambda session: latest_assessment(session, self.id, unit_id))
        return Assessment.from_row(found[0], unit_code, found[1]) if found else None

    @strawberry.field(description="Year to date and forecast outturn at the organisation level or one unit; null unless the tenant file declares it.")
    async def outturn(self, info: Info, unit_code: str | None = None) -> IndicatorOutturn | None:
        unit_id = await _unit_id(info.context, self.org_id, unit_code)
        if unit_code is not None and unit_id is None:
            return None
        found = await _outturn_loader(info.context).load((self.id, unit_id))
        if found is None:
            return None
        return IndicatorOutturn(method=found.method, year_start_month=found.year_start_month,
                                latest=Outturn.of(found.latest) if found.latest else None, months=[Outturn.of(p) for p in found.points])

    @strawberry.field(metadata={"max_items": 10})
    async def targets(self, info: Info) -> list[Target]:
        found = await _targets_loader(info.context).load(self.id)
        return [Target(kind=t.kind, value=float(t.value), valid_from=t.valid_from, valid_to=t.valid_to) for t in found]

    @strawberry.field(deprecation_reason="Use series(unitCode, from, to): complete, rolled up and rated.")
    async def recent_measurements(self, info: Info, limit: int = 24) -> list[Measurement]:
        limit = max(1, min(limit, 500))
        rows = await info.context.read(lambda session: queries.recent_measurements(session, indicator_id=self.id, limit=limit))
        codes = await _unit_codes(info.context, self.org_id)
        return [Measurement(period=r.period, unit_code=codes.get(r.unit_id, ""), value=_float(r.value), numerator=_float(r.numerator),
                            denominator=_float(r.denominator), status=r.status, revision=r.revision, recorded_at=r.recorded_at)
                for r in rows]


@strawberry.input(description="Narrow an organisation's indicators; every field is optional.")
class IndicatorFilter:
    domain: str | None = strawberry.UNSET
    key: bool | None = strawberry.UNSET
    source: IndicatorSource | None = strawberry.UNSET  # type: ignore[valid-type]
    codes: list[str] | None = strawberry.UNSET
    cohort: str | None = strawberry.field(default=strawberry.UNSET, description="A patient cohort's code (WHSSC appendix 1)")


@strawberry.federation.type(keys=["code"], description="An NHS organisation you may read, in full or contractually.")
class Organisation:
    id: strawberry.Private[int]
    code: str
    name: str
    short_name: str | None
    kind: str
    nation: str

    @classmethod
    def from_row(cls, row: Any) -> Organisation:
        return cls(id=row.id, code=row.code, name=row.name, short_name=getattr(row, "short_name", None), kind=row.kind, nation=row.nation)

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> Organisation | None:
        """Federation entity: the same rights as the ``organisation(code)`` root field."""
        info.context.require_principal()
        row = await info.context.read(lambda session: queries.organisation_by_code(session, code))
        return cls.from_row(row) if row is not None and info.context.can_read(row.id) else None

    @strawberry.field(metadata={"max_items": 500})
    async def units(self, info: Info) -> list[Unit]:
        return await _units_loader(info.context).load(self.id)  # type: ignore[return-value]

    @strawberry.field(description="Indicators in scorecard order (domain, then position), optionally filtered.")
    async def indicators(
        self, info: Info, filter: IndicatorFilter | None = None, first: int = 250, after: str | None = None,
        key_only: Annotated[bool, strawberry.argument(deprecation_reason="Use filter: {key: true}")] = False,
    ) -> Connection[Indicator]:
        offset, _ = page_bounds(first, after)
        key = filter.key if filter and filter.key is not strawberry.UNSET else (True if key_only else None)
        narrowed = {"domain": _given(filter, "domain"), "key": key, "source": _given(filter, "source"),
                    "codes": tuple(filter.codes) if filter and filter.codes else None, "cohort": _given(filter, "cohort")}
        if info.context.sql_json and (plan := nodes_plan(info, _INDICATOR_SHAPE, offset=queries.PAGE_ROW_OFFSET)) is not None:
            wanted = _IndicatorQuery(**narrowed, target=False, latest="latest" in plan.nested)
            total, rows = await _indicator_pages_loader(info.context).load((self.id, wanted, plan.columns, offset, first))
            return prerendered_connection(plan.page(rows), offset=offset, first=first, total=total)
        selected = info.selected_fields
        wanted = _IndicatorQuery(
            **narrowed, latest=selects(info, "latest", selected=selected),
            target=selects_at(info, ("nodes",), "target", selected=selected) or selects_at(info, ("edges", "node"), "target", selected=selected),
        )
        found = await _indicators_loader(info.context).load((self.id, wanted))
        return connection(found, first=first, after=after, edges=selects(info, "edges", selected=selected))

    @strawberry.field(description="One indicator by code, or null.")
    async def indicator(self, info: Info, code: str) -> Indicator | None:
        selected = info.selected_fields
        wanted = _IndicatorQuery(codes=(code,), latest=selects(info, "latest", selected=selected), target=selects_at(info, (), "target", selected=selected))
        found = await _indicators_loader(info.context).load((self.id, wanted))
        return found[0] if found else None

    @strawberry.field(description="Meetings of this organisation's forums from..to (default: the last three months and the next six).",
                      metadata={"max_items": 500})
    async def meetings(self, info: Info, from_: FromDate = None, to: dt.date | None = None) -> list[Meeting]:
        return await organisation_meetings(info, self.id, from_, to)

    @strawberry.field(description="Data packs issued for this organisation's meetings, the latest issue first.")
    async def data_packs(self, info: Info, first: int = 20, after: str | None = None) -> Connection[DataPack]:
        return await organisation_data_packs(info, self.id, first, after)

    @strawberry.field(description="The latest data pack issued for one of this organisation's meetings, or null.")
    async def latest_data_pack(self, info: Info) -> DataPack | None:
        return await organisation_latest_data_pack(info, self.id)

    @strawberry.field(description="Reports the framework schedules: overdue, due soon and recently issued.")
    async def reporting_schedule(self, info: Info) -> ReportingSchedule:
        return await organisation_reporting_schedule(info, self.id)

    @strawberry.field(description="The append-only audit trail, newest first, a page at a time (needs 'audit read' here).")
    async def audit_trail(self, info: Info, page: int = 1) -> AuditTrailPage:
        return await organisation_audit_trail(info, self.id, self.code, page)

    @strawberry.field(description="Programme records (Sheffield 3.1): milestones, QIPP planned and realised, risks, escalation; "
                                  "one by code, and closed ones only when asked.", metadata={"max_items": 50})
    async def programmes(self, info: Info, code: str | None = None, include_closed: bool = False) -> list[Programme]:
        return await organisation_programmes(info, self.id, code, include_closed)

    @strawberry.field(description="People who may be a programme's Senior Responsible Owner: active holders of a role the policy lets "
                                  "sponsor a programme (createProgramme's sroUserId)", metadata={"max_items": 500})
    async def programme_sponsors(self, info: Info) -> list[ProgrammeSponsor]:
        return await organisation_programme_sponsors(info, self.id)

    @strawberry.field(description="Escalations raised by this organisation's ladders, highest level first.")
    async def escalations(
        self, info: Info, status: list[EscalationStatus] | None = None, min_level: int | None = None,  # type: ignore[valid-type]
        first: int = 100, after: str | None = None, include_closed: bool = False,
    ) -> Connection[Escalation]:
        page_bounds(first, after)
        statuses = tuple(s.value for s in status) if status else (None if include_closed else ("open", "acknowledged", "plan_linked"))
        found = await _escalations_loader(info.context).load((self.id, statuses, min_level))
        return connection(found, first=first, after=after)


# -- loaders: one statement per level, whatever the number of parents ---------------------------------

class _IndicatorQuery(tuple):  # type: ignore[type-arg]
    """A hashable description of which indicators a parent wants (the DataLoader key's second half),
    and which costly parts the query reads: the target in force and the latest rating."""

    def __new__(cls, domain: str | None = None, key: bool | None = None, source: Any = None, codes: tuple[str, ...] | None = None,
                target: bool = True, latest: bool = False, cohort: str | None = None) -> "_IndicatorQuery":
        return super().__new__(cls, (domain, key, getattr(source, "value", source), codes, target, latest, cohort))


def _given(filter: IndicatorFilter | None, name: str) -> Any:
    value = getattr(filter, name, None) if filter is not None else None
    return None if value is strawberry.UNSET else value


def _indicators_loader(context: AccordContext) -> DataLoader:
    async def load(keys: list[tuple[int, _IndicatorQuery]]) -> list[list[queries.IndicatorRecord]]:
        by_query: dict[_IndicatorQuery, list[int]] = defaultdict(list)
        for org_id, wanted in keys:
            by_query[wanted].append(org_id)
        results: dict[tuple[int, _IndicatorQuery], list[Indicator]] = {}
        for wanted, org_ids in by_query.items():
            domain, key, source, only, with_target, with_latest, cohort = wanted
            records = await context.read(lambda session: queries.indicators_of_orgs(
                session, org_ids, domain=domain, key=key, source=source, codes=only, target=with_target, latest=with_latest, cohort=cohort,
            ))
            for org_id, found in records.items():
                results[(org_id, wanted)] = found  # records, read by Indicator as they are
        return [results[(org_id, wanted)] for org_id, wanted in keys]

    return context.loader("indicators", lambda: DataLoader(load_fn=load))


def _cohort_names_loader(context: AccordContext) -> DataLoader:
    async def load(org_ids: list[int]) -> list[dict[str, str]]:
        found = await context.read(lambda session: queries.cohort_names_of_orgs(session, org_ids))
        return [found.get(org_id, {}) for org_id in org_ids]

    return context.loader("cohort_names", lambda: DataLoader(load_fn=load))


_INDICATOR_SHAPE = {
    **{name: Column(sql) for name, sql in queries.INDICATOR_COLUMNS.items()},
    "latest": Nested(queries.LATEST_PRESENT, {name: Column(sql) for name, sql in queries.LATEST_COLUMNS.items()}),
}


def _indicator_pages_loader(context: AccordContext) -> DataLoader:
    """Pages of indicators with only the columns a selection reads (schema/prerender.py), one
    statement per distinct filter, selection and page for every organisation asking."""
    async def load(keys: list[tuple[int, _IndicatorQuery, tuple[str, ...], int, int]]) -> list[tuple[int, list[Any]]]:
        by_query: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for org_id, *rest in keys:
            by_query[tuple(rest)].append(org_id)
        results: dict[tuple[Any, ...], tuple[int, list[Any]]] = {}
        for (wanted, columns, offset, first), org_ids in by_query.items():
            domain, key, source, only, _, with_latest, cohort = wanted
            found = await context.read(lambda session: queries.indicator_page_rows(
                session, org_ids, columns, offset=offset, first=first, domain=domain, key=key, source=source, codes=only, latest=with_latest,
                cohort=cohort,
            ))
            for org_id, page in found.items():
                results[(org_id, wanted, columns, offset, first)] = page
        return [results[key] for key in keys]

    return context.loader("indicator_pages", lambda: DataLoader(load_fn=load))


def _units_loader(context: AccordContext) -> DataLoader:
    async def load(org_ids: list[int]) -> list[list[queries.UnitRecord]]:
        found = await context.read(lambda session: queries.units_of_orgs(session, org_ids))
        return [found[org_id] for org_id in org_ids]

    return context.loader("units", lambda: DataLoader(load_fn=load))


async def _unit_codes(context: AccordContext, org_id: int) -> dict[int, str]:
    return {u.id: u.code for u in await _units_loader(context).load(org_id)}


async def _unit_id(context: AccordContext, org_id: int, unit_code: str | None) -> int | None:
    if unit_code is None:
        return None
    return next((u.id for u in await _units_loader(context).load(org_id) if u.code == unit_code), None)


def _series_loader(context: AccordContext) -> DataLoader:
    async def load(keys: list[tuple[int, int | None, dt.date | None, dt.date | None]]) -> list[list[Any]]:
        by_range: dict[tuple[int | None, dt.date | None, dt.date | None], list[int]] = defaultdict(list)
        for indicator_id, unit_id, start, end in keys:
            if start and end and start > end:
                raise BadInput(f"from ({start}) is after to ({end})")
            by_range[(unit_id, start, end)].append(indicator_id)
        found: dict[tuple[int, int | None, dt.date | None, dt.date | None], list[Any]] = {}
        for (unit_id, start, end), ids in by_range.items():
            series = await context.read(lambda session: indicator_series(session, ids, unit_id=unit_id, start=start, end=end))
            for indicator_id in ids:
                found[(indicator_id, unit_id, start, end)] = series.get(indicator_id, [])
        return [found[key] for key in keys]

    return context.loader("series", lambda: DataLoader(load_fn=load))


def _outturn_loader(context: AccordContext) -> DataLoader:
    async def load(keys: list[tuple[int, int | None]]) -> list[Any]:
        by_unit: dict[int | None, list[int]] = defaultdict(list)
        for indicator_id, unit_id in keys:
            by_unit[unit_id].append(indicator_id)
        found: dict[tuple[int, int | None], Any] = {}
        for unit_id, ids in by_unit.items():
            outturns = await context.read(lambda session: indicator_outturns(session, ids, unit_id=unit_id))
            found.update({(indicator_id, unit_id): outturns.get(indicator_id) for indicator_id in ids})
        return [found[key] for key in keys]

    return context.loader("outturn", lambda: DataLoader(load_fn=load))


def _targets_loader(context: AccordContext) -> DataLoader:
    async def load(indicator_ids: list[int]) -> list[list[Any]]:
        rows = await context.read(lambda session: queries.targets_of(session, indicator_ids))
        return [rows.get(i, []) for i in indicator_ids]

    return context.loader("targets", lambda: DataLoader(load_fn=load))


def _escalations_loader(context: AccordContext) -> DataLoader:
    async def load(keys: list[tuple[int, tuple[str, ...] | None, int | None]]) -> list[list[Escalation]]:
        by_filter: dict[tuple[tuple[str, ...] | None, int | None], list[int]] = defaultdict(list)
        for org_id, statuses, min_level in keys:
            by_filter[(statuses, min_level)].append(org_id)
        found: dict[tuple[int, tuple[str, ...] | None, int | None], list[Escalation]] = {}
        for (statuses, min_level), org_ids in by_filter.items():
            rows = await context.read(lambda session: escalations_of_orgs(session, org_ids, statuses=statuses, min_level=min_level))
            for org_id in org_ids:
                found[(org_id, statuses, min_level)] = [Escalation.from_row(r) for r in rows.get(org_id, [])]
        return [found[key] for key in keys]

    return context.loader("escalations", lambda: DataLoader(load_fn=load))


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]

