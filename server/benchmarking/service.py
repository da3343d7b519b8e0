"""The benchmark of one organisation's indicator against a group of peers: the one service behind
the benchmark page and GraphQL's ``benchmark``.

Peers are matched on the indicator's code (national codes are shared across organisations). The
groups an organisation is offered, in this order:

- ``system:<code>`` — the members of each system it belongs to (or that it is the organisation of;
  a member is not compared with the system's own figures, which are made from the members');
- ``peers:<code>`` — each peer group its own tenant file declares (``peer_groups:``);
- ``providers:<code>`` — the providers each of its commissioners contracts with;
- ``all`` — every organisation the caller may read that reports the code.

Organisations the caller may read take part: the peer query is limited to the request's readable
(and contractually readable) organisations, and row-level security on ``indicator`` and
``assessment`` enforces the same. The one exception is a mutual agreement: in a declared peer group,
a member the caller cannot read takes part when its own file declares the same group naming this
organisation and shares the code in it; the database decides that (``benchmark_peers``, migration
0025) and gives only the member's organisation-level value, target and rating. A member that has
not agreed is named as such, never counted or used in a quartile. Values are the organisation-level
stored assessments at one period: the one asked for, or the organisation's latest. Two SQL
statements, whatever the number of peers.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.benchmarking.statistics import METHOD_WORDS, Quartiles, quarter, quartiles, ranks

ALL = "all"
PEERS = "peers:"
PERIODS_OFFERED = 13  # a year and the same month of the year before


@dataclass(frozen=True)
class PeerGroup:
    key: str  # system:STW, peers:ACUTE-PEERS, providers:03N or all
    name: str
    member_codes: tuple[str, ...]  # empty for ``all``: whoever the caller reads
    # In a declared peer group, the members (code, name) the caller does not read: they take part only by agreement.
    by_agreement: tuple[tuple[str, str], ...] = ()

    @property
    def declared(self) -> bool:
        return self.key.startswith(PEERS)


@dataclass(frozen=True)
class BenchmarkEntry:
    organisation_code: str
    organisation_name: str
    value: float | None  # None: no value at the period
    target: float | None
    rag: str
    rank: int | None = None
    quarter: int | None = None
    is_subject: bool = False


@dataclass(frozen=True)
class Benchmark:
    organisation_code: str
    organisation_name: str
    indicator_code: str
    indicator_name: str
    unit: str
    polarity: str
    frequency: str
    period: dt.date | None
    group: PeerGroup
    groups: tuple[PeerGroup, ...]
    entries: tuple[BenchmarkEntry, ...]  # best first (by polarity), then those without a value
    quartiles: Quartiles | None
    method: str = METHOD_WORDS
    notes: tuple[str, ...] = field(default_factory=tuple)
    periods: tuple[dt.date, ...] = ()  # the organisation's latest periods with a value, newest first (to choose from)
    not_agreed: tuple[str, ...] = ()  # members of a declared peer group the caller sees only by agreement, and that have not agreed

    @property
    def agreement_note(self) -> str | None:
        """In words, who in the peer group has not agreed to share this indicator (None: everyone named has)."""
        if not self.not_agreed:
            return None
        names = self.not_agreed[0] if len(self.not_agreed) == 1 else f"{', '.join(self.not_agreed[:-1])} and {self.not_agreed[-1]}"
        return f"{names} {'has' if len(self.not_agreed) == 1 else 'have'} not agreed to share this indicator in {self.group.name}."

    @property
    def compared(self) -> int:
        return sum(entry.value is not None for entry in self.entries)

    @property
    def position(self) -> BenchmarkEntry | None:
        return next((entry for entry in self.entries if entry.is_subject), None)


_SUBJECT = text(
    """
    select o.id, o.code, o.name, i.code, i.name, i.unit, i.polarity, i.frequency,
           array(select a.period from assessment a where a.indicator_id = i.id and a.unit_id is null and a.value is not null
                  order by a.period desc limit :periods),
           coalesce((select jsonb_agg(jsonb_build_array(s.code, s.name, s.organisation_id, array(
                       select x.code from system_membership m join organisation x on x.id = m.organisation_id
                        where m.system_id = s.id order by x.code))
                       order by s.name)
                     from health_system s where s.organisation_id = o.id
                       or exists (select 1 from system_membership m where m.system_id = s.id and m.organisation_id = o.id)), '[]'),
           coalesce((select jsonb_agg(jsonb_build_array(d.group_code, d.name, array(
                       select jsonb_build_array(x.code, x.name, x.id = any(cast(:readable as int[])))
                         from organisation x where x.id = any(d.member_ids) order by x.code))
                       order by d.position)
                     from peer_group_declaration d where d.org_id = o.id), '[]'),
           coalesce((select jsonb_agg(jsonb_build_array(c.code, c.name, array(
                       select x.code from contract k join organisation x on x.id = k.provider_id where k.commissioner_id = c.id order by x.code))
                       order by c.name)
                     from organisation c where exists (select 1 from contract k where k.commissioner_id = c.id and k.provider_id = o.id)), '[]')
      from organisation o join indicator i on i.org_id = o.id and i.code = :indicator
     where o.code = :organisation and o.id = any(cast(:readable as int[]))
    """
)
# The peers the caller reads (row-level security decides), then, in a declared peer group, those that
# agreed to share the code with the organisation (benchmark_peers, migration 0025), which the caller
# may not read: the benchmark figures only.
_PEERS = text(
    """
    with readable as (
      select o.id, o.code, o.name, i.unit, a.value, a.target, coalesce(a.rag, 'none') as rag
        from indicator i join organisation o on o.id = i.org_id
        left join assessment a on a.indicator_id = i.id and a.unit_id is null and a.period = :period
       where i.code = :indicator and o.id = any(cast(:readable as int[]))
         and (cast(:members as text[]) is null or o.code = any(cast(:members as text[])) or o.code = :organisation)
    )
    select code, name, unit, value, target, rag from readable
    union all
    select p.organisation_code, p.organisation_name, p.unit, p.value, p.target, p.rag
      from benchmark_peers(cast(:subject as int), cast(:peer_group as text), cast(:indicator as text), cast(:period as date)) p
     where p.organisation_id not in (select id from readable)
     order by 2
    """
)


async def benchmark(
    session: AsyncSession, *, organisation_code: str, indicator_code: str, readable_org_ids: Collection[int],
    group: str | None = None, period: dt.date | None = None,
) -> Benchmark | None:
    """The organisation's indicator among ``group`` (or the first group offered) at ``period`` (or its
    latest); None when the caller may not read the organisation or it does not report the code."""
    readable = sorted(readable_org_ids)
    subject = (await session.exec(_SUBJECT, params={"organisation": organisation_code, "indicator": indicator_code, "readable": readable,
                                                     "periods": PERIODS_OFFERED})).first()
    if subject is None:
        return None
    org_id, org_code, org_name, code, name, unit, polarity, frequency, periods, systems, declared, commissioners = subject
    latest = periods[0] if periods else None
    groups = _groups(systems, declared, commissioners, frozenset(readable))
    chosen = next((g for g in groups if g.key == group), groups[0])
    at = period or latest
    rows = [] if at is None else (await session.exec(_PEERS, params={
        "indicator": code, "readable": readable, "period": at, "organisation": org_code,
        "members": list(chosen.member_codes) if chosen.key != ALL else None,
        "subject": org_id, "peer_group": chosen.key.removeprefix(PEERS) if chosen.declared else None,
    })).all()
    entries, found = _entries(rows, polarity, org_code)
    units = sorted({row[2] for row in rows})
    notes = (f"Organisations record this code in different units ({', '.join(units)}): compare with care.",) if len(units) > 1 else ()
    compared = {row[0] for row in rows}
    not_agreed = tuple(member for member_code, member in chosen.by_agreement if member_code not in compared) if at is not None else ()
    return Benchmark(org_code, org_name, code, name, unit, polarity, frequency, at, chosen, groups, entries, found, notes=notes,
                     periods=tuple(periods), not_agreed=not_agreed)


def _groups(systems: list, declared: list, commissioners: list, readable: frozenset[int]) -> tuple[PeerGroup, ...]:  # type: ignore[type-arg]
    # A system is named only to those who may read its own organisation (as the systems list does not
    # show a system to a member who cannot read the rest of it); contract counterparties are published.
    groups = [PeerGroup(f"system:{code}", f"Members of {name}" if system_org_id in readable else "Fellow members of its system", tuple(members))
              for code, name, system_org_id, members in systems]
    groups += [PeerGroup(f"{PEERS}{code}", name, tuple(member for member, _, _ in members),
                         tuple((member, member_name) for member, member_name, read in members if not read))
               for code, name, members in declared]
    groups += [PeerGroup(f"providers:{code}", f"Providers {name} contracts with", tuple(members)) for code, name, members in commissioners]
    groups.append(PeerGroup(ALL, "Every organisation you may see", ()))
    return tuple(groups)


def _entries(rows: list, polarity: str, subject_code: str) -> tuple[tuple[BenchmarkEntry, ...], Quartiles | None]:  # type: ignore[type-arg]
    valued = [row for row in rows if row[3] is not None]
    values = [float(row[3]) for row in valued]
    found = quartiles(values)
    positions = ranks(values, polarity)
    entries = [
        BenchmarkEntry(row[0], row[1], value, None if row[4] is None else float(row[4]), row[5], rank,
                       quarter(value, found, polarity) if found else None, row[0] == subject_code)
        for row, value, rank in zip(valued, values, positions)
    ]
    # Best first by rank (neutral polarity: by value, highest first); ties by name, as read.
    entries.sort(key=lambda entry: (entry.rank if entry.rank is not None else -(entry.value or 0.0)))
    missing = [BenchmarkEntry(row[0], row[1], None, None if row[4] is None else float(row[4]), row[5], is_subject=row[0] == subject_code)
               for row in rows if row[3] is None]
    return tuple(entries + missing), found
