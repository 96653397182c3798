"""Accepted lines once integrated by the caisse: payable, rejected by a report anomaly, paid.

A line accepted at upload (file) or on a validated form is integrated some business days
after it was sent. Integration copies its figures here, frozen, so that the payment run and
the slips read one table whatever the channel. `billing_line` and `form_line` are unique:
integrating twice is impossible. `slip` is one column: a line is paid once, ever.
"""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class IntegrationStatus(StrEnum):
    """Payable after integration, rejected with a report anomaly, paid by a payment run."""

    PAYABLE = "payable"
    REJECTED = "rejected"
    PAID = "paid"


class IntegratedLine(Model):
    """One accepted line (from a file or a validated form) after integration."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="integrated_lines",
                                    on_delete=fields.RESTRICT)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="integrated_lines",
                                     on_delete=fields.RESTRICT)
    convention = fields.ForeignKeyField("ppas.Convention", related_name="integrated_lines",
                                        on_delete=fields.RESTRICT)
    care_plan = fields.ForeignKeyField("ppas.CarePlan", related_name="integrated_lines",
                                       null=True, on_delete=fields.RESTRICT)
    # Exactly one of the two sources is set (a CHECK on PostgreSQL, triggers on SQLite: 0014).
    billing_line = fields.OneToOneField("ppas.BillingLine", related_name="integration",
                                        null=True, on_delete=fields.RESTRICT)
    form_line = fields.OneToOneField("ppas.FormLine", related_name="integration",
                                     null=True, on_delete=fields.RESTRICT)
    period_start = fields.DateField()
    period_end = fields.DateField()
    hours = fields.DecimalField(max_digits=6, decimal_places=2)
    sunday_hours = fields.DecimalField(max_digits=6, decimal_places=2, default=0)
    hourly_rate = fields.DecimalField(max_digits=8, decimal_places=2)
    participation = fields.DecimalField(max_digits=8, decimal_places=2)
    amount = fields.DecimalField(max_digits=10, decimal_places=2)
    status = fields.CharEnumField(IntegrationStatus)
    sent_at = fields.DatetimeField()
    integrated_at = fields.DatetimeField()
    slip = fields.ForeignKeyField("ppas.PaymentSlip", related_name="lines", null=True,
                                  on_delete=fields.RESTRICT)
    # A rejected line once its partner was told by e-mail (None: not yet; payable lines keep
    # None). Written in the transaction that queues the message, so the mail survives a run
    # that stops after its batches and is sent once.
    announced_at = fields.DatetimeField(null=True)

    class Meta:
        table = "integrated_line"
        # The payment run takes a caisse's payable lines; a slip lists its lines.
        indexes = (("caisse_id", "status"), ("slip_id",), ("status", "announced_at"))
