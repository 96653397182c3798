"""The outbox is delivered over real SMTP; failures stay queued for a retry."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from tortoise.transactions import in_transaction

from ppas.models import OutboxMessage
from ppas.services.mail import queue_mail
from ppas.services.mail_sender import deliver_pending

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


async def test_queued_mail_reaches_the_smtp_server(settings, smtp_server, db):
    box, port = smtp_server
    async with in_transaction():
        await queue_mail("jeanne@example.org", "test_message", name="Jeanne")
    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port), NOW)
    [message] = box.to("jeanne@example.org")
    assert message["Subject"] == "Message d'essai PPAS"
    assert "Bonjour Jeanne" in message.get_content()
    stored = await OutboxMessage.filter(recipient="jeanne@example.org").first()
    assert stored.sent_at == NOW
    assert "Jeanne" not in stored.body  # no temporary password lingers after delivery


async def test_a_rolled_back_use_case_sends_nothing(settings, smtp_server, db):
    box, port = smtp_server
    try:
        async with in_transaction():
            await queue_mail("annule@example.org", "test_message", name="X")
            raise RuntimeError("the use case failed after queueing")
    except RuntimeError:
        pass
    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port), NOW)
    assert box.to("annule@example.org") == []


async def test_unreachable_server_keeps_the_message_with_its_error(settings, smtp_server, db):
    box, port = smtp_server
    async with in_transaction():
        message = await queue_mail("plus-tard@example.org", "test_message", name="Paul")
    down = replace(settings, smtp_host="127.0.0.1", smtp_port=1)  # nothing listens on port 1
    assert await deliver_pending(down, NOW) == 0
    await message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port), NOW)
    assert len(box.to("plus-tard@example.org")) == 1
