"""Notification rows: add (once per person and event), list, mark read, and the email preference."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.session import NO_ACCESS

log = logging.getLogger(__name__)
INBOX_LIMIT = 200
EMAIL_CHOICES = ("immediately", "daily_digest", "never")


@dataclass(frozen=True)
class Notice:
    """What to tell some people about one event; ``dedupe_key`` names the event."""

    org_id: int
    kind: str  # escalation, sign_off, pack_deadline, report_deadline
    subject: str
    body: str
    link: str  # a path in Accord
    dedupe_key: str


@dataclass(frozen=True)
class Notification:
    id: int
    org_id: int
    kind: str
    subject: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    emailed_at: dt.datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


async def notify(session: AsyncSession, notice: Notice, recipient_ids: Iterable[int]) -> int:
    """Add the notice for each recipient not already told of this event; returns how many were added.

    Under a savepoint: a notification that cannot be written (an organisation this request does not
    write for) is logged and skipped, never the end of the step that caused it."""
    recipients = sorted(set(recipient_ids))
    if not recipients:
        return 0
    if notice.org_id not in session.info.get("access", NO_ACCESS).write_org_ids:
        log.warning("notification %s not added: this transaction does not write for organisation %s", notice.dedupe_key, notice.org_id)
        return 0
    async with session.begin_nested():
        result = await session.exec(text(
            "insert into notification (recipient_user_id, org_id, kind, subject, body, link, dedupe_key)"
            " select recipient, :org, :kind, :subject, :body, :link, :key from unnest(cast(:recipients as int[])) recipient"
            " on conflict do nothing"  # no conflict target: one would need SELECT on the row, which is the recipient's
        ), params={"org": notice.org_id, "kind": notice.kind, "subject": notice.subject[:300], "body": notice.body,
                   "link": notice.link, "key": notice.dedupe_key, "recipients": recipients})
    return result.rowcount or 0


_COLUMNS = "id, org_id, kind, subject, body, link, created_at, read_at, emailed_at"


async def inbox(session: AsyncSession, *, unread_only: bool = False, limit: int = INBOX_LIMIT) -> list[Notification]:
    """The signed-in person's notifications, newest first (row-level security: only their own)."""
    where = "where read_at is null" if unread_only else ""
    rows = await session.exec(text(f"select {_COLUMNS} from notification {where} order by created_at desc, id desc limit :limit"),
                              params={"limit": limit})
    return [Notification(*row) for row in rows.all()]


async def unread_count(session: AsyncSession) -> int:
    return int((await session.exec(text("select count(*) from notification where read_at is null"))).scalar_one())


async def mark_read(session: AsyncSession, ids: Sequence[int] | None) -> int:
    """Mark some (``ids``) or all of the person's unread notifications read; returns how many changed.

    Ids of other people's notifications reach nothing: row-level security hides them."""
    if ids is not None and not ids:
        return 0
    condition = "read_at is null" + ("" if ids is None else " and id = any(cast(:ids as int[]))")
    result = await session.exec(text(f"update notification set read_at = now() where {condition}"),
                                params={} if ids is None else {"ids": list(ids)})
    return result.rowcount or 0


async def email_choice(session: AsyncSession, user_id: int) -> str:
    found = (await session.exec(text("select email from notification_preference where user_id = :user"),
                                params={"user": user_id})).scalar_one_or_none()
    return found or "immediately"


async def set_email_choice(session: AsyncSession, user_id: int, choice: str) -> str | None:
    """Store the person's choice; a problem sentence when the choice is not one of EMAIL_CHOICES."""
    if choice not in EMAIL_CHOICES:
        return "Choose how you want to be emailed"
    await session.exec(text(
        "insert into notification_preference (user_id, email) values (:user, :choice)"
        " on conflict (user_id) do update set email = excluded.email, updated_at = now()"
    ), params={"user": user_id, "choice": choice})
    return None


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    organisation_code: str
    recipient_email: str
    subject: str
    link: str
    emailed_at: dt.datetime
    channel: str


async def outbox(session: AsyncSession, *, limit: int = INBOX_LIMIT) -> list[OutboxMessage]:
    """Messages the outbox took instead of an SMTP server, newest first, for the organisations the
    session acts for (the delivery's access, opened for an operator by the outbox page)."""
    rows = await session.exec(text(
        "select n.id, o.code, u.email, n.subject, n.link, n.emailed_at, n.email_channel from notification n"
        " join app_user u on u.id = n.recipient_user_id join organisation o on o.id = n.org_id"
        " where n.email_channel in ('outbox', 'digest_outbox') order by n.emailed_at desc, n.id desc limit :limit"
    ), params={"limit": limit})
    return [OutboxMessage(*row) for row in rows.all()]
