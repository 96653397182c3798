"""Evaluation orders that evaluators reserve, and the evaluations they fill."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrderStatus(StrEnum):
    """An order is open, reserved by an evaluator, then done."""

    OPEN = "open"
    RESERVED = "reserved"
    DONE = "done"


class EvaluationOrder(Model):
    """An order to evaluate a retiree at home."""

    id = fields.IntField(primary_key=True)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="evaluation_orders")
    beneficiary = fields.ForeignKeyField("ppas.Beneficiary", related_name="evaluation_orders")
    status = fields.CharEnumField(OrderStatus, default=OrderStatus.OPEN)
    due_date = fields.DateField()
    reserved_by = fields.ForeignKeyField("ppas.User", related_name="reserved_orders", null=True)
    reserved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "evaluation_order"


class Evaluation(Model):
    """The answers of an evaluation and the GIR they give."""

    id = fields.IntField(primary_key=True)
    order = fields.OneToOneField("ppas.EvaluationOrder", related_name="evaluation")
    evaluator = fields.ForeignKeyField("ppas.User", related_name="evaluations")
    answers = fields.JSONField(default=dict)
    gir = fields.IntField(null=True)
    visited_on = fields.DateField(null=True)
    synchronised_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "evaluation"
