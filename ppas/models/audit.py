"""The append-only audit log."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """Who did what, when, from where, never a password or a secret."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.ForeignKeyField("ppas.User", related_name="audit_events", null=True)
    actor_login = fields.CharField(max_length=30, default="")
    action = fields.CharField(max_length=50)
    object_type = fields.CharField(max_length=50, default="")
    object_id = fields.CharField(max_length=50, default="")
    details = fields.JSONField(default=dict)
    ip = fields.CharField(max_length=45, default="")

    class Meta:
        table = "audit_event"
