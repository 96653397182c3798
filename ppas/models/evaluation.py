"""Evaluation orders that evaluators reserve, the evaluations they send, the conflicts kept
for the caisse's review, and the offline packages a browser holds."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrderStatus(StrEnum):
    """An order is open, reserved by an evaluator, evaluated, or cancelled by the caisse.

    The stored values fit the column created in 0001 (varchar(8), described with the first
    three members): « evaluated » is stored "done" as before, « cancelled » "canceled", so no
    existing row and no column changes.
    """

    OPEN = "open"
    RESERVED = "reserved"
    EVALUATED = "done"
    CANCELLED = "canceled"


# The description 0001 recorded: kept so the column is never altered (see OrderStatus).
_ORDER_STATUS_COLUMN = "OPEN: open\nRESERVED: reserved\nDONE: done"


class EvaluationOrder(Model):
    """An order to evaluate a retiree at home.

    Offered to one evaluation structure (`partner`); the table description stays 0001's.
    """

    id = fields.IntField(primary_key=True)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="evaluation_orders")
    beneficiary = fields.ForeignKeyField("ppas.Beneficiary", related_name="evaluation_orders")
    status = fields.CharEnumField(OrderStatus, default=OrderStatus.OPEN, max_length=8,
                                  description=_ORDER_STATUS_COLUMN)
    due_date = fields.DateField()
    reserved_by = fields.ForeignKeyField("ppas.User", related_name="reserved_orders", null=True)
    reserved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # 0012: the caisse's reference, a version bumped by every change of state (an offline
    # evaluation names the version it was filled against), the reservation's end.
    reference = fields.CharField(max_length=20, null=True, unique=True)
    version = fields.IntField(default=1, db_default=1)
    reserved_until = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField("ppas.User", related_name="created_orders", null=True)

    class Meta:
        table = "evaluation_order"
        indexes = (("partner_id", "status"),)


class Evaluation(Model):
    """The answers of an evaluation and the GIR they give.

    Only accepted evaluations live here (one per order); conflicts are EvaluationConflict.
    """

    id = fields.IntField(primary_key=True)
    order = fields.OneToOneField("ppas.EvaluationOrder", related_name="evaluation")
    evaluator = fields.ForeignKeyField("ppas.User", related_name="evaluations")
    answers = fields.JSONField(default=dict)
    gir = fields.IntField(null=True)
    visited_on = fields.DateField(null=True)
    synchronised_at = fields.DatetimeField(null=True)  # when it was received
    created_at = fields.DatetimeField(auto_now_add=True)
    # 0012: the UUID the client generated (a replay is recognised by it), the order's version
    # it was filled against, a digest of its content (same UUID, other content: a conflict),
    # the offline package it came from.
    client_id = fields.UUIDField(null=True, unique=True)
    order_version = fields.IntField(null=True)
    content_digest = fields.CharField(max_length=64, default="", db_default="")
    package = fields.ForeignKeyField("ppas.OfflinePackage", related_name="evaluations",
                                     null=True)

    class Meta:
        table = "evaluation"


class ConflictStatus(StrEnum):
    """A conflict waits for the caisse, which accepts it (it becomes the order's evaluation)
    or sets it aside (kept, never deleted)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    SET_ASIDE = "set_aside"


class EvaluationConflict(Model):
    """An evaluation the portal could not accept as is: kept whole for the caisse's review."""

    id = fields.IntField(primary_key=True)
    client_id = fields.UUIDField(db_index=True)  # a UUID sent again with other content too
    order = fields.ForeignKeyField("ppas.EvaluationOrder", related_name="conflicts")
    evaluator = fields.ForeignKeyField("ppas.User", related_name="evaluation_conflicts")
    package = fields.ForeignKeyField("ppas.OfflinePackage", related_name="conflicts", null=True)
    order_version = fields.IntField()
    answers = fields.JSONField(default=dict)
    content_digest = fields.CharField(max_length=64)
    gir = fields.IntField(null=True)
    visited_on = fields.DateField(null=True)
    reason = fields.CharField(max_length=500)
    received_at = fields.DatetimeField()
    status = fields.CharEnumField(ConflictStatus, default=ConflictStatus.PENDING)
    resolved_by = fields.ForeignKeyField("ppas.User", related_name="resolved_conflicts",
                                         null=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "evaluation_conflict"
        unique_together = (("client_id", "content_digest"),)
        indexes = (("status", "received_at"),)


class OfflinePackage(Model):
    """The orders a browser took offline, with their versions.

    Generating one on another browser supersedes the older ones, whose last synchronisation
    stays visible. (No semicolon in a model's first docstring line: it becomes the table's
    SQL comment, and SQLite's migration splits statements on it.)
    """

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("ppas.User", related_name="offline_packages")
    browser_id = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    # [{"orderId": int, "version": int}, ...]
    orders = fields.JSONField(default=list)
    definitions_version = fields.CharField(max_length=40, default="")
    superseded_at = fields.DatetimeField(null=True)
    last_synchronised_at = fields.DatetimeField(null=True)

    class Meta:
        table = "offline_package"
        indexes = (("user_id", "created_at"),)
