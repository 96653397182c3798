"""The caisse: the retirement fund that runs the portal."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Caisse(Model):
    """A retirement fund, identified by its two-digit code (e.g. "03")."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=2, unique=True)
    name = fields.CharField(max_length=200)
    # The assistance desk shown on « Contact »; messages sent there are mailed to its address.
    assistance_email = fields.CharField(max_length=200, default="", db_default="")
    assistance_phone = fields.CharField(max_length=30, default="", db_default="")
    assistance_hours = fields.CharField(max_length=200, default="", db_default="")
    assistance_address = fields.CharField(max_length=300, default="", db_default="")

    class Meta:
        table = "caisse"
