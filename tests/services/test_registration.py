"""Pre-registration and the caisse's decision, through the service (real database)."""
from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import altcha
import pytest
from tortoise.transactions import in_transaction

from ppas.domain.password_hashing import verify_password
from ppas.models import (
    AuditEvent,
    Caisse,
    Convention,
    ConventionStatus,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    User,
)
from ppas.services import captcha
from ppas.services.errors import AccessDenied, ServiceError
from ppas.services.registration import (
    RegistrationForm,
    RegistrationRefused,
    list_pending,
    reject_registration,
    submit_registration,
    validate_registration,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)


def solved(settings) -> str:
    """A genuine ALTCHA payload: a fresh challenge solved by the library, like the widget."""
    challenge = altcha.Challenge.from_dict(captcha.new_challenge(settings))
    solution = altcha.solve_challenge(challenge)
    return altcha.Payload(challenge, solution).to_base64()


@pytest.fixture
def convention(fresh_convention) -> Convention:
    return fresh_convention


def form_for(convention: Convention, **changes) -> RegistrationForm:
    base = RegistrationForm(
        caisse_code="03", convention_number=convention.number,
        structure_id=convention.partner.structure_id, structure_name=convention.partner.name,
        last_name="LEMAIRE", first_name="Hélène", email="helene.lemaire@example.org",
        phone="04 91 00 00 00", login=f"hlemaire{next(_numbers)}{uuid.uuid4().hex[:4]}",
        address_line="4 rue des Lilas", postal_code="13005", city="Marseille",
        accept_conditions=True,
    )
    return replace(base, **changes)


async def refusal(settings, form: RegistrationForm) -> dict[str, str]:
    with pytest.raises(RegistrationRefused) as caught:
        await submit_registration(form, solved(settings), settings=settings, now=NOW)
    return caught.value.problems


async def submitted(settings, convention, **changes) -> Registration:
    return await submit_registration(form_for(convention, **changes), solved(settings),
                                     settings=settings, now=NOW)


async def caisse_user(role: Role, code: str = "03") -> User:
    caisse, _ = await Caisse.get_or_create(code=code, defaults={"name": f"Caisse {code}"})
    return await User.create(login=f"agent{uuid.uuid4().hex[:10]}", password_hash="x",
                             role=role, caisse=caisse)


# --- submission -------------------------------------------------------------------------


async def test_a_matching_registration_waits_for_the_caisse(settings, convention):
    registration = await submitted(settings, convention)
    row = await Registration.get(id=registration.id)
    assert row.status == RegistrationStatus.PENDING
    assert row.convention_number == convention.number
    assert row.admin_phone == "0491000000"
    assert not await User.filter(login=row.admin_login).exists()
    assert await AuditEvent.filter(action="registration_submitted",
                                   object_id=str(row.id)).exists()


@pytest.mark.parametrize("field_name, value, field, expected", [
    ("caisse_code", "", "caisseCode", "Saisissez le code caisse"),
    ("caisse_code", "3", "caisseCode", "Le code caisse comporte exactement 2 chiffres"),
    ("convention_number", "", "conventionNumber", "Saisissez le numéro de convention"),
    ("convention_number", "C" * 21, "conventionNumber", "Le numéro de convention est trop long"),
    ("structure_id", "", "structureId", "Saisissez l'identifiant structure"),
    ("structure_id", "2123130", "structureId",
     "L'identifiant structure comporte exactement 8 chiffres"),
    ("structure_id", "2123130A", "structureId",
     "L'identifiant structure comporte exactement 8 chiffres"),
    ("structure_name", "", "structureName", "Saisissez le nom de la structure"),
    ("last_name", "", "lastName", "Saisissez le nom de l'administrateur"),
    ("first_name", "  ", "firstName", "Saisissez le prénom de l'administrateur"),
    ("email", "", "email", "Saisissez l'adresse électronique"),
    ("email", "helene.example.org", "email", "L'adresse électronique « helene.example.org » n'est pas valide"),
    ("phone", "", "phone", "Saisissez le téléphone"),
    ("phone", "04 91", "phone", "Le téléphone doit comporter 10 chiffres"),
    ("login", "", "login", "Saisissez un identifiant."),
    ("login", "hélène", "login", "Le caractère « é » n'est pas autorisé dans l'identifiant"),
    ("login", "h lemaire", "login", "Le caractère espace n'est pas autorisé dans l'identifiant"),
    ("login", "d'arc", "login", "Le caractère « ' » n'est pas autorisé dans l'identifiant"),
    ("login", "ab", "login", "L'identifiant est trop court"),
    ("address_line", "", "addressLine", "Saisissez l'adresse"),
    ("postal_code", "", "postalCode", "Saisissez le code postal"),
    ("postal_code", "1300", "postalCode", "Le code postal comporte exactement 5 chiffres"),
    ("postal_code", "13 00A", "postalCode", "Le code postal comporte exactement 5 chiffres"),
    ("city", "", "city", "Saisissez la commune"),
    ("accept_conditions", False, "acceptConditions", "Acceptez les conditions générales"),
])
async def test_each_field_is_checked_with_a_message_naming_it(settings, convention, field_name,
                                                             value, field, expected):
    problems = await refusal(settings, form_for(convention, **{field_name: value}))
    assert field in problems, problems
    assert problems[field].startswith(expected), problems[field]
    assert await Registration.filter(structure_id=convention.partner.structure_id).count() == 0


