"""Scopes every use case goes through: partner, caisse, and the temporary-password gate."""
from __future__ import annotations

import pytest

from types import SimpleNamespace

from ppas.models import Role
from ppas.services.access import PASSWORD_CHANGE_FIRST, caisse_id_of, partner_id_of
from ppas.services.errors import AccessDenied


def _user(role: Role) -> SimpleNamespace:
    """The fields the scopes read, without a database."""
    return SimpleNamespace(login="x", role=role, caisse_id=3, active=True,
                           partner_id=7 if role.startswith("partner") else None,
                           must_change_password=False)


def test_partner_scope_is_the_users_partner():
    assert partner_id_of(_user(Role.PARTNER_USER)) == 7
    with pytest.raises(AccessDenied, match="réservée aux partenaires"):
        partner_id_of(_user(Role.CAISSE_AGENT))


def test_caisse_scope_refuses_partners_with_the_callers_message():
    assert caisse_id_of(_user(Role.CAISSE_AGENT), "réservé") == 3
    with pytest.raises(AccessDenied, match="^réservé à la caisse$"):
        caisse_id_of(_user(Role.PARTNER_ADMIN), "réservé à la caisse")


@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.CAISSE_AGENT, Role.CAISSE_ADMIN])
def test_a_temporary_password_opens_no_scope(role):
    holder = _user(role)
    holder.must_change_password = True
    scope = partner_id_of if role == Role.PARTNER_ADMIN else (lambda u: caisse_id_of(u, "x"))
    with pytest.raises(AccessDenied) as refused:
        scope(holder)
    assert refused.value.message == PASSWORD_CHANGE_FIRST


def test_inactive_or_anonymous_users_are_refused():
    with pytest.raises(AccessDenied, match="Connectez-vous"):
        partner_id_of(None)
    inactive = _user(Role.CAISSE_AGENT)
    inactive.active = False
    with pytest.raises(AccessDenied, match="Connectez-vous"):
        caisse_id_of(inactive, "x")
