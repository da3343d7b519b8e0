"""``benchmark``: one organisation's indicator among its peers, with quartiles and its position —
the benchmark page's service (server/benchmarking/service.py). Only organisations the caller may
read take part, and in a declared peer group those that agreed to share the indicator (0025)."""
from __future__ import annotations

import datetime as dt

import strawberry

from schema.context import Info
from server.benchmarking.service import Benchmark as BenchmarkResult, BenchmarkEntry as Entry, PeerGroup as Group, benchmark


@strawberry.type(description="A group of peers an organisation may be compared with.")
class PeerGroup:
    key: str = strawberry.field(description="system:<code>, peers:<code> (declared in the tenant file; a member you may not otherwise "
                                            "see takes part only when its own file agrees), providers:<commissioner> or all")
    name: str

    @classmethod
    def from_group(cls, group: Group) -> "PeerGroup":
        return cls(key=group.key, name=group.name)


@strawberry.type(description="One organisation in the benchmark.")
class BenchmarkEntry:
    organisation_code: str
    organisation_name: str
    value: float | None = strawberry.field(description="Organisation-level value at the period; null: none reported")
    target: float | None
    rag: str
    rank: int | None = strawberry.field(description="1 = best by polarity; equal values share a rank; null for neutral polarity")
    quartile: int | None = strawberry.field(description="1 = the best quarter; null for neutral polarity or no value")
    is_subject: bool = strawberry.field(description="The organisation benchmarked")

    @classmethod
    def from_entry(cls, entry: Entry) -> "BenchmarkEntry":
        return cls(organisation_code=entry.organisation_code, organisation_name=entry.organisation_name, value=entry.value,
                   target=entry.target, rag=entry.rag, rank=entry.rank, quartile=entry.quarter, is_subject=entry.is_subject)


@strawberry.type(description="An indicator of one organisation compared with a group of peers on the same code.")
class Benchmark:
    organisation_code: str
    indicator_code: str
    indicator_name: str
    unit: str
    polarity: str
    period: dt.date | None = strawberry.field(description="The period compared: the one asked for, or the organisation's latest")
    group: PeerGroup
    groups: list[PeerGroup] = strawberry.field(description="Every group this organisation may be compared with", metadata={"max_items": 20})
    organisations_compared: int = strawberry.field(description="Organisations with a value at the period (those you may read)")
    lower_quartile: float | None
    median: float | None
    upper_quartile: float | None
    rank: int | None = strawberry.field(description="The organisation's rank among those compared")
    quartile: int | None = strawberry.field(description="The organisation's quarter, 1 = best")
    method: str
    notes: list[str] = strawberry.field(metadata={"max_items": 5})
    not_agreed: list[str] = strawberry.field(
        description="In a declared peer group: the members you may not otherwise see that have not agreed to share this indicator "
                    "with this organisation (their names); they are not compared", metadata={"max_items": 50})
    agreement_note: str | None = strawberry.field(description="The same in words; null when every member named takes part")
    entries: list[BenchmarkEntry] = strawberry.field(metadata={"max_items": 250})

    @classmethod
    def from_result(cls, found: BenchmarkResult) -> "Benchmark":
        me, q = found.position, found.quartiles
        return cls(
            organisation_code=found.organisation_code, indicator_code=found.indicator_code, indicator_name=found.indicator_name,
            unit=found.unit, polarity=found.polarity, period=found.period, group=PeerGroup.from_group(found.group),
            groups=[PeerGroup.from_group(g) for g in found.groups], organisations_compared=found.compared,
            lower_quartile=q.lower if q else None, median=q.median if q else None, upper_quartile=q.upper if q else None,
            rank=me.rank if me else None, quartile=me.quarter if me else None, method=found.method, notes=list(found.notes),
            not_agreed=list(found.not_agreed), agreement_note=found.agreement_note,
            entries=[BenchmarkEntry.from_entry(entry) for entry in found.entries],
        )


@strawberry.type
class BenchmarkQuery:
    @strawberry.field(description="One organisation's indicator among a group of peers (default: the first group offered) at a period "
                                  "(default: its latest), with quartiles and its rank; null if you may not read it or it does not report the code.")
    async def benchmark(
        self, info: Info, organisation_code: str, indicator_code: str, group: str | None = None, period: dt.date | None = None,
    ) -> Benchmark | None:
        context = info.context
        context.require_principal()
        found = await context.read(lambda session: benchmark(
            session, organisation_code=organisation_code, indicator_code=indicator_code, readable_org_ids=context.readable_org_ids,
            group=group, period=period))
        return Benchmark.from_result(found) if found else None
