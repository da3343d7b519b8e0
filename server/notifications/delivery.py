"""Email for notifications, after the transaction that made them has committed.

A run reads the notifications not yet emailed (committed rows only: it opens its own transaction),
sends each person's message outside any transaction, and stamps what was sent in a short
transaction of its own. A failed send leaves the notification in the app and unsent, with the
attempt counted: the next run tries again (up to MAX_ATTEMPTS). People who chose the daily digest
get one message of all their unsent notifications when the daily tick runs; those who chose never,
none. Runs take a session-level advisory lock, so several processes never send the same message.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select, text

from server.db.models import Organisation
from server.db.session import AccessContext, Database
from server.notifications.email import Email, Mailer, mailer_for
from server.settings import Settings

log = logging.getLogger(__name__)
DELIVERY_LOCK = (0x41434C32, 1)  # 'ACL2', 1: email delivery (the daily tick is 'ACL2', 0)
MAX_ATTEMPTS = 10
LOOKBACK = dt.timedelta(days=7)  # older unsent notifications stay in the app only


@dataclass(frozen=True)
class Pending:
    id: int
    recipient_id: int
    email: str
    subject: str
    body: str
    link: str
    choice: str


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "ran" or "busy"
    sent: int = 0  # messages
    failed: int = 0
    notifications: int = 0  # notifications the sent messages carried


async def _delivery_access(database: Database) -> AccessContext:
    """The delivery run acts, with no person, for every organisation (row-level security: its notifications)."""
    async with database.session() as session:
        org_ids = (await session.exec(select(Organisation.id))).scalars().all()
    return AccessContext(write_org_ids=frozenset(org_ids))


async def _pending(database: Database, access: AccessContext, now: dt.datetime) -> list[Pending]:
    async with database.session(access) as session:
        rows = await session.exec(text(
            "select n.id, n.recipient_user_id, u.email, n.subject, n.body, n.link, coalesce(p.email, 'immediately')"
            " from notification n join app_user u on u.id = n.recipient_user_id"
            " left join notification_preference p on p.user_id = n.recipient_user_id"
            " where n.emailed_at is null and n.email_attempts < :attempts and n.created_at > :since and u.is_active"
            " order by n.id"
        ), params={"attempts": MAX_ATTEMPTS, "since": now - LOOKBACK})
        return [Pending(*row) for row in rows.all()]


def _messages(pending: list[Pending], *, digest: bool, origin: str) -> list[tuple[Email, list[int], str]]:
    """(email, notification ids it carries, channel suffix) for everything due now."""
    messages = []
    digests: dict[int, list[Pending]] = defaultdict(list)
    for item in pending:
        if item.choice == "immediately":
            messages.append((Email(item.email, f"Accord: {item.subject}", f"{item.body}\n\n{origin}{item.link}\n"), [item.id], ""))
        elif item.choice == "daily_digest" and digest:
            digests[item.recipient_id].append(item)
    for items in digests.values():
        lines = [f"- {item.subject}\n  {origin}{item.link}" for item in items]
        body = f"Your Accord notifications since the last digest ({len(items)}):\n\n" + "\n".join(lines) + "\n"
        messages.append((Email(items[0].email, f"Accord: daily digest, {len(items)} notification{'s' if len(items) != 1 else ''}", body),
                         [item.id for item in items], "digest_"))
    return messages


async def deliver(database: Database, settings: Settings, *, digest: bool = False, mailer: Mailer | None = None,
                  now: dt.datetime | None = None) -> DeliveryOutcome:
    """Send every notification email due (``digest``: the daily digests too), once across processes."""
    mailer = mailer or mailer_for(settings)
    now = now or dt.datetime.now(dt.UTC)
    async with database.app_engine.connect() as lock_connection:
        if not (await lock_connection.execute(text("select pg_try_advisory_lock(:k, :i)"),
                                              {"k": DELIVERY_LOCK[0], "i": DELIVERY_LOCK[1]})).scalar_one():
            return DeliveryOutcome("busy")
        try:
            access = await _delivery_access(database)
            sent = failed = carried = 0
            for email, ids, prefix in _messages(await _pending(database, access, now), digest=digest, origin=settings.public_origin):
                try:
                    await mailer.send(email)
                except Exception as error:  # noqa: BLE001 (any failure to send: counted, kept, retried next run)
                    failed += 1
                    log.warning("notification email to %s not sent (%s); it stays in the app and is retried", email.to, type(error).__name__)
                    await _stamp(database, access, ids, "email_attempts = email_attempts + 1, email_error = :error",
                                 {"error": f"{type(error).__name__}: {error}"[:300]})
                    continue
                sent += 1
                carried += len(ids)
                await _stamp(database, access, ids, "emailed_at = now(), email_channel = :channel, email_attempts = email_attempts + 1,"
                             " email_error = null", {"channel": prefix + mailer.channel})
            return DeliveryOutcome("ran", sent, failed, carried)
        finally:
            await lock_connection.execute(text("select pg_advisory_unlock(:k, :i)"), {"k": DELIVERY_LOCK[0], "i": DELIVERY_LOCK[1]})
            await lock_connection.commit()


async def _stamp(database: Database, access: AccessContext, ids: list[int], assignments: str, params: dict[str, object]) -> None:
    async with database.session(access) as session:
        await session.exec(text(f"update notification set {assignments} where id = any(cast(:ids as int[]))"), params={**params, "ids": ids})


async def run_delivery(database: Database, settings: Settings) -> None:
    """Send due emails every ``notification_delivery_seconds``; started with the app, cancelled at shutdown."""
    while True:
        try:
            outcome = await deliver(database, settings)
            if outcome.sent or outcome.failed:
                log.info("notification email: %d sent, %d failed", outcome.sent, outcome.failed)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 (a failed run must not stop the next; logged with its traceback)
            log.exception("notification delivery failed; the next run retries")
        await asyncio.sleep(settings.notification_delivery_seconds)
