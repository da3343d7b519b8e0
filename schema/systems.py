"""Systems (ICSs) for tools: members, the position matrix, spectrum and maturity.

The answer comes from the same service the system position page renders
(``server.reporting.system.system_position``: two statements whatever the number of members), shaped
into plain records so the executor completes the matrix without a resolver per cell.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import strawberry

from schema.context import AccordContext, Info
from schema.enums import Spectrum
from schema.ratings import Rating
from schema.types import Organisation
from server.organisations import queries
from server.reporting.system import SystemPosition, SystemRecord, system_by_code, system_position


@strawberry.type(description="A member's place on the performance spectrum, with the rule that placed it there.")
class SpectrumRating:
    level: Spectrum | None  # type: ignore[valid-type]
    words: str
    reason: str
    rule_source: str
    rule_detail: list[str] = strawberry.field(metadata={"max_items": 10})


@strawberry.type
class SystemMember:
    code: str
    name: str
    short_name: str | None
    is_system_organisation: bool
    spectrum: SpectrumRating
    maturity_level: int | None = strawberry.field(description="STW maturity 1-5 from the latest self-assessment.")
    maturity_assessed_on: dt.date | None


@strawberry.type(description="One member's latest (or chosen period's) organisation-level rating of one indicator.")
class PositionCell(Rating):
    organisation_code: str
    reported: bool = strawberry.field(description="False where the member does not report this indicator.")
    assessed: bool = strawberry.field(description="False where the member reports it but has no rating yet.")
    period: dt.date | None
    trajectory: float | None
    failure_forecast: bool


@strawberry.type(description="One indicator code across the members, in member order.")
class PositionRow:
    code: str
    name: str
    unit: str
    cells: list[PositionCell] = strawberry.field(metadata={"max_items": 30})


@strawberry.type
class DomainOption:
    code: str
    name: str


@strawberry.type(description="Members x key indicators, as the system position page shows them.")
class SystemPositionMatrix:
    latest_period: dt.date | None
    member_codes: list[str] = strawberry.field(metadata={"max_items": 30})
    domains: list[DomainOption] = strawberry.field(metadata={"max_items": 20})
    selected_domain: str | None
    cohorts: list[DomainOption] = strawberry.field(metadata={"max_items": 20}, description="Patient cohorts members' key indicators name")
    selected_cohort: str | None
    rows: list[PositionRow] = strawberry.field(metadata={"max_items": 300}, description="One per indicator code any member files as key.")


@strawberry.federation.type(keys=["code"], description="An Integrated Care System: its own organisation and its members.")
class System:
    record: strawberry.Private[SystemRecord]
    code: str
    name: str

    @classmethod
    def from_record(cls, record: SystemRecord) -> "System":
        return cls(record=record, code=record.code, name=record.name)

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> "System | None":
        """Federation entity: the same rights as the ``system(code)`` root field."""
        return await readable_system(info.context, code)

    @strawberry.field(description="The system's own organisation (the ICB) and every member, as organisations.", metadata={"max_items": 30})
    async def organisations(self, info: Info) -> list[Organisation]:
        rows = await info.context.read(lambda session: queries.visible_organisations(session, list(self.record.member_ids)))
        return [Organisation.from_row(row) for row in rows]

    @strawberry.field(description="Members with their spectrum rating and maturity (the system's own organisation first).", metadata={"max_items": 30})
    async def members(self, info: Info) -> list[SystemMember]:
        position = await _position(info.context, self.record, None, None)
        return [_member(m) for m in position.members]

    @strawberry.field(description="Members x key indicators; filter by the code of a domain any member files them under, or a "
                                  "patient cohort's code; period: that month's ratings (variation and assurance are given for latest points only).")
    async def position(self, info: Info, domain: str | None = None, period: dt.date | None = None,
                       cohort: str | None = None) -> SystemPositionMatrix:
        return position_matrix(await _position(info.context, self.record, domain, period, cohort))


def position_matrix(position: SystemPosition) -> SystemPositionMatrix:
    """The matrix as tools read it, one cell per column (a system's members, or a commissioner's providers)."""
    codes = [m.code for m in position.columns]
    return SystemPositionMatrix(
        latest_period=position.latest_period, member_codes=codes,
        domains=[DomainOption(code=d.code, name=d.name) for d in position.domains],
        selected_domain=position.selected_domain.code if position.selected_domain else None,
        cohorts=[DomainOption(code=c.code, name=c.name) for c in position.cohorts],
        selected_cohort=position.selected_cohort.code if position.selected_cohort else None,
        rows=[PositionRow(code=row.code, name=row.name, unit=_unit(row), cells=[_cell(code, cell) for code, cell in zip(codes, row.cells)])
              for row in position.rows],
    )


async def readable_system(context: AccordContext, code: str) -> System | None:
    """A system whose every member the caller may read in full, or None (unknown and hidden look alike)."""
    context.require_principal()
    record = await context.read(lambda session: system_by_code(session, code))
    if record is None or not record.organisation_ids <= context.access.read_org_ids:
        return None
    return System.from_record(record)


async def _position(
    context: AccordContext, record: SystemRecord, domain: str | None, period: dt.date | None, cohort: str | None = None,
) -> SystemPosition:
    """One read per system, domain, period and cohort, however many fields (resolved concurrently) ask for it."""
    key = f"position:{record.id}:{domain}:{period}:{cohort}"
    if key not in context.loaders:
        context.loaders[key] = asyncio.ensure_future(
            context.read(lambda session: system_position(session, record, domain_code=domain, period=period, cohort=cohort))
        )
    return await context.loaders[key]  # type: ignore[no-any-return]


def _member(member: Any) -> SystemMember:
    spectrum = member.spectrum
    return SystemMember(
        code=member.code, name=member.name, short_name=member.short_name, is_system_organisation=member.is_system,
        spectrum=SpectrumRating(level=spectrum.level, words=spectrum.words, reason=spectrum.reason, rule_source=spectrum.rule_source,
                                rule_detail=list(spectrum.rule_detail)),
        maturity_level=member.maturity_level, maturity_assessed_on=member.maturity_assessed_on,
    )


def _unit(row: Any) -> str:
    return next((cell.unit for cell in row.cells if cell is not None), "")


def _cell(organisation_code: str, cell: Any) -> PositionCell:
    status = cell.status if cell is not None else None
    if status is None:
        return PositionCell(organisation_code=organisation_code, reported=cell is not None, assessed=False, period=None, value=None,
                            target=None, trajectory=None, rag="none", variation="none", assurance="none", periods_under_target=0,
                            failure_forecast=False)
    return PositionCell(
        organisation_code=organisation_code, reported=True, assessed=True, period=status.period, value=status.value, target=status.target,
        trajectory=status.trajectory, rag=status.rag, variation=status.variation, assurance=status.assurance,
        periods_under_target=status.periods_under_target, failure_forecast=status.failure_forecast,
    )