async def test_every_wrong_field_is_reported_at_once(settings, convention):
    problems = await refusal(settings, form_for(convention, email="x", postal_code="1",
                                                login="é t"))
    assert set(problems) == {"email", "postalCode", "login"}
    assert "« é »" in problems["login"] and "espace" in problems["login"]


async def test_an_unknown_convention_number_says_to_check_it_and_contact_the_caisse(
        settings, convention):
    problems = await refusal(settings, form_for(convention, convention_number="T03-INCONNUE"))
    assert set(problems) == {"conventionNumber"}
    message = problems["conventionNumber"]
    assert "« T03-INCONNUE »" in message
    assert "Vérifiez le numéro de convention" in message and "contactez votre caisse" in message


async def test_a_convention_of_another_structure_is_refused(settings, convention):
    problems = await refusal(settings, form_for(convention, structure_id="21231300"))
    assert "contactez votre caisse" in problems["conventionNumber"]


async def test_the_convention_must_belong_to_the_caisse_typed(settings, convention):
    await Caisse.get_or_create(code="84", defaults={"name": "Caisse d'essai 84"})
    problems = await refusal(settings, form_for(convention, caisse_code="84"))
    assert "Aucune convention de la caisse 84" in problems["conventionNumber"]
    assert "contactez votre caisse" in problems["conventionNumber"]


async def test_a_closed_convention_cannot_be_used(settings, convention):
    convention.status = ConventionStatus.CLOSED
    await convention.save()
    problems = await refusal(settings, form_for(convention))
    assert "n'est pas active" in problems["conventionNumber"]


async def test_a_login_already_used_by_a_user_or_a_pending_registration_is_refused(
        settings, convention):
    problems = await refusal(settings, form_for(convention, login="DemoAdmin"))
    assert problems["login"] == ("L'identifiant « DemoAdmin » est déjà pris : "
                                 "choisissez-en un autre.")
    first = await submitted(settings, convention)
    problems = await refusal(settings, form_for(convention, login=first.admin_login))
    assert "est déjà pris" in problems["login"]


async def test_the_captcha_is_required_valid_and_single_use(settings, convention):
    form = form_for(convention)
    with pytest.raises(ServiceError) as missing:
        await submit_registration(form, "", settings=settings, now=NOW)
    assert missing.value.field == "captcha" and "anti-robot" in missing.value.message

    challenge = altcha.Challenge.from_dict(captcha.new_challenge(settings))
    wrong = altcha.Payload(challenge, altcha.Solution(counter=0, derived_key="00" * 32))
    with pytest.raises(ServiceError) as refused:
        await submit_registration(form, wrong.to_base64(), settings=settings, now=NOW)
    assert refused.value.message == captcha.REFUSED

    foreign = replace(settings, secret_key="another-secret")
    with pytest.raises(ServiceError) as forged:
        await submit_registration(form, solved(foreign), settings=settings, now=NOW)
    assert forged.value.message == captcha.REFUSED

    payload = solved(settings)
    await submit_registration(form, payload, settings=settings, now=NOW)
    with pytest.raises(ServiceError) as replayed:
        await submit_registration(form_for(convention), payload, settings=settings, now=NOW)
    assert replayed.value.message == captcha.REPLAYED


async def test_a_refused_attempt_still_spends_its_captcha(settings, convention):
    payload = solved(settings)
    with pytest.raises(RegistrationRefused):
        await submit_registration(form_for(convention, postal_code="1"), payload,
                                  settings=settings, now=NOW)
    with pytest.raises(ServiceError) as replayed:
        await submit_registration(form_for(convention), payload, settings=settings, now=NOW)
    assert replayed.value.message == captcha.REPLAYED


# --- the caisse's decision --------------------------------------------------------------


async def test_the_agent_sees_pending_registrations_with_their_differences(settings, convention):
    exact = await submitted(settings, convention)
    different = await submitted(settings, convention, structure_name="Autre nom SARL")
    agent = await caisse_user(Role.CAISSE_AGENT)
    rows = {row.registration.id: row for row in await list_pending(agent)}
    assert rows[exact.id].convention.id == convention.id
    assert not any("Nom de structure" in m for m in rows[exact.id].mismatches)
    assert any("Nom de structure différent" in m and "Autre nom SARL" in m
               for m in rows[different.id].mismatches)
    assert any("autre préinscription" in m for m in rows[exact.id].mismatches)


