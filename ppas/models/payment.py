"""Payment runs and the payment slips (bordereaux) they publish."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RunStatus(StrEnum):
    """A payment run is planned (recorded), running (slips being written), then done."""

    PLANNED = "planned"
    RUNNING = "running"
    DONE = "done"


class PaymentRun(Model):
    """One payment run of a caisse: every payable line of the caisse, one slip per partner."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="payment_runs",
                                    on_delete=fields.RESTRICT)
    status = fields.CharEnumField(RunStatus, default=RunStatus.PLANNED)
    # When the run finished writing its slips (UTC).
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The payment date (the date the money leaves the caisse; the slips appear 48 h later).
    paid_on = fields.DateField(null=True)
    started_by = fields.ForeignKeyField("ppas.User", related_name="payment_runs", null=True,
                                        on_delete=fields.RESTRICT)
    started_at = fields.DatetimeField(null=True)
    # Totals of the run, recomputed from the attached lines when it finishes.
    slip_count = fields.IntField(default=0, db_default=0)
    line_count = fields.IntField(default=0, db_default=0)
    total_amount = fields.DecimalField(max_digits=14, decimal_places=2, default=0, db_default=0)

    class Meta:
        table = "payment_run"
        indexes = (("caisse_id", "paid_on"),)


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
    # Readable and unique: caisse code, year of payment, the slip's id ("03-2026-000123").
    number = fields.CharField(max_length=24, null=True, unique=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="payment_slips", null=True,
                                    on_delete=fields.RESTRICT)
    paid_on = fields.DateField(null=True)
    # paid_on at 00:00 Europe/Paris + PPAS_SLIP_DELAY_HOURS: from then on it is published.
    available_at = fields.DatetimeField(null=True)
    line_count = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment_slip"
        # One slip per partner and run: a run retried after a crash finds it, never doubles it.
        unique_together = (("run", "partner"),)
        # A partner's slips newest first; the publication job's due slips.
        indexes = (("partner_id", "published_at"), ("published_at", "available_at"))
