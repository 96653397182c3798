"""Partners (conventioned structures) and their conventions."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class PartnerKind(StrEnum):
    """What a partner does for the caisse."""

    PROVIDER = "provider"
    EVALUATOR = "evaluator"


class ConventionStatus(StrEnum):
    """Life cycle of a convention."""

    REQUESTED = "requested"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Partner(Model):
    """A structure conventioned by a caisse, known by its 8-digit structure id."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="partners")
    structure_id = fields.CharField(max_length=8)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(PartnerKind, default=PartnerKind.PROVIDER)
    address_line = fields.CharField(max_length=200, default="")
    postal_code = fields.CharField(max_length=5, default="")
    city = fields.CharField(max_length=100, default="")
    phone = fields.CharField(max_length=20, default="")
    email = fields.CharField(max_length=200, default="")
    active = fields.BooleanField(default=True)

    class Meta:
        table = "partner"
        unique_together = (("caisse", "structure_id"),)


class Convention(Model):
    """The agreement between a partner and its caisse for one prestation."""

    id = fields.IntField(primary_key=True)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="conventions")
    number = fields.CharField(max_length=20, unique=True)
    prestation_code = fields.CharField(max_length=3)
    hourly_rate = fields.DecimalField(max_digits=8, decimal_places=2)
    sunday_hourly_rate = fields.DecimalField(max_digits=8, decimal_places=2, null=True)
    valid_from = fields.DateField()
    valid_to = fields.DateField(null=True)
    status = fields.CharEnumField(ConventionStatus, default=ConventionStatus.ACTIVE)
    requested_at = fields.DatetimeField(null=True)

    class Meta:
        table = "convention"