async def test_validation_creates_the_admin_and_mails_a_working_temporary_password(
        settings, convention):
    registration = await submitted(settings, convention)
    agent = await caisse_user(Role.CAISSE_AGENT)

    done = await validate_registration(agent, registration.id, settings=settings, now=NOW)

    admin = await User.get(login=registration.admin_login)
    assert done.user.id == admin.id
    assert admin.role == Role.PARTNER_ADMIN and admin.partner_id == convention.partner_id
    assert admin.caisse_id == convention.partner.caisse_id
    assert (admin.last_name, admin.first_name, admin.email) == (
        "LEMAIRE", "Hélène", "helene.lemaire@example.org")
    assert admin.must_change_password
    assert admin.temporary_password_expires_at == NOW + timedelta(hours=settings.temporary_password_hours)
    mail = await OutboxMessage.filter(recipient="helene.lemaire@example.org").order_by("-id").first()
    assert "validée" in mail.subject
    assert f"Identifiant : {admin.login}" in mail.body
    temporary = mail.body.split("Mot de passe provisoire : ")[1].split()[0]
    assert verify_password(admin.password_hash, temporary)
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.VALIDATED
    assert registration.decided_by_id == agent.id and registration.decided_at == NOW
    event = await AuditEvent.get(action="registration_validated", object_id=str(registration.id))
    assert event.actor_id == agent.id
    assert temporary not in str(event.details)
    assert registration.id not in [r.registration.id for r in await list_pending(agent)]

    with pytest.raises(ServiceError, match="déjà été validée"):
        await validate_registration(agent, registration.id, settings=settings, now=NOW)


async def test_rejection_needs_a_reason_and_mails_it(settings, convention):
    registration = await submitted(settings, convention, email="refus@example.org")
    admin = await caisse_user(Role.CAISSE_ADMIN)
    with pytest.raises(ServiceError) as no_reason:
        await reject_registration(admin, registration.id, "   ", now=NOW)
    assert no_reason.value.field == "reason" and "Indiquez la raison" in no_reason.value.message

    reason = "Le nom de la structure ne correspond pas à la convention."
    await reject_registration(admin, registration.id, reason, now=NOW)

    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    assert registration.rejection_reason == reason
    mail = await OutboxMessage.filter(recipient="refus@example.org").order_by("-id").first()
    assert "n'a pas été validée" in mail.subject and reason in mail.body
    assert not await User.filter(login=registration.admin_login).exists()
    assert await AuditEvent.filter(action="registration_rejected",
                                   object_id=str(registration.id), actor_id=admin.id).exists()


@pytest.mark.parametrize("login", ["demoadmin", "demouser", "demoeval"])
async def test_partner_users_can_neither_list_nor_decide(settings, convention, login):
    registration = await submitted(settings, convention)
    partner_user = await User.get(login=login)
    with pytest.raises(AccessDenied):
        await list_pending(partner_user)
    with pytest.raises(AccessDenied):
        await validate_registration(partner_user, registration.id, settings=settings, now=NOW)
    with pytest.raises(AccessDenied):
        await reject_registration(partner_user, registration.id, "non", now=NOW)
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.PENDING


async def test_an_agent_of_another_caisse_can_neither_see_nor_decide(settings, convention):
    registration = await submitted(settings, convention)
    stranger = await caisse_user(Role.CAISSE_AGENT, code="84")
    assert registration.id not in [r.registration.id for r in await list_pending(stranger)]
    with pytest.raises(ServiceError, match="ne relève pas de votre caisse"):
        await validate_registration(stranger, registration.id, settings=settings, now=NOW)
    with pytest.raises(ServiceError, match="ne relève pas de votre caisse"):
        await reject_registration(stranger, registration.id, "non", now=NOW)
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.PENDING
    assert not await User.filter(login=registration.admin_login).exists()


async def test_validation_refuses_a_login_taken_since_the_submission(settings, convention,
                                                                     make_user):
    registration = await submitted(settings, convention)
    squatter = await make_user()
    squatter.login = registration.admin_login
    await squatter.save()
    agent = await caisse_user(Role.CAISSE_AGENT)
    with pytest.raises(ServiceError, match="est déjà pris"):
        await validate_registration(agent, registration.id, settings=settings, now=NOW)
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.PENDING


async def test_two_sends_racing_with_one_proof_let_only_one_through(settings, db):
    payload = solved(settings)
    first_spent, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with in_transaction():
            await captcha.consume(settings, payload)
            first_spent.set()
            await release.wait()  # not committed yet when the second send checks

    async def second() -> None:
        await first_spent.wait()
        async with in_transaction():
            await captcha.consume(settings, payload)

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_spent.wait()
    await asyncio.sleep(0.3)  # the second send is now waiting on, or past, its check
    release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], ServiceError) and outcomes[1].message == captcha.REPLAYED
