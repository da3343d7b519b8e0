"""An organisation and its unit tree as the reporting pages walk it: which unit ``?unit=`` names,
its children, its ancestors for breadcrumbs, and whether a unit lies in another's subtree."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.reporting.words import tier_label


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    depth: int
    parent_id: int | None
    path: str
    tier: str
    rolls_up: bool = True  # False: its figures stay out of its parent's and the organisation's (a contract unit)

    @property
    def is_root(self) -> bool:
        return self.depth == 0


class UnknownUnit(LookupError):
    """The ``?unit=`` code is not a unit of this organisation that the request can see."""


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class OrganisationTree:
    organisation: OrganisationRef
    units: tuple[UnitRef, ...]  # as row-level security lets this request see them


async def organisation_tree(session: AsyncSession, code: str) -> OrganisationTree | None:
    """The organisation and its unit tree with tier names, in one read (None: no such code).

    The organisation is a directory row (readable by all); its units are tenant rows, so for an
    organisation the request may not read, the tree comes back empty and the caller answers 404.
    """
    rows = (await session.exec(
        text(
            """
            select o.id as org_id, o.code as org_code, o.name as org_name,
                   u.id, u.code, u.name, u.depth, u.parent_id, u.path, t.name as tier, u.rolls_up
            from organisation o
            left join org_unit u on u.org_id = o.id
            left join unit_tier t on t.org_id = u.org_id and t.depth = u.depth
            where o.code = :code
            order by u.depth, u.name
            """
        ),
        params={"code": code},
    )).all()
    if not rows:
        return None
    first = rows[0]
    units = tuple(
        UnitRef(r.id, r.code, r.name, r.depth, r.parent_id, r.path, tier_label(r.tier), r.rolls_up) for r in rows if r.id is not None
    )
    return OrganisationTree(OrganisationRef(first.org_id, first.org_code, first.org_name), units)


def select_unit(units: tuple[UnitRef, ...], unit_code: str | None) -> UnitRef | None:
    """The unit named by ``?unit=`` (or the root when none is named); raises UnknownUnit."""
    if not unit_code:
        return next((u for u in units if u.is_root), None)
    unit = next((u for u in units if u.code == unit_code), None)
    if unit is None:
        raise UnknownUnit(unit_code)
    return unit


def within(candidate: UnitRef, unit: UnitRef | None) -> bool:
    """Whether ``candidate`` is in the subtree of ``unit`` (itself included)."""
    return unit is None or candidate.path.startswith(unit.path)


def unit_ancestors(unit: UnitRef | None, by_id: dict[int, UnitRef]) -> tuple[UnitRef, ...]:
    """From the root down to the unit's parent (for breadcrumbs)."""
    chain: list[UnitRef] = []
    current = by_id.get(unit.parent_id) if unit and unit.parent_id else None
    while current is not None:
        chain.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return tuple(reversed(chain))
