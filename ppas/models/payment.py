"""Payment runs and the payment slips (bordereaux) they publish."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RunStatus(StrEnum):
    """A payment run is planned, then paid."""

    PLANNED = "planned"
    PAID = "paid"


class PaymentRun(Model):
    """One payment run of a caisse."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="payment_runs",
                                    on_delete=fields.RESTRICT)
    status = fields.CharEnumField(RunStatus, default=RunStatus.PLANNED)
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_run"


class PaymentSlip(Model):
    """What a payment run paid a partner, published as PDF 48 h after payment."""

    id = fields.IntField(primary_key=True)
    run = fields.ForeignKeyField("ppas.PaymentRun", related_name="slips",
                                 on_delete=fields.RESTRICT)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="payment_slips",
                                     on_delete=fields.RESTRICT)
    amount = fields.DecimalField(max_digits=12, decimal_places=2)
    published_at = fields.DatetimeField(null=True)
    pdf = fields.BinaryField(null=True)

    class Meta:
        table = "payment_slip"
