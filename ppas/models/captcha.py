"""Spent captcha challenges: a unique key makes "accepted once" hold across concurrent sends."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SpentCaptcha(Model):
    """A solved challenge already used (keyed by the first 50 characters of its signature)."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=50, unique=True)
    spent_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "spent_captcha"
