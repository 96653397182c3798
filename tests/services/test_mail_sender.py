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


async def test_a_message_is_claimed_before_sending_and_never_sent_twice(settings, smtp_server,
                                                                        db, monkeypatch):
    """While one sender talks to SMTP (outside any transaction), its claim is committed: the
    row reads as taken, and a second sender running meanwhile leaves the message alone."""
    import asyncio

    from ppas.services import mail_sender

    box, port = smtp_server
    smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    async with in_transaction():
        message = await queue_mail("une-fois@example.org", "test_message", name="Una")
    loop = asyncio.get_running_loop()
    seen: list = []
    real_send = mail_sender._send

    async def meanwhile():
        row = await OutboxMessage.get(id=message.id)
        seen.append((row.attempts, row.claimed_at, row.sent_at))
        seen.append(await deliver_pending(smtp, NOW))

    def send(settings_, mail):
        if mail.id == message.id:
            asyncio.run_coroutine_threadsafe(meanwhile(), loop).result(timeout=20)
        real_send(settings_, mail)

    monkeypatch.setattr(mail_sender, "_send", send)
    await deliver_pending(smtp, NOW)
    assert seen[0] == (1, NOW, None)  # claimed, committed, not yet sent
    assert len(box.to("une-fois@example.org")) == 1
    await message.refresh_from_db()
    assert (message.sent_at, message.claimed_at, message.attempts) == (NOW, None, 1)


async def test_a_claim_left_by_a_dead_sender_is_taken_again_after_its_lease(settings,
                                                                           smtp_server, db):
    from ppas.services.mail_sender import CLAIM_LEASE

    box, port = smtp_server
    smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    async with in_transaction():
        message = await queue_mail("reprise@example.org", "test_message", name="Rémi")
    await OutboxMessage.filter(id=message.id).update(claimed_at=NOW, attempts=1)
    await deliver_pending(smtp, NOW + CLAIM_LEASE / 2)
    assert box.to("reprise@example.org") == []
    await deliver_pending(smtp, NOW + CLAIM_LEASE * 2)
    assert len(box.to("reprise@example.org")) == 1
    await message.refresh_from_db()
    assert message.attempts == 2 and message.claimed_at is None
