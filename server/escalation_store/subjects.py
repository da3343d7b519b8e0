"""The store's reader for each kind of subject a ladder may apply to (``applies_to`` in a tenant file).

Each reader returns the organisation's subjects of that kind with their facts; the facts each kind
may carry are declared in server/escalation/facts.py (SUBJECT_FACTS), which the loader also checks
ladders against, so a rule never waits on a fact its subject is never given.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Mapping
from types import MappingProxyType

from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation.facts import SUBJECT_FACTS
from server.escalation_store.contracts import contract_subjects
from server.escalation_store.facts import Subject, indicator_subjects, unit_subjects
from server.escalation_store.plans import plan_subjects
from server.escalation_store.programmes import programme_subjects
from server.escalation_store.scorecard import domain_subjects, organisation_subjects

Reader = Callable[..., Awaitable[list[Subject]]]

SUBJECT_READERS: Mapping[str, Reader] = MappingProxyType({
    "indicator": indicator_subjects, "unit": unit_subjects, "domain": domain_subjects, "organisation": organisation_subjects,
    "contract": contract_subjects, "programme": programme_subjects, "plan": plan_subjects,
})


# The kinds whose reader can read only the subjects whose facts read given indicators (``indicator_ids``),
# for a run after new data: an indicator reads its own series, a plan its indicator's. Every other kind
# (unit, domain, organisation, contract, programme, and any kind added later) reads indicators across
# the organisation or other records, so a narrowed run reads it whole: correctness first.
NARROWED_KINDS = frozenset({"indicator", "plan"})


class UndeclaredFact(RuntimeError):
    """A reader produced a fact its subject type does not declare: a programming error, refused loudly."""


async def read_subjects(
    session: AsyncSession, org_id: int, kind: str, *, at: dt.datetime, indicator_ids: Collection[int] | None = None,
) -> list[Subject]:
    """The organisation's subjects of one kind, each carrying only facts its kind declares.

    With ``indicator_ids``, at least the subjects whose facts read those indicators (all of them for
    a kind not in NARROWED_KINDS).
    """
    narrowed = {"indicator_ids": indicator_ids} if indicator_ids is not None and kind in NARROWED_KINDS else {}
    subjects = await SUBJECT_READERS[kind](session, org_id, at=at, **narrowed)
    declared = SUBJECT_FACTS[kind]  # type: ignore[index]
    for subject in subjects:
        extra = set(subject.facts) - declared
        if extra:
            raise UndeclaredFact(f"{subject.key}: {kind} subjects do not declare {sorted(extra)} (server/escalation/facts.py SUBJECT_FACTS)")
    return subjects
