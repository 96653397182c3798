"""The monthly online billing form and its lines."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class FormStatus(StrEnum):
    """A form is open until validated, then taken by a payment run."""

    OPEN = "open"
    VALIDATED = "validated"
    PAID = "paid"


class BillingForm(Model):
    """One form per convention and month (échéance)."""

    id = fields.IntField(primary_key=True)
    convention = fields.ForeignKeyField("ppas.Convention", related_name="billing_forms",
                                        on_delete=fields.RESTRICT)
    period = fields.CharField(max_length=7)
    status = fields.CharEnumField(FormStatus, default=FormStatus.OPEN)
    version = fields.IntField(default=1)
    validated_at = fields.DatetimeField(null=True)
    validated_by = fields.ForeignKeyField("ppas.User", related_name="validated_forms", null=True,
                                          on_delete=fields.RESTRICT)
    payment_run = fields.ForeignKeyField("ppas.PaymentRun", related_name="forms", null=True,
                                         on_delete=fields.RESTRICT)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_form"
        unique_together = (("convention", "period"),)


class FormLine(Model):
    """One care plan on a form: hours typed, or crossed out."""

    id = fields.IntField(primary_key=True)
    form = fields.ForeignKeyField("ppas.BillingForm", related_name="lines",
                                  on_delete=fields.RESTRICT)
    care_plan = fields.ForeignKeyField("ppas.CarePlan", related_name="form_lines",
                                       on_delete=fields.RESTRICT)
    position = fields.IntField()
    hours = fields.DecimalField(max_digits=6, decimal_places=2, null=True)
    sunday_hours = fields.DecimalField(max_digits=6, decimal_places=2, null=True)
    amount = fields.DecimalField(max_digits=10, decimal_places=2, null=True)
    crossed_out = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    saved_at = fields.DatetimeField(null=True)
    # The part of the month the line bills, frozen at validation from the plan's dates then
    # (the month cut to the plan's start and end): integration's R04 checks the plan still
    # covers it. None on a line never validated (or validated before these were kept).
    billed_start = fields.DateField(null=True)
    billed_end = fields.DateField(null=True)

    class Meta:
        table = "form_line"
        unique_together = (("form", "care_plan"),)
        # A form's lines page by page; a care plan's lines of other months (crossed out,
        # already billed).
        indexes = (("form_id", "position"), ("care_plan_id",))
