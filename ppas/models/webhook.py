"""Webhooks: a partner's subscriptions to portal events, and each delivery of an event.

The signing secret is stored as is: every delivery is signed with HMAC-SHA256, which needs
the secret itself (a hash would not do). It is shown once at creation and never readable
again through the schema; whoever reads the database reads the billing data it protects
anyway. To change it, delete the subscription and create another.
"""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed; « Renvoyer » starts again


class WebhookSubscription(Model):
    """An HTTPS address of a partner that receives the events it chose."""

    id = fields.IntField(primary_key=True)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="webhook_subscriptions")
    created_by = fields.ForeignKeyField("ppas.User", related_name="webhook_subscriptions")
    url = fields.CharField(max_length=500)
    events = fields.CharField(max_length=500)  # event names, comma-separated
    secret = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_subscription"
        indexes = (("partner_id", "deleted_at"),)


class WebhookDelivery(Model):
    """One event for one subscription, until delivered or given up.

    Its event_id is what the receiver uses to ignore a repeat: the same for every attempt
    and every redelivery (no quotes or backticks here: Tortoise copies the first line into
    the table's SQL comment)."""

    id = fields.IntField(primary_key=True)
    subscription = fields.ForeignKeyField("ppas.WebhookSubscription", related_name="deliveries")
    partner = fields.ForeignKeyField("ppas.Partner", related_name="webhook_deliveries")
    event_id = fields.CharField(max_length=40)
    event = fields.CharField(max_length=60)
    payload = fields.TextField()  # the exact JSON body sent, signed as is
    status = fields.CharEnumField(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    response_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("partner_id", "created_at"))
