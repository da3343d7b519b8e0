"""Sending an email: to an SMTP server, or — with no ``ACCORD_SMTP_HOST`` — to the outbox.

Standard library ``smtplib`` in a worker thread (``asyncio.to_thread``), not ``aiosmtplib``: one
message at a time from a background run needs no asyncio client, and the standard library adds no
dependency to the running service. The outbox (development and tests) logs each message — who, the
subject, the link; never a password — and the message stays listed on the operators' outbox page.
"""
from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    channel: str  # "smtp" or "outbox", as stored with each notification

    async def send(self, email: Email) -> None: ...


class SmtpMailer:
    channel = "smtp"

    def __init__(self, settings: Settings):
        self.settings = settings

    async def send(self, email: Email) -> None:
        await asyncio.to_thread(self._send, email)

    def _send(self, email: Email) -> None:
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)


class OutboxMailer:
    channel = "outbox"

    async def send(self, email: Email) -> None:
        log.info("outbox: email to %s: %s", email.to, email.subject)


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else OutboxMailer()
