"""Uploaded billing files, their lines and the anomalies found."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class FileStatus(StrEnum):
    """A file is accepted (possibly with line anomalies) or refused whole."""

    ACCEPTED = "accepted"
    REFUSED = "refused"


class LineStatus(StrEnum):
    """A line is accepted, or kept with its anomaly."""

    ACCEPTED = "accepted"
    ANOMALY = "anomaly"
    REBILLED = "rebilled"


class AnomalyPhase(StrEnum):
    """Found at upload (billing) or at integration (report)."""

    BILLING = "billing"
    REPORT = "report"


class BillingFile(Model):
    """One send of an XML billing file, stored with its original bytes."""

    id = fields.IntField(primary_key=True)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="billing_files",
                                     on_delete=fields.RESTRICT)
    convention = fields.ForeignKeyField("ppas.Convention", related_name="billing_files", null=True,
                                        on_delete=fields.RESTRICT)
    uploaded_by = fields.ForeignKeyField("ppas.User", related_name="billing_files", null=True,
                                         on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=64)
    sha256 = fields.CharField(max_length=64)
    content = fields.BinaryField()
    status = fields.CharEnumField(FileStatus)
    period = fields.CharField(max_length=7, null=True)
    line_count = fields.IntField(default=0)
    accepted_count = fields.IntField(default=0)
    total_amount = fields.DecimalField(max_digits=12, decimal_places=2, default=0)
    idempotency_key = fields.CharField(max_length=100, null=True)
    uploaded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_file"
        # (partner_id, uploaded_at): billingFiles(since:, after:) reads a partner's in that order.
        indexes = (("partner_id", "name"), ("partner_id", "uploaded_at"))


class BillingLine(Model):
    """One `<ligne>` of a billing file."""

    id = fields.IntField(primary_key=True)
    file = fields.ForeignKeyField("ppas.BillingFile", related_name="lines",
                                  on_delete=fields.RESTRICT)
    record_number = fields.IntField()
    care_plan = fields.ForeignKeyField("ppas.CarePlan", related_name="billing_lines", null=True,
                                       on_delete=fields.RESTRICT)
    file_number = fields.CharField(max_length=10)
    last_name = fields.CharField(max_length=100)
    first_name = fields.CharField(max_length=100)
    period_start = fields.DateField()
    period_end = fields.DateField()
    hours = fields.DecimalField(max_digits=6, decimal_places=2)
    sunday_hours = fields.DecimalField(max_digits=6, decimal_places=2, default=0)
    hourly_rate = fields.DecimalField(max_digits=8, decimal_places=2)
    participation = fields.DecimalField(max_digits=8, decimal_places=2)
    amount = fields.DecimalField(max_digits=10, decimal_places=2)
    status = fields.CharEnumField(LineStatus)
    # When a line re-billed through the portal was sent (its file's upload time otherwise):
    # integration waits its business days from there.
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "billing_line"
        # A file's lines in order (and the anomalies' link to their line at the end of an
        # ingest); a care plan's earlier billings (the "already billed" check).
        indexes = (("file_id", "record_number"), ("care_plan_id", "period_start"))


class Anomaly(Model):
    """An anomaly found on a file, a file line or a form line."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=3)
    phase = fields.CharEnumField(AnomalyPhase)
    file = fields.ForeignKeyField("ppas.BillingFile", related_name="anomalies", null=True,
                                  on_delete=fields.RESTRICT)
    line = fields.ForeignKeyField("ppas.BillingLine", related_name="anomalies", null=True,
                                  on_delete=fields.RESTRICT)
    form_line = fields.ForeignKeyField("ppas.FormLine", related_name="anomalies", null=True,
                                       on_delete=fields.RESTRICT)
    record_number = fields.IntField(null=True)
    message = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "anomaly"
        indexes = (("file_id", "record_number"), ("line_id",))
