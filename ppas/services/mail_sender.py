"""Deliver the outbox over SMTP; several instances may run against one database.

Runs as the periodic job `send_mail` (ppas/services/jobs/schedule.py): a round that could
not deliver everything fails the job, which is retried with backoff and shows the SMTP error
on the caisse's jobs page. Idempotent: a message is taken only while `sent_at` is empty and
no other sender holds its claim (`claimed_at`, taken by a conditional UPDATE in a short
transaction); SMTP runs outside any transaction, each result is written in its own.
"""
from __future__ import annotations

import asyncio
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from ppas.models import OutboxMessage
from ppas.services.jobs.registry import JobContext, job_handler
from ppas.settings import Settings

MAX_ATTEMPTS = 5
BATCH = 50
# A claimed message is left alone this long: longer than a batch of SMTP sends (10 s timeout
# each), so only a sender that died loses its claim.
CLAIM_LEASE = timedelta(minutes=15)
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
    """Claim a batch in one short transaction, send each message outside any transaction
    (an SMTP exchange may take seconds), record each result in its own short transaction."""
    if not settings.smtp_host:
        return 0, []
    sent = 0
    errors: list[str] = []
    for message in await _claim(now):
        try:
            await asyncio.to_thread(_send, settings, message)
        except (OSError, smtplib.SMTPException) as error:
            errors.append(str(error)[:500])
            await _record(message, now, error=errors[-1])
        else:
            await _record(message, now, error=None)
            sent += 1
    return sent, errors


def _claimable(now: datetime) -> Q:
    return (Q(sent_at=None) & Q(attempts__lt=MAX_ATTEMPTS)
            & (Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_LEASE)))


async def _claim(now: datetime) -> list[OutboxMessage]:
    """Take up to BATCH messages: each by a conditional UPDATE (still unsent and unclaimed,
    or claimed by a sender that died), so two senders never take the same one. The attempt
    is counted here: a sender that dies while sending has used one."""
    taken: list[OutboxMessage] = []
    async with in_transaction() as connection:
        query = OutboxMessage.filter(_claimable(now)).order_by("id").limit(BATCH)
        if connection.capabilities.dialect == "postgres":
            query = query.select_for_update(skip_locked=True)
        for message in await query.using_db(connection):
            changed = await OutboxMessage.filter(_claimable(now), id=message.id) \
                .using_db(connection).update(claimed_at=now, attempts=F("attempts") + 1)
            if changed == 1:
                message.claimed_at, message.attempts = now, message.attempts + 1
                taken.append(message)
    return taken


async def _record(message: OutboxMessage, now: datetime, *, error: str | None) -> None:
    """One message's result, in its own short transaction; the claim is released."""
    if error is None:
        values = {"sent_at": now, "last_error": "", "body": SENT_BODY, "claimed_at": None}
    else:
        values = {"last_error": error, "claimed_at": None}
    async with in_transaction() as connection:
        await OutboxMessage.filter(id=message.id, claimed_at=message.claimed_at) \
            .using_db(connection).update(**values)
