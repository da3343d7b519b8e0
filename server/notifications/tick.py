"""The notifications' part of the daily tick: deadlines near, then the daily digests."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from server.db.models import Organisation
from server.db.session import Database
from server.notifications.deadlines import notify_deadlines
from server.notifications.delivery import deliver
from server.notifications.recipients import policy_reader
from server.settings import Settings, get_settings
from server.tenants.load import framework_of

log = logging.getLogger(__name__)


async def notification_tick(database: Database, *, at: dt.datetime, settings: Settings | None = None) -> int:
    """Tell each tenant's issuers of deadlines near, then send the digests; returns notifications added.

    Never raises: the ladder tick that calls it has done its work, and a failure here is logged and
    tried again at the next tick (deadlines are told once whenever they are found; unsent emails wait)."""
    from server.assessment_store.recompute import runner_access

    settings = settings or get_settings()
    added = 0
    try:
        issuer_roles = policy_reader(settings.policies_dir).roles_granting("meeting", "manage")
        async with database.session() as session:
            org_ids = (await session.exec(select(Organisation.id).where(Organisation.is_tenant).order_by(Organisation.id))).scalars().all()
        for org_id in org_ids:
            async with database.session(await runner_access(database, org_id)) as session:
                framework = await framework_of(session, org_id)
                if framework is not None:
                    added += await notify_deadlines(session, org_id, framework, issuer_roles=issuer_roles, now=at,
                                                    within_days=settings.notification_deadline_days)
        await deliver(database, settings, digest=True)
    except Exception:  # noqa: BLE001 (see the docstring)
        log.exception("notification tick failed; the next tick retries")
    return added
