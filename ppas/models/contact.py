"""Messages sent to a caisse's assistance desk from the « Contact » page."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ContactMessage(Model):
    """A question to the caisse, with an optional attachment (no sender account when anonymous)."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="contact_messages")
    # Accounts are deactivated, never deleted: the link stays.
    sender = fields.ForeignKeyField("ppas.User", related_name="contact_messages", null=True)
    sender_name = fields.CharField(max_length=200)
    sender_email = fields.CharField(max_length=200)
    structure_id = fields.CharField(max_length=8, default="")
    subject = fields.CharField(max_length=150)
    body = fields.TextField()
    attachment_name = fields.CharField(max_length=200, default="")
    attachment_type = fields.CharField(max_length=100, default="")
    attachment_size = fields.IntField(default=0)
    attachment = fields.BinaryField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_message"
        indexes = (("caisse_id", "created_at"),)
