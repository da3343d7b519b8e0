"""What this transaction has just derived and stored, so that the ladders after it read the series from memory.

A submission derives its indicators' series, stores the rows that changed, then runs the ladders,
whose facts read the same series back from the stored assessments (escalation_store/history.py):
for a national trust, 12,000 rows the transaction has just had in its hands. After ``store_records``
the stored rows of the derived indicators equal the derivation (scope.py: rows outside a submission's
scope are those a fresh derivation gives), so the organisation-level histories can be built from it.

Kept per organisation on the session, for its current transaction only: any other store of that
organisation's assessments forgets it first, and another transaction never sees it.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment_store.rows import Derivation

_KEY = "stored_derivations"


@dataclass(frozen=True)
class StoredDerivation:
    derivation: Derivation
    indicator_ids: frozenset[int]  # the indicators derived (some may have had no data, so no series)
    every_indicator: bool  # all of the organisation's indicators were derived


def remember(session: AsyncSession, derivation: Derivation, indicator_ids: Collection[int], *, every_indicator: bool) -> None:
    """After ``derivation`` was stored: the stored assessments of ``indicator_ids`` are what it says."""
    transaction = session.sync_session.get_transaction()
    session.info.setdefault(_KEY, {})[derivation.series.org_id] = (
        transaction, StoredDerivation(derivation, frozenset(indicator_ids), every_indicator))


def forget(session: AsyncSession, org_id: int) -> None:
    """The organisation's stored assessments are about to change otherwise."""
    session.info.get(_KEY, {}).pop(org_id, None)


def stored_derivation(session: AsyncSession, org_id: int, indicator_ids: Collection[int] | None) -> StoredDerivation | None:
    """The derivation stored in this transaction that covers these indicators (None: all of the organisation's)."""
    transaction, stored = session.info.get(_KEY, {}).get(org_id, (None, None))
    if stored is None or transaction is None or transaction is not session.sync_session.get_transaction():
        return None
    covered = stored.every_indicator if indicator_ids is None else stored.indicator_ids.issuperset(indicator_ids)
    return stored if covered else None
