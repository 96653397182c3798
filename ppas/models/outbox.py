"""Outgoing mail, written in the same transaction as the change it reports."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxMessage(Model):
    """An e-mail waiting for (or done with) delivery."""

    id = fields.IntField(primary_key=True)
    recipient = fields.CharField(max_length=200)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    # Taken by a sender (set in a short transaction before sending, cleared with the result):
    # another sender leaves it alone until this lease runs out (a sender that died).
    claimed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
