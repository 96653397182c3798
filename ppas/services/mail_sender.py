"""Deliver the outbox over SMTP; several instances may run against one database.

Runs as the periodic job `send_mail` (ppas/services/jobs/schedule.py): a round that could
not deliver everything fails the job, which is retried with backoff and shows the SMTP error
on the caisse's jobs page. Idempotent: a message is taken only while `sent_at` is empty.
"""
from __future__ import annotations

import asyncio
import smtplib
from datetime import datetime
from email.message import EmailMessage

from tortoise.transactions import in_transaction

from ppas.models import OutboxMessage
from ppas.services.jobs.registry import JobContext, job_handler
from ppas.settings import Settings

MAX_ATTEMPTS = 5
BATCH = 50
# Messages carry temporary passwords: once delivered, the copy in the database goes.
SENT_BODY = "[contenu effacé après l'envoi]"


def _send(settings: Settings, message: OutboxMessage) -> None:
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail.set_content(message.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)


class MailNotDelivered(Exception):
    """Some messages of a round stayed in the outbox (their error is kept on each)."""


async def deliver_pending(settings: Settings, now: datetime) -> int:
    """Send what is waiting; returns how many went out. Failures are kept for a retry."""
    sent, _ = await _deliver(settings, now)
    return sent


@job_handler("send_mail", label="Envoi des courriels")
async def send_mail_job(payload: dict, context: JobContext) -> None:
    """The periodic job: one delivery round; fails (and is retried later) if any message did."""
    _, errors = await _deliver(context.settings, context.now())
    if errors:
        raise MailNotDelivered(f"{len(errors)} courriel(s) non remis ; dernière erreur : "
                               f"{errors[-1]}")


async def _deliver(settings: Settings, now: datetime) -> tuple[int, list[str]]:
    if not settings.smtp_host:
        return 0, []
    sent = 0
    errors: list[str] = []
    async with in_transaction() as connection:
        query = OutboxMessage.filter(sent_at=None, attempts__lt=MAX_ATTEMPTS).order_by("id")
        if connection.capabilities.dialect == "postgres":
            # Two senders never take the same message.
            query = query.select_for_update(skip_locked=True)
        for message in await query.limit(BATCH).using_db(connection):
            message.attempts += 1
            try:
                await asyncio.to_thread(_send, settings, message)
            except (OSError, smtplib.SMTPException) as error:
                message.last_error = str(error)[:500]
                errors.append(message.last_error)
            else:
                message.sent_at = now
                message.last_error = ""
                message.body = SENT_BODY
                sent += 1
            await message.save(using_db=connection,
                               update_fields=["attempts", "sent_at", "last_error", "body"])
    return sent, errors
