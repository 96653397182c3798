"""Beneficiaries (retirees) and their notified care plans."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Beneficiary(Model):
    """A retiree, known to the caisse by a 10-digit file number."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="beneficiaries")
    file_number = fields.CharField(max_length=10)
    last_name = fields.CharField(max_length=100)
    first_name = fields.CharField(max_length=100)
    birth_date = fields.DateField(null=True)
    city = fields.CharField(max_length=100, default="")
    deceased_on = fields.DateField(null=True)

    class Meta:
        table = "beneficiary"
        unique_together = (("caisse", "file_number"),)


class CarePlan(Model):
    """A care plan (prise en charge): hours a month a partner may bill for a retiree."""

    id = fields.IntField(primary_key=True)
    beneficiary = fields.ForeignKeyField("ppas.Beneficiary", related_name="care_plans")
    partner = fields.ForeignKeyField("ppas.Partner", related_name="care_plans")
    convention = fields.ForeignKeyField("ppas.Convention", related_name="care_plans")
    hours_per_month = fields.DecimalField(max_digits=6, decimal_places=2)
    hourly_rate = fields.DecimalField(max_digits=8, decimal_places=2)
    participation = fields.DecimalField(max_digits=8, decimal_places=2)
    start_date = fields.DateField()
    end_date = fields.DateField(null=True)
    notified_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "care_plan"
        indexes = (("partner_id", "start_date"),)
        # The natural key of a plan (the CSV import updates instead of duplicating).
        unique_together = (("beneficiary", "convention", "start_date"),)
