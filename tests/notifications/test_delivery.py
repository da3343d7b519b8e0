"""Email after commit: delivered to a real local SMTP server (aiosmtpd), each notification once; a
failed send keeps the notification in the app and is retried on the next run; people who chose the
daily digest get one message with everything, at the daily tick."""
from __future__ import annotations

import datetime as dt
import email
import socket
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from server.db.session import AccessContext
from server.notifications.delivery import deliver
from server.notifications.email import Email
from server.notifications.store import Notice, notify, set_email_choice
from tests.notifications.helpers import create_person, notifications_of


class Inbox:
    """aiosmtpd handler: every message the server accepted, as (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802 (aiosmtpd's hook name)
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _settings(test_settings, port: int):  # type: ignore[no-untyped-def]
    return test_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                                            "smtp_from": "Accord <accord@accord.example>", "public_origin": "https://accord.example"})


async def _notice(database, org_id: int, recipients: list[int], key: str, subject: str) -> None:  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        await notify(session, Notice(org_id=org_id, kind="escalation", subject=subject, body=f"Body of {subject}",
                                     link="/organisations/RXW/escalations", dedupe_key=key), recipients)


async def _only_mine(outcome_messages, address: str):  # type: ignore[no-untyped-def]
    return [(to, message) for to, message in outcome_messages if address in to]


async def test_email_is_delivered_to_the_smtp_server_with_the_right_recipient_and_subject(database, org_ids, test_settings, smtp_server):
    controller, inbox = smtp_server
    person, address = await create_person(database, name="Emailed person", roles=[])
    await _notice(database, org_ids["RXW"], [person], "test-delivery:1", "A&E 4 hours: escalation moved to level 2")

    outcome = await deliver(database, _settings(test_settings, controller.port))

    [(to, message)] = await _only_mine(inbox.received, address)
    assert to == [address] and message["To"] == address and message["From"] == "Accord <accord@accord.example>"
    assert message["Subject"] == "Accord: A&E 4 hours: escalation moved to level 2"
    assert "https://accord.example/organisations/RXW/escalations" in message.get_payload()
    assert outcome.sent >= 1
    [row] = await notifications_of(database, person, "test-delivery:")
    assert row.emailed_at is not None and row.email_channel == "smtp"
    again = await deliver(database, _settings(test_settings, controller.port))  # sent once, never again
    assert await _only_mine(inbox.received, address) == [(to, message)] and again.status == "ran"


class FailingMailer:
    channel = "smtp"

    async def send(self, email: Email) -> None:
        raise ConnectionRefusedError("no SMTP server answering")


async def test_a_failed_send_keeps_the_notification_and_is_retried(database, org_ids, test_settings, smtp_server):
    controller, inbox = smtp_server
    person, address = await create_person(database, name="Retried person", roles=[])
    await _notice(database, org_ids["RXW"], [person], "test-retry:1", "Data pack due in 3 days")

    failed = await deliver(database, test_settings, mailer=FailingMailer())

    assert failed.failed >= 1
    [row] = await notifications_of(database, person, "test-retry:")
    assert row.emailed_at is None and row.email_attempts == 1  # still in the app, still to send
    await deliver(database, _settings(test_settings, controller.port))
    [(to, message)] = await _only_mine(inbox.received, address)
    assert message["Subject"] == "Accord: Data pack due in 3 days"
    [row] = await notifications_of(database, person, "test-retry:")
    assert row.emailed_at is not None and row.email_attempts == 2


async def test_the_daily_digest_batches_a_persons_notifications_into_one_message(database, org_ids, test_settings, smtp_server):
    controller, inbox = smtp_server
    person, address = await create_person(database, name="Digest reader", roles=[])
    async with database.session() as session:
        assert await set_email_choice(session, person, "daily_digest") is None
    for number in range(3):
        await _notice(database, org_ids["RXW"], [person], f"test-digest:{number}", f"Digest item {number}")
    settings = _settings(test_settings, controller.port)

    await deliver(database, settings)  # an ordinary run: digests wait for the daily tick
    assert await _only_mine(inbox.received, address) == []
    await deliver(database, settings, digest=True, now=dt.datetime.now(dt.UTC))

    [(to, message)] = await _only_mine(inbox.received, address)
    assert message["Subject"] == "Accord: daily digest, 3 notifications"
    assert all(f"Digest item {number}" in message.get_payload() for number in range(3))
    assert {row.email_channel for row in await notifications_of(database, person, "test-digest:")} == {"digest_smtp"}


async def test_without_an_smtp_host_messages_go_to_the_outbox_log(database, org_ids, test_settings, caplog):
    person, address = await create_person(database, name="Outbox person", roles=[])
    await _notice(database, org_ids["RXW"], [person], "test-outbox:1", "Sign-off waiting")
    with caplog.at_level("INFO", logger="server.notifications.email"):
        await deliver(database, test_settings)
    assert f"outbox: email to {address}: Accord: Sign-off waiting" in caplog.text
    [row] = await notifications_of(database, person, "test-outbox:")
    assert row.email_channel == "outbox"
