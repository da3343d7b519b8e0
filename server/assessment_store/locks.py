"""Transaction-scoped advisory locks that serialise derivation.

Deriving an indicator reads every unit's measurements and replaces the stored assessments. Two
transactions doing that at once for the same indicator would each miss the other's new values (a
stale rating) or insert the same assessment twice (a duplicate key). Each takes the indicator's lock
after writing its measurements and before reading the series: the second waits until the first
commits, and its next statement sees the first one's data (READ COMMITTED takes a snapshot per
statement). Locks are taken in sorted order, so two transactions never wait for each other in a
circle; they are released at commit or rollback.

Order across kinds: derivation locks first, then the organisation's ladder lock (submit_measurements
and recompute_all both do). A transaction that submits twice would take derivation locks after a
ladder lock; PostgreSQL would then detect any deadlock and abort one side, so submit once per
transaction (an import is one submission). A member's submission that feeds its system's figures
(members.py) takes, in this order: its own derivation locks, the system indicators' derivation locks
(compose_member_figures), its own ladder lock, the system's ladder lock; nothing takes a member's
lock while holding a system's, so these never wait in a circle either.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# The first key of pg_advisory_xact_lock(int, int) names what is locked; the second is its id.
DERIVATION = 0x41434431  # 'ACD1': deriving one indicator's assessments (indicator ids are unique across organisations)
LADDERS = 0x41434C31  # 'ACL1': running one organisation's ladders

_LOCK = text("select count(pg_advisory_xact_lock(cast(:kind as int), key)) from unnest(cast(:keys as int[])) as key")


async def lock_for_transaction(session: AsyncSession, kind: int, keys: Iterable[int]) -> None:
    """Wait for, then hold until the transaction ends, the lock on each key (in ascending order)."""
    ordered = sorted(set(keys))
    if ordered:
        # One statement; unnest yields the keys in array order, so they are locked in that order.
        await session.exec(_LOCK.bindparams(kind=kind, keys=ordered))


async def lock_derivation(session: AsyncSession, indicator_ids: Iterable[int]) -> None:
    await lock_for_transaction(session, DERIVATION, indicator_ids)
