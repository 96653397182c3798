"""API tokens: shown once, stored hashed, scoped to the partner, revocable, last use noted;
and no secret of any kind in the audit log."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from ppas.models import ApiToken, AuditEvent, Caisse, OutboxMessage, Partner, Role, User
from ppas.services import api_tokens, partner_admin
from ppas.services.errors import AccessDenied, ServiceError, NotFound
from ppas.services.partner_admin import InvalidInput, UserData
from ppas.services.api_tokens import user_for_token

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)


async def other_partner_admin() -> User:
    """The admin of a second, throw-away provider (make_user always uses 21231300)."""
    caisse = await Caisse.get(code="03")
    partner = await Partner.create(caisse=caisse, structure_id=f"8{secrets.randbelow(10**7):07d}",
                                   name="Autre structure d'essai")
    return await User.create(login=f"admb{secrets.token_hex(5)}", password_hash="x",
                             role=Role.PARTNER_ADMIN, caisse=caisse, partner=partner)


async def test_a_token_is_shown_once_and_only_its_hash_is_kept(make_user):
    admin = await make_user(role="partner_admin")

    created = await api_tokens.create_token(admin, "  Logiciel   Facturo ", ip="192.0.2.3")

    assert created.secret.startswith("ppas_") and len(created.secret) >= 45
    row = await ApiToken.get(id=created.token.id)
    assert row.name == "Logiciel Facturo"
    assert row.token_hash == hashlib.sha256(created.secret.encode()).hexdigest()
    assert created.secret not in json.dumps([row.name, row.token_hash])
    assert (row.partner_id, row.created_by_id) == (admin.partner_id, admin.id)
    assert row.last_used_at is None and row.revoked_at is None
    # Each token is different.
    again = await api_tokens.create_token(admin, "Second logiciel")
    assert again.secret != created.secret
    event = await AuditEvent.get(action="api_token_created", object_id=str(row.id))
    assert event.details["name"] == "Logiciel Facturo" and event.ip == "192.0.2.3"


async def test_token_names_are_required_and_unique_among_live_tokens(make_user):
    admin = await make_user(role="partner_admin")
    with pytest.raises(InvalidInput, match="Donnez un nom"):
        await api_tokens.create_token(admin, "   ")
    with pytest.raises(InvalidInput, match="trop long"):
        await api_tokens.create_token(admin, "x" * 101)
    first = await api_tokens.create_token(admin, "Doublon")
    with pytest.raises(InvalidInput, match="s'appelle déjà « Doublon »"):
        await api_tokens.create_token(admin, "Doublon")
    await api_tokens.revoke_token(admin, first.token.id, now=NOW)
    await api_tokens.create_token(admin, "Doublon")  # the name is free again


async def test_tokens_belong_to_one_partner(make_user):
    admin_a = await make_user(role="partner_admin")
    admin_b = await other_partner_admin()
    mine = await api_tokens.create_token(admin_a, "Chez A")
    theirs = await api_tokens.create_token(admin_b, "Chez B")

    assert theirs.token.id not in {t.id for t in await api_tokens.list_tokens(admin_a)}
    assert {t.id for t in await api_tokens.list_tokens(admin_b)} == {theirs.token.id}
    for attempt in (api_tokens.get_token(admin_a, theirs.token.id),
                    api_tokens.revoke_token(admin_a, theirs.token.id, now=NOW)):
        with pytest.raises(NotFound):
            await attempt
    assert (await ApiToken.get(id=theirs.token.id)).revoked_at is None
    # The token's user is the creating admin: it reaches A's partner only.
    assert (await user_for_token(mine.secret)).partner_id == admin_a.partner_id


async def test_only_a_partner_admin_manages_tokens(make_user):
    plain = await make_user(role="partner_user")
    for actor in (plain, None):
        with pytest.raises(AccessDenied):
            await api_tokens.create_token(actor, "Interdit")
        with pytest.raises(AccessDenied):
            await api_tokens.list_tokens(actor)


async def test_a_revoked_token_authenticates_nothing(make_user):
    admin = await make_user(role="partner_admin")
    created = await api_tokens.create_token(admin, "À révoquer")
    assert (await user_for_token(created.secret)).id == admin.id

    await api_tokens.revoke_token(admin, created.token.id, now=NOW, ip="192.0.2.4")

    assert await user_for_token(created.secret) is None
    assert (await ApiToken.get(id=created.token.id)).revoked_at == NOW
    with pytest.raises(ServiceError, match="déjà révoqué"):
        await api_tokens.revoke_token(admin, created.token.id, now=NOW)
    assert await AuditEvent.filter(action="api_token_revoked",
                                   object_id=str(created.token.id)).exists()


async def test_a_deactivated_creator_takes_their_tokens_down(make_user):
    admin = await make_user(role="partner_admin")
    created = await api_tokens.create_token(admin, "Du partant")
    other_admin = await make_user(role="partner_admin")
    await partner_admin.deactivate_user(other_admin, admin.id)
    assert await user_for_token(created.secret) is None


async def test_last_use_is_written_at_most_once_a_minute(make_user):
    admin = await make_user(role="partner_admin")
    created = await api_tokens.create_token(admin, "Horodaté")

    await user_for_token(created.secret, NOW)
    assert (await ApiToken.get(id=created.token.id)).last_used_at == NOW
    await user_for_token(created.secret, NOW + timedelta(seconds=50))
    assert (await ApiToken.get(id=created.token.id)).last_used_at == NOW
    await user_for_token(created.secret, NOW + timedelta(seconds=61))
    assert (await ApiToken.get(id=created.token.id)).last_used_at == NOW + timedelta(seconds=61)


async def test_the_command_line_refuses_a_login_that_is_not_a_partner_admin(make_user):
    plain = await make_user(role="partner_user")
    for login in (plain.login, "caisseagent", "personne"):
        with pytest.raises(AccessDenied, match="n'est pas un administrateur de partenaire"):
            await api_tokens.create_token_for_login(login, "CLI")
    admin = await make_user(role="partner_admin")
    created = await api_tokens.create_token_for_login(admin.login, "CLI")
    assert (await user_for_token(created.secret)).id == admin.id


async def test_no_token_or_password_ever_lands_in_the_audit_log(make_user, settings):
    admin = await make_user(role="partner_admin")
    secrets_seen = []
    for name in ("Audit 1", "Audit 2"):
        created = await api_tokens.create_token(admin, name)
        secrets_seen.append(created.secret)
        await api_tokens.revoke_token(admin, created.token.id, now=NOW)
    login = f"audit{secrets.token_hex(4)}"
    await partner_admin.create_user(
        admin, UserData(login=login, last_name="Audit", first_name="Test",
                        email=f"{login}@essai.invalid", role="partner_user"),
        settings=settings, now=NOW)
    mail = await OutboxMessage.get(recipient=f"{login}@essai.invalid")
    temporary = re.search(r"mot de passe provisoire : (\S+)", mail.body).group(1)
    secrets_seen.append(temporary)
    # The hashes would do no harm, but they are not needed either.
    hashes = [hashlib.sha256(s.encode()).hexdigest() for s in secrets_seen[:2]]

    events = await AuditEvent.all()
    dump = json.dumps([[e.action, e.actor_login, e.object_id, e.details] for e in events],
                      ensure_ascii=False)
    for secret in [*secrets_seen, *hashes]:
        assert secret not in dump
    assert "api_token_created" in dump and "partner_user_created" in dump
