"""notifications(unreadOnly) and markNotificationsRead(ids): the Notifications page's twin, through
the same service (server/notifications/store.py). A caller reads only what is addressed to them:
row-level security answers the request's own person's notifications, whatever organisation."""
from __future__ import annotations

import datetime as dt

import strawberry

from schema.context import BadInput, Info
from server.notifications.store import Notification as NotificationRow
from server.notifications.store import inbox, mark_read

MAX_IDS = 200


@strawberry.type(description="Something Accord told you: an escalation at a forum you sit on, a sign-off waiting for you, a deadline near.")
class Notification:
    id: int
    kind: str = strawberry.field(description="escalation, sign_off, pack_deadline or report_deadline")
    subject: str
    body: str
    link: str = strawberry.field(description="The path in Accord of what it is about")
    created_at: dt.datetime
    read_at: dt.datetime | None
    emailed_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: NotificationRow) -> "Notification":
        return cls(id=row.id, kind=row.kind, subject=row.subject, body=row.body, link=row.link, created_at=row.created_at,
                   read_at=row.read_at, emailed_at=row.emailed_at)


@strawberry.type
class NotificationsMarkedRead:
    count: int = strawberry.field(description="Notifications that were unread and are now read")


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="Your notifications, newest first (the latest 200).", metadata={"max_items": 200})
    async def notifications(self, info: Info, unread_only: bool = False) -> list[Notification]:
        context = info.context
        context.require_principal()
        rows = await context.read(lambda session: inbox(session, unread_only=unread_only))
        return [Notification.from_row(row) for row in rows]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark some of your notifications read (ids), or every unread one (ids omitted).")
    async def mark_notifications_read(self, info: Info, ids: list[int] | None = None) -> NotificationsMarkedRead:
        context = info.context
        context.require_principal()
        if ids is not None and len(ids) > MAX_IDS:
            raise BadInput(f"ids: at most {MAX_IDS} at a time")
        async with context.session() as session:
            return NotificationsMarkedRead(count=await mark_read(session, ids))
