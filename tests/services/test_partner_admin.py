"""Partner administration use cases: users, partner data, convention requests."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ppas.domain.password_hashing import verify_password
from ppas.models import (
    AuditEvent,
    Caisse,
    Convention,
    ConventionStatus,
    OutboxMessage,
    Partner,
    Role,
    Session,
    User,
)
from ppas.services import partner_admin
from ppas.services.errors import AccessDenied, ServiceError, NotFound
from ppas.services.partner_admin import InvalidInput, PartnerData, UserData
from ppas.services.sessions import open_session
from ppas.services.sign_in import sign_in

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)


async def fresh_partner(caisse_code: str = "03") -> tuple[Partner, User]:
    """A throw-away provider with one admin: tests may change its data freely."""
    caisse, _ = await Caisse.get_or_create(code=caisse_code,
                                           defaults={"name": f"Caisse {caisse_code}"})
    partner = await Partner.create(caisse=caisse, structure_id=f"9{secrets.randbelow(10**7):07d}",
                                   name="Structure d'essai", address_line="1 rue de l'Essai",
                                   postal_code="13001", city="Marseille")
    admin = await User.create(login=f"adm{secrets.token_hex(5)}", password_hash="x",
                              role=Role.PARTNER_ADMIN, caisse=caisse, partner=partner,
                              first_name="Alice", last_name="ADMIN", email="alice@essai.invalid")
    return partner, admin


async def caisse_agent(caisse_code: str = "03") -> User:
    caisse, _ = await Caisse.get_or_create(code=caisse_code,
                                           defaults={"name": f"Caisse {caisse_code}"})
    return await User.create(login=f"agent{secrets.token_hex(5)}", password_hash="x",
                             role=Role.CAISSE_AGENT, caisse=caisse)


def new_user(login: str, **changes) -> UserData:
    values = dict(login=login, last_name="Durand", first_name="Léa",
                  email=f"{login or 'x'}@essai.invalid", role="partner_user",
                  phone="04 91 00 00 00")
    values.update(changes)
    return UserData(**values)


def unique_login() -> str:
    return f"util{secrets.token_hex(5)}"


async def test_creating_a_user_mails_a_temporary_password_that_must_be_changed(db, settings):
    partner, admin = await fresh_partner()
    login = unique_login()

    created = await partner_admin.create_user(admin, new_user(login), settings=settings,
                                              now=NOW, ip="192.0.2.1")

    user = await User.get(login=login)
    assert user.id == created.user.id
    assert (user.partner_id, user.caisse_id, user.role) == (partner.id, partner.caisse_id,
                                                            Role.PARTNER_USER)
    assert user.must_change_password is True
    assert user.temporary_password_expires_at == NOW + timedelta(hours=24)
    assert user.phone == "0491000000" and user.first_name == "Léa"
    mail = await OutboxMessage.filter(recipient=f"{login}@essai.invalid").get()
    assert mail.subject == "Votre compte sur le Portail Partenaires Action Sociale"
    assert f"Votre identifiant : {login}" in mail.body
    temporary = re.search(r"Votre mot de passe provisoire : (\S+)", mail.body).group(1)
    assert verify_password(user.password_hash, temporary)
    rules = settings.password_rules
    assert rules.min_length <= len(temporary) <= rules.max_length
    event = await AuditEvent.get(action="partner_user_created", object_id=str(user.id))
    assert event.actor_id == admin.id and event.ip == "192.0.2.1"
    assert event.details["target_login"] == login
    assert temporary not in str(event.details)


@pytest.mark.parametrize("login, message", [
    ("jérôme", "Le caractère « é » n'est pas autorisé"),
    ("jean dupont", "Le caractère espace n'est pas autorisé"),
    ("ab", "L'identifiant est trop court"),
    ("DEMOUSER", "L'identifiant « DEMOUSER » est déjà pris"),
])
async def test_a_refused_login_says_what_to_fix(db, settings, login, message):
    _, admin = await fresh_partner()
    with pytest.raises(InvalidInput) as refused:
        await partner_admin.create_user(admin, new_user(login, email="x@essai.invalid"),
                                        settings=settings, now=NOW)
    assert message in refused.value.problems["login"]
    assert not await User.filter(login=login).exists()


async def test_every_wrong_field_is_reported_at_once(db, settings):
    _, admin = await fresh_partner()
    with pytest.raises(InvalidInput) as refused:
        await partner_admin.create_user(
            admin, new_user(unique_login(), last_name=" ", email="pas-une-adresse",
                            role="caisse_agent", phone="12"),
            settings=settings, now=NOW)
    problems = refused.value.problems
    assert set(problems) == {"last_name", "email", "role", "phone"}
    assert "« pas-une-adresse » n'est pas valide" in problems["email"]
    assert problems["role"].startswith("Choisissez le rôle")


async def test_a_partner_user_or_a_caisse_agent_cannot_administer(db, settings, make_user):
    plain = await make_user(role="partner_user")
    agent = await caisse_agent()
    for actor in (plain, agent, None):
        with pytest.raises(AccessDenied):
            await partner_admin.list_users(actor)
        with pytest.raises(AccessDenied):
            await partner_admin.create_user(actor, new_user(unique_login()), settings=settings,
                                            now=NOW)
        with pytest.raises(AccessDenied):
            await partner_admin.update_partner(actor, PartnerData("X", "1 rue", "13001", "M",
                                                                  "", ""))
        with pytest.raises(AccessDenied):
            await partner_admin.request_convention(actor, "001", now=NOW)


async def test_an_admin_neither_sees_nor_changes_another_partners_users(db, settings, make_user):
    admin_a = await make_user(role="partner_admin")  # provider 21231300
    _, admin_b = await fresh_partner()
    theirs = await partner_admin.create_user(admin_b, new_user(unique_login()),
                                             settings=settings, now=NOW)

    listed = {u.login for u in await partner_admin.list_users(admin_a)}
    assert "demouser" in listed and theirs.user.login not in listed
    assert admin_b.login not in listed
    with pytest.raises(NotFound):
        await partner_admin.get_user(admin_a, theirs.user.id)
    with pytest.raises(NotFound):
        await partner_admin.update_user(admin_a, theirs.user.id,
                                        new_user("", role="partner_admin"))
    with pytest.raises(NotFound):
        await partner_admin.deactivate_user(admin_a, theirs.user.id)
    await theirs.user.refresh_from_db()
    assert theirs.user.active and theirs.user.role == Role.PARTNER_USER


async def test_deactivation_ends_every_session_and_blocks_sign_in(db, settings, make_user):
    admin = await make_user(role="partner_admin")
    target = await make_user(password="Secret2026")
    await open_session(target, NOW)
    await open_session(target, NOW)

    await partner_admin.deactivate_user(admin, target.id, ip="192.0.2.7")

    assert await Session.filter(user_id=target.id).count() == 0
    assert (await sign_in(target.login, "Secret2026", now=NOW)).user is None
    assert await AuditEvent.filter(action="partner_user_deactivated",
                                   object_id=str(target.id)).exists()
    with pytest.raises(ServiceError, match="déjà désactivé"):
        await partner_admin.deactivate_user(admin, target.id)

    await partner_admin.reactivate_user(admin, target.id)
    assert (await sign_in(target.login, "Secret2026", now=NOW)).user is not None


async def test_an_admin_cannot_deactivate_themself_nor_remove_the_last_admin(db, settings):
    partner, admin = await fresh_partner()
    with pytest.raises(ServiceError, match="votre propre compte"):
        await partner_admin.deactivate_user(admin, admin.id)
    with pytest.raises(InvalidInput) as refused:
        await partner_admin.update_user(admin, admin.id, new_user("", role="partner_user",
                                                                  email="a@essai.invalid"))
    assert "dernier administrateur actif" in refused.value.problems["role"]

    second = (await partner_admin.create_user(admin, new_user(unique_login(),
                                                              role="partner_admin"),
                                              settings=settings, now=NOW)).user
    # With a second admin, the first may step down…
    await partner_admin.update_user(admin, admin.id, new_user("", role="partner_user",
                                                              email="a@essai.invalid"))
    await admin.refresh_from_db()
    assert admin.role == Role.PARTNER_USER
    # …and is no longer an admin: the remaining admin (who has chosen a password since) is
    # the last one.
    second.must_change_password = False
    await second.save()
    with pytest.raises(AccessDenied):
        await partner_admin.list_users(admin)
    with pytest.raises(InvalidInput, match="dernier administrateur"):
        await partner_admin.update_user(second, second.id, new_user("", role="evaluator",
                                                                    email="b@essai.invalid"))


async def test_editing_a_user_records_what_changed(db, settings):
    _, admin = await fresh_partner()
    user = (await partner_admin.create_user(admin, new_user(unique_login()), settings=settings,
                                            now=NOW)).user
    await partner_admin.update_user(admin, user.id, new_user("", last_name="Martin",
                                                             email=user.email,
                                                             role="evaluator"))
    await user.refresh_from_db()
    assert (user.last_name, user.role) == ("Martin", Role.EVALUATOR)
    event = await AuditEvent.get(action="partner_user_updated", object_id=str(user.id))
    assert event.details["changes"] == {
        "last_name": {"before": "Durand", "after": "Martin"},
        "role": {"before": "partner_user", "after": "evaluator"},
    }


async def test_partner_data_changes_are_audited_with_before_and_after(db):
    partner, admin = await fresh_partner()
    structure_id = partner.structure_id
    await partner_admin.update_partner(admin, PartnerData(
        name="Structure renommée", address_line="1 rue de l'Essai", postal_code="13002",
        city="Marseille", phone="04 91 11 22 33", email="contact@essai.invalid"), ip="192.0.2.9")

    await partner.refresh_from_db()
    assert (partner.name, partner.postal_code, partner.phone) == ("Structure renommée", "13002",
                                                                  "0491112233")
    assert partner.structure_id == structure_id
    event = await AuditEvent.get(action="partner_updated", object_id=str(partner.id))
    assert event.actor_id == admin.id and event.ip == "192.0.2.9"
    assert event.details["changes"] == {
        "name": {"before": "Structure d'essai", "after": "Structure renommée"},
        "postal_code": {"before": "13001", "after": "13002"},
        "phone": {"before": "", "after": "0491112233"},
        "email": {"before": "", "after": "contact@essai.invalid"},
    }
    with pytest.raises(InvalidInput) as refused:
        await partner_admin.update_partner(admin, PartnerData("", "x", "1300", "M", "", "y@"))
    assert set(refused.value.problems) == {"name", "postal_code", "email"}
    assert "5 chiffres" in refused.value.problems["postal_code"]


async def test_a_convention_request_waits_for_the_caisse_then_is_validated(db, settings):
    partner, admin = await fresh_partner()
    agent = await caisse_agent()

    requested = await partner_admin.request_convention(admin, "014", "Portage de repas",
                                                       now=NOW)

    assert requested.status == ConventionStatus.REQUESTED
    assert requested.number == f"DEM-{requested.id}" and len(requested.number) <= 20
    assert requested.requested_at == NOW
    assert [c.number for c in await partner_admin.list_conventions(admin)] == [requested.number]
    with pytest.raises(InvalidInput, match="attend déjà"):
        await partner_admin.request_convention(admin, "014", now=NOW)
    pending = {r.convention.id: r for r in await partner_admin.list_convention_requests(agent)}
    assert pending[requested.id].comment == "Portage de repas"
    assert pending[requested.id].requested_by == admin.login
    assert pending[requested.id].partner.id == partner.id

    with pytest.raises(AccessDenied):
        await partner_admin.decide_convention_request(admin, requested.id, accept=True,
                                                      number="C03-9", hourly_rate="20",
                                                      settings=settings, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        await partner_admin.decide_convention_request(agent, requested.id, accept=True,
                                                      number="DEM-77", hourly_rate="vingt",
                                                      settings=settings, now=NOW)
    assert set(refused.value.problems) == {"number", "hourly_rate"}
    with pytest.raises(InvalidInput, match="C03-0001 est déjà attribué"):
        await partner_admin.decide_convention_request(agent, requested.id, accept=True,
                                                      number="C03-0001", hourly_rate="20",
                                                      settings=settings, now=NOW)

    number = f"C03-{secrets.randbelow(10**6)}"
    await partner_admin.decide_convention_request(agent, requested.id, accept=True,
                                                  number=number, hourly_rate="22,45",
                                                  settings=settings, now=NOW)

    convention = await Convention.get(id=requested.id)
    assert (convention.status, convention.number, convention.hourly_rate) == (
        ConventionStatus.ACTIVE, number, Decimal("22.45"))
    assert requested.id not in {r.convention.id
                                for r in await partner_admin.list_convention_requests(agent)}
    with pytest.raises(ServiceError, match="déjà été traitée"):
        await partner_admin.decide_convention_request(agent, requested.id, accept=False,
                                                      settings=settings, now=NOW)
    event = await AuditEvent.get(action="convention_request_validated",
                                 object_id=str(requested.id))
    assert event.actor_id == agent.id and event.details["number"] == number
    (mail,) = await OutboxMessage.filter(recipient=admin.email, subject__contains="acceptée",
                                         body__contains=number)
    assert "22,45\u00a0€" in mail.body and requested.number in mail.body
    assert "Bonjour Alice ADMIN" in mail.body and settings.sign_in_url in mail.body


async def test_a_refused_request_is_closed_and_another_caisse_cannot_touch_it(db, settings):
    _, admin = await fresh_partner()
    elsewhere = await caisse_agent("04")
    requested = await partner_admin.request_convention(admin, "002", now=NOW)

    assert requested.id not in {r.convention.id
                                for r in await partner_admin.list_convention_requests(elsewhere)}
    with pytest.raises(NotFound):
        await partner_admin.decide_convention_request(elsewhere, requested.id, accept=False,
                                                      settings=settings, now=NOW)

    agent = await caisse_agent()
    await partner_admin.decide_convention_request(agent, requested.id, accept=False,
                                                  reason="Pas de besoin sur ce secteur",
                                                  settings=settings, now=NOW)
    convention = await Convention.get(id=requested.id)
    assert convention.status == ConventionStatus.CLOSED
    event = await AuditEvent.get(action="convention_request_refused",
                                 object_id=str(requested.id))
    assert event.details["reason"] == "Pas de besoin sur ce secteur"
    (mail,) = await OutboxMessage.filter(recipient=admin.email,
                                         body__contains=requested.number)
    assert "n'est pas acceptée" in mail.subject
    assert "Motif indiqué par la caisse : Pas de besoin sur ce secteur" in mail.body


async def test_a_prestation_code_has_three_digits(db):
    _, admin = await fresh_partner()
    for code in ("1", "0011", "AMD"):
        with pytest.raises(InvalidInput, match="3 chiffres"):
            await partner_admin.request_convention(admin, code, now=NOW)


async def test_a_temporary_password_does_not_open_the_administration(db, settings):
    _, admin = await fresh_partner()
    admin.must_change_password = True
    await admin.save()
    with pytest.raises(AccessDenied, match="nouveau mot de passe"):
        await partner_admin.list_users(admin)
