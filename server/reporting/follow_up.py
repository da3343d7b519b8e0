"""What the IPR lists after the scorecard: open escalations and open actions.

Placeholders for now: the escalation and action services will feed these. The page renders the
sections from whatever these return, saying "None open" for an empty list, so wiring them later
changes no template.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class FollowUpItem:
    title: str
    detail: str
    href: str | None = None


async def open_escalations(session: AsyncSession, *, org_id: int, unit_id: int | None = None) -> list[FollowUpItem]:
    """Escalations still open for the organisation (or unit). Not wired yet: always empty."""
    return []


async def open_actions(session: AsyncSession, *, org_id: int, unit_id: int | None = None) -> list[FollowUpItem]:
    """Actions still open from reviews and plans for the organisation (or unit). Not wired yet: always empty."""
    return []
