"""Users, server-side sessions, registrations and API tokens."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


from ppas.domain.roles import CAISSE_ROLES, PARTNER_ROLES, Role  # noqa: F401 - re-exported


class RegistrationStatus(StrEnum):
    """A pre-registration waits for the caisse's decision."""

    PENDING = "pending"
    VALIDATED = "validated"
    REJECTED = "rejected"


class User(Model):
    """A person who signs in: partner staff, evaluator or caisse agent."""

    id = fields.IntField(primary_key=True)
    login = fields.CharField(max_length=30, unique=True)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="users")
    partner = fields.ForeignKeyField("ppas.Partner", related_name="users", null=True)
    last_name = fields.CharField(max_length=100, default="")
    first_name = fields.CharField(max_length=100, default="")
    email = fields.CharField(max_length=200, default="")
    phone = fields.CharField(max_length=20, default="")
    active = fields.BooleanField(default=True)
    failed_attempts = fields.IntField(default=0)
    locked_at = fields.DatetimeField(null=True)
    password_changed_at = fields.DatetimeField(null=True)
    must_change_password = fields.BooleanField(default=False)
    temporary_password_expires_at = fields.DatetimeField(null=True)
    grace_logins_used = fields.IntField(default=0)
    # Partner administrators get an e-mail when report anomalies appear or a slip is online,
    # unless they turn it off in their account.
    event_mail = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_user"

    @property
    def display_name(self) -> str:
        """First and last name, or the login when they are unknown."""
        return f"{self.first_name} {self.last_name}".strip() or self.login


class PasswordHistory(Model):
    """Earlier password hashes, so a new password differs from the last ones."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("ppas.User", related_name="password_history")
    password_hash = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "password_history"


class Session(Model):
    """A server-side session: the cookie carries a secret whose hash is the key."""

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("ppas.User", related_name="sessions")
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    class Meta:
        table = "user_session"


class Registration(Model):
    """A pre-registration that the caisse validates or rejects."""

    id = fields.IntField(primary_key=True)
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="registrations")
    convention_number = fields.CharField(max_length=20)
    structure_id = fields.CharField(max_length=8)
    partner_name = fields.CharField(max_length=200)
    admin_last_name = fields.CharField(max_length=100)
    admin_first_name = fields.CharField(max_length=100)
    admin_email = fields.CharField(max_length=200)
    admin_phone = fields.CharField(max_length=20)
    admin_login = fields.CharField(max_length=30)
    address_line = fields.CharField(max_length=200)
    postal_code = fields.CharField(max_length=5)
    city = fields.CharField(max_length=100)
    status = fields.CharEnumField(RegistrationStatus, default=RegistrationStatus.PENDING)
    decided_by = fields.ForeignKeyField("ppas.User", related_name="decisions", null=True)
    decided_at = fields.DatetimeField(null=True)
    rejection_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "registration"


class ApiToken(Model):
    """A named bearer token a billing-software vendor uses for one partner."""

    id = fields.IntField(primary_key=True)
    partner = fields.ForeignKeyField("ppas.Partner", related_name="api_tokens")
    created_by = fields.ForeignKeyField("ppas.User", related_name="api_tokens")
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
