"""A system's own figures computed from its members' (issue 15; DOMAIN 4.2 across organisations).

Where a system indicator is the same measure as some of its members' (the system's tenant file says
which, and how they combine: ``from_members``), its series is not recorded or generated: each
period's figure is computed from the members' stored measurements, set-based in one statement
(``compose_member_figures``, migration 0019), and stored as the system's measurement at its root
unit with source ``members``. From there the normal derivation gives it SPC, ratings and ladders.

A member's submission recomposes, in its own transaction, the system figures its changed indicators
feed, then derives them and runs the system's ladders (``derive_member_systems``), so no reader sees
a member's new value beside a stale system figure. The member's access context can neither read the
other members nor write the system: the composing function is SECURITY DEFINER and reveals only
which system figures changed; the system's derivation then runs with the access the engine has when
it recomputes the system on its own (``recompute.runner_access``), for that block only.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.locks import DERIVATION
from server.db.session import acting_for

# system organisation id -> indicator id -> the periods whose figure changed
ChangedBySystem = dict[int, dict[int, set[dt.date]]]

_COMPOSE = text(
    "select system_org_id, indicator_id, period from compose_member_figures("
    "cast(:for_system as int), cast(:for_member as int), cast(:member_indicators as int[]), cast(:periods as date[]), cast(:lock as int))"
)


async def compose_system_figures(
    session: AsyncSession, *, system_org_id: int | None = None, member_org_id: int | None = None,
    member_indicator_ids: Iterable[int] | None = None, periods: Iterable[dt.date] | None = None,
) -> ChangedBySystem:
    """Recompose (all of one system's, or those fed by a member's indicators) system figures; what changed."""
    result = await session.exec(_COMPOSE.bindparams(
        for_system=system_org_id, for_member=member_org_id,
        member_indicators=None if member_indicator_ids is None else sorted(set(member_indicator_ids)),
        periods=None if periods is None else sorted(set(periods)), lock=DERIVATION,
    ))
    changed: ChangedBySystem = {}
    for org_id, indicator_id, period in result.all():
        changed.setdefault(org_id, {}).setdefault(indicator_id, set()).add(period)
    return changed


async def derive_member_systems(session: AsyncSession, member_org_id: int, changed: dict[int, set[dt.date]]) -> ChangedBySystem:
    """After a member's measurements changed: recompose the system figures they feed and derive those systems."""
    from server.assessment_store.recompute import assessment_settings, engine_access, recompute_organisation

    periods = {period for changed_periods in changed.values() for period in changed_periods}
    recomposed = await compose_system_figures(session, member_org_id=member_org_id, member_indicator_ids=changed, periods=periods)
    for system_org_id, system_changed in sorted(recomposed.items()):
        async with acting_for(session, await engine_access(session, system_org_id)):
            spec = await assessment_settings(session, system_org_id)
            await recompute_organisation(session, system_org_id, spec, indicator_ids=sorted(system_changed), changed=system_changed)
    return recomposed


async def run_system_ladders(session: AsyncSession, systems: ChangedBySystem) -> None:
    """The recomposed systems' ladders (the subjects their changed indicators feed), after the member's
    own: ladder locks member first, then system."""
    from server.escalation_store.run import run_ladders_for_indicators

    for system_org_id, changed in sorted(systems.items()):  # each run reads with the system's engine access itself (run.py)
        await run_ladders_for_indicators(session, system_org_id, changed)
