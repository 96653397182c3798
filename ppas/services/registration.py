"""Pre-registration (préinscription) of a partner's administrator, and the caisse's decision.

A structure conventioned by the caisse registers its first administrator: the partner data
must match a convention of that caisse. A caisse agent then validates (the administrator's
account is created and a temporary password is e-mailed) or rejects with a reason.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.functions import Count, Upper
from tortoise.transactions import in_transaction

from ppas.domain.ids import parse_id
from ppas.domain.logins import login_problems
from ppas.models import (
    Caisse,
    Convention,
    ConventionStatus,
    Registration,
    RegistrationStatus,
    Role,
    User,
)
from ppas.services.access import caisse_id_of
from ppas.services import audit, captcha
from ppas.services.errors import ErrorCode, FieldsRefused, NotFound, ServiceError
from ppas.services.mail import queue_mail
from ppas.services.passwords import temporary_credentials
from ppas.settings import Settings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
PHONE_SEPARATORS = re.compile(r"[\s.\-]")
FRENCH_PHONE = re.compile(r"^(0\d{9}|\+\d{11,14})$")

CONVENTION_UNKNOWN = (
    "Aucune convention de la caisse {caisse} ne porte le numéro « {number} » pour "
    "l'identifiant structure {structure}. Vérifiez le numéro de convention et l'identifiant "
    "structure tels qu'ils figurent sur votre convention ; s'ils sont exacts, contactez "
    "votre caisse."
)
CONVENTION_INACTIVE = (
    "La convention « {number} » n'est pas active : la préinscription n'est pas possible. "
    "Contactez votre caisse."
)
NOT_FOUND = "Cette préinscription n'existe pas ou ne relève pas de votre caisse."
CAISSE_ONLY = "Les préinscriptions sont traitées par les agents de la caisse."


@dataclass(frozen=True)
class RegistrationForm:
    """What the person registering typed, field by field (names as in the GraphQL input)."""

    caisse_code: str = ""
    convention_number: str = ""
    structure_id: str = ""
    structure_name: str = ""
    last_name: str = ""
    first_name: str = ""
    email: str = ""
    phone: str = ""
    login: str = ""
    address_line: str = ""
    postal_code: str = ""
    city: str = ""
    accept_conditions: bool = False


# The GraphQL input's field names, used as the `field` of every problem.
FIELDS = {
    "caisse_code": "caisseCode",
    "convention_number": "conventionNumber",
    "structure_id": "structureId",
    "structure_name": "structureName",
    "last_name": "lastName",
    "first_name": "firstName",
    "email": "email",
    "phone": "phone",
    "login": "login",
    "address_line": "addressLine",
    "postal_code": "postalCode",
    "city": "city",
    "accept_conditions": "acceptConditions",
}

# Field → (message when empty, maximum length; None when a format check fixes the length).
_REQUIRED: dict[str, tuple[str, int | None]] = {
    "caisse_code": ("Saisissez le code caisse (2 chiffres, par exemple 03).", None),
    "convention_number": ("Saisissez le numéro de convention transmis par votre caisse.", 20),
    "structure_id": ("Saisissez l'identifiant structure (8 chiffres).", None),
    "structure_name": ("Saisissez le nom de la structure.", 200),
    "last_name": ("Saisissez le nom de l'administrateur.", 100),
    "first_name": ("Saisissez le prénom de l'administrateur.", 100),
    "email": ("Saisissez l'adresse électronique de l'administrateur.", 200),
    "phone": ("Saisissez le téléphone de l'administrateur.", 20),
    "address_line": ("Saisissez l'adresse (numéro et voie).", 200),
    "postal_code": ("Saisissez le code postal (5 chiffres).", None),
    "city": ("Saisissez la commune.", 100),
}

_LABELS = {
    "caisse_code": "Le code caisse",
    "convention_number": "Le numéro de convention",
    "structure_id": "L'identifiant structure",
    "structure_name": "Le nom de la structure",
    "last_name": "Le nom",
    "first_name": "Le prénom",
    "email": "L'adresse électronique",
    "phone": "Le téléphone",
    "address_line": "L'adresse",
    "postal_code": "Le code postal",
    "city": "La commune",
}


class RegistrationRefused(FieldsRefused):
    """A pre-registration's fields to correct."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("La préinscription n'est pas enregistrée", problems)


def _clean(form: RegistrationForm) -> RegistrationForm:
    values = {name: " ".join(str(getattr(form, name)).split()) for name in _REQUIRED}
    values["convention_number"] = values["convention_number"].upper()
    values["email"] = values["email"].lower()
    values["phone"] = PHONE_SEPARATORS.sub("", values["phone"])
    return RegistrationForm(**values, login=form.login.strip(),
                            accept_conditions=bool(form.accept_conditions))


def _format_problems(form: RegistrationForm) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not form.accept_conditions:
        problems["acceptConditions"] = ("Acceptez les conditions générales d'utilisation pour "
                                        "poursuivre la préinscription.")
    for name, (missing, max_length) in _REQUIRED.items():
        value = getattr(form, name)
        if not value:
            problems[FIELDS[name]] = missing
        elif max_length is not None and len(value) > max_length:
            problems[FIELDS[name]] = (f"{_LABELS[name]} est trop long : {max_length} caractères "
                                      f"au plus (il en compte {len(value)}).")
    checks = [
        ("caisse_code", r"\d{2}", "Le code caisse comporte exactement 2 chiffres (par exemple 03)."),
        ("structure_id", r"\d{8}",
         "L'identifiant structure comporte exactement 8 chiffres (par exemple 21231300)."),
        ("postal_code", r"\d{5}", "Le code postal comporte exactement 5 chiffres (par exemple 13001)."),
    ]
    for name, pattern, message in checks:
        value = getattr(form, name)
        if value and FIELDS[name] not in problems and not re.fullmatch(pattern, value):
            problems[FIELDS[name]] = f"{message} Vous avez saisi « {value} »."
    if form.email and "email" not in problems and not EMAIL.match(form.email):
        problems["email"] = (f"L'adresse électronique « {form.email} » n'est pas valide : "
                             "elle doit être de la forme nom@domaine.fr.")
    if form.phone and "phone" not in problems and not FRENCH_PHONE.match(form.phone):
        problems["phone"] = ("Le téléphone doit comporter 10 chiffres (par exemple 0491000000), "
                             "ou commencer par + suivi de l'indicatif du pays.")
    login_issues = login_problems(form.login)
    if login_issues:
        problems["login"] = " ".join(login_issues)
    return problems


async def _login_taken(login: str, *, exclude_registration: int | None = None) -> bool:
    if await User.filter(login__iexact=login).exists():
        return True
    pending = Registration.filter(admin_login__iexact=login, status=RegistrationStatus.PENDING)
    if exclude_registration is not None:
        pending = pending.exclude(id=exclude_registration)
    return await pending.exists()


async def _matching_convention(caisse_code: str, number: str,
                               structure_id: str) -> Convention | None:
    return await Convention.filter(
        number__iexact=number, partner__structure_id=structure_id,
        partner__caisse__code=caisse_code,
    ).select_related("partner__caisse").first()


async def submit_registration(form: RegistrationForm, captcha_payload: str, *,
                              settings: Settings, now: datetime, ip: str = "") -> Registration:
    """Record a pre-registration that waits for the caisse, or raise ServiceError.

    The captcha is spent even when fields must be corrected: each attempt costs a new
    proof of work (no cheap guessing of convention numbers).
    """
    form = _clean(form)
    problems: dict[str, str] = {}
    registration: Registration | None = None
    async with in_transaction():
        await captcha.consume(settings, captcha_payload, ip=ip)
        problems = _format_problems(form)
        if "login" not in problems and await _login_taken(form.login):
            problems["login"] = (f"L'identifiant « {form.login} » est déjà pris : "
                                 "choisissez-en un autre.")
        convention = None
        partner_fields = ("caisseCode", "conventionNumber", "structureId")
        if not any(name in problems for name in partner_fields):
            convention = await _matching_convention(form.caisse_code, form.convention_number,
                                                    form.structure_id)
            if convention is None:
                problems["conventionNumber"] = CONVENTION_UNKNOWN.format(
                    caisse=form.caisse_code, number=form.convention_number,
                    structure=form.structure_id)
            elif convention.status != ConventionStatus.ACTIVE:
                problems["conventionNumber"] = CONVENTION_INACTIVE.format(number=convention.number)
        if not problems and convention is not None:
            registration = await Registration.create(
                caisse=convention.partner.caisse,
                convention_number=convention.number,
                structure_id=form.structure_id,
                partner_name=form.structure_name,
                admin_last_name=form.last_name,
                admin_first_name=form.first_name,
                admin_email=form.email,
                admin_phone=form.phone,
                admin_login=form.login,
                address_line=form.address_line,
                postal_code=form.postal_code,
                city=form.city,
            )
            await audit.record("registration_submitted", login=form.login,
                               object_type="registration", object_id=registration.id, ip=ip,
                               convention=convention.number, structure_id=form.structure_id)
    if registration is None:
        # Leaving the block above committed the captcha's use; now report what to fix.
        raise RegistrationRefused(problems)
    return registration


# ---------------------------------------------------------------------------------------
# The caisse's side
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingRegistration:
    """A pending registration next to the convention it claims, with what differs."""

    registration: Registration
    convention: Convention | None
    mismatches: list[str] = field(default_factory=list)
    login_taken: bool = False


def _caisse_id_of(user: User | None) -> int:
    return caisse_id_of(user, CAISSE_ONLY)


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def _compare(registration: Registration, convention: Convention | None, admins: int,
             others: int, taken: bool) -> PendingRegistration:
    """A pending registration next to what the caisse knows (read by list_pending)."""
    mismatches: list[str] = []
    if convention is None:
        mismatches.append("Aucune convention de la caisse ne porte ce numéro.")
    else:
        partner = convention.partner
        if partner.structure_id != registration.structure_id:
            mismatches.append(f"Identifiant structure différent : {registration.structure_id} "
                              f"saisi, {partner.structure_id} sur la convention.")
        if _normalised(partner.name) != _normalised(registration.partner_name):
            mismatches.append(f"Nom de structure différent : « {registration.partner_name} » "
                              f"saisi, « {partner.name} » sur la convention.")
        if convention.status != ConventionStatus.ACTIVE:
            mismatches.append(f"La convention n'est pas active (statut {convention.status}).")
        if admins:
            mismatches.append(f"La structure a déjà {admins} administrateur"
                              f"{'s' if admins > 1 else ''} actif{'s' if admins > 1 else ''} "
                              "sur le portail.")
    if others:
        mismatches.append(f"{others} autre{'s' if others > 1 else ''} préinscription"
                          f"{'s' if others > 1 else ''} en attente pour cette convention.")
    if taken:
        mismatches.append(f"L'identifiant « {registration.admin_login} » est déjà pris.")
    return PendingRegistration(registration, convention, mismatches, taken)


async def list_pending(user: User | None) -> list[PendingRegistration]:
    """Pending registrations of the agent's caisse, oldest first, each with its convention.

    Five statements however many are pending (it used to be five per registration).
    Case-insensitive matches compare the database's UPPER on both sides, as `__iexact`
    does, so a number or a login matches exactly what it matched one at a time.
    """
    caisse_id = _caisse_id_of(user)
    rows = await Registration.filter(caisse_id=caisse_id, status=RegistrationStatus.PENDING
                                     ).select_related("caisse").annotate(
        number_key=Upper("convention_number"), login_key=Upper("admin_login")
    ).order_by("created_at", "id")
    if not rows:
        return []
    conventions: dict[str, Convention] = {}
    for convention in await Convention.filter(partner__caisse_id=caisse_id).annotate(
            key=Upper("number")).filter(key__in={r.number_key for r in rows}
                                        ).select_related("partner").order_by("id"):
        conventions.setdefault(convention.key, convention)  # the first, as .first() took
    admins = dict(await User.filter(
        partner_id__in={c.partner_id for c in conventions.values()}, role=Role.PARTNER_ADMIN,
        active=True).annotate(n=Count("id")).group_by("partner_id").values_list("partner_id", "n"))
    # Every pending registration of the caisse is in `rows`: the others of a number are there.
    per_number = Counter(r.convention_number for r in rows)
    logins = {r.login_key for r in rows}
    users_taken = set(await User.annotate(key=Upper("login")).filter(key__in=logins)
                      .values_list("key", flat=True))
    pending_logins: dict[str, set[int]] = {}
    for registration_id, key in await Registration.annotate(key=Upper("admin_login")).filter(
            key__in=logins, status=RegistrationStatus.PENDING).values_list("id", "key"):
        pending_logins.setdefault(key, set()).add(registration_id)
    result = []
    for row in rows:
        convention = conventions.get(row.number_key)
        taken = row.login_key in users_taken or bool(pending_logins.get(row.login_key, set())
                                                     - {row.id})
        result.append(_compare(row, convention,
                               admins.get(convention.partner_id, 0) if convention else 0,
                               per_number[row.convention_number] - 1, taken))
    return result


async def _take_pending(user: User, registration_id: int | str, connection) -> Registration:
    """The pending registration of the agent's caisse, locked for this decision."""
    key = parse_id(registration_id)
    if key is None:
        raise NotFound(NOT_FOUND)
    registration = await Registration.get_or_none(
        id=key, caisse_id=user.caisse_id).using_db(connection)
    if registration is None:
        raise NotFound(NOT_FOUND)
    # Only one decision: a concurrent one finds the status already changed.
    if registration.status != RegistrationStatus.PENDING:
        raise ServiceError(_already_decided(registration), code=ErrorCode.ALREADY_DONE)
    return registration


def _already_decided(registration: Registration) -> str:
    done = "validée" if registration.status == RegistrationStatus.VALIDATED else "refusée"
    return f"Cette préinscription a déjà été {done}."


async def _mark_decided(registration: Registration, status: RegistrationStatus, user: User,
                        now: datetime, connection, reason: str = "") -> None:
    changed = await Registration.filter(
        id=registration.id, status=RegistrationStatus.PENDING,
    ).using_db(connection).update(status=status, decided_by_id=user.id, decided_at=now,
                                  rejection_reason=reason)
    if changed != 1:
        await registration.refresh_from_db(using_db=connection)
        raise ServiceError(_already_decided(registration), code=ErrorCode.ALREADY_DONE)


@dataclass(frozen=True)
class Validated:
    """The administrator's account created by a validation."""

    registration: Registration
    user: User


async def validate_registration(user: User | None, registration_id: int | str, *,
                                settings: Settings, now: datetime, ip: str = "") -> Validated:
    """Create the partner's administrator and e-mail a temporary password."""
    _caisse_id_of(user)
    temporary, credentials = temporary_credentials(settings, now)
    async with in_transaction() as connection:
        registration = await _take_pending(user, registration_id, connection)
        convention = await Convention.filter(
            number__iexact=registration.convention_number,
            partner__structure_id=registration.structure_id,
            partner__caisse_id=registration.caisse_id,
        ).using_db(connection).select_related("partner").first()
        if convention is None:
            raise ServiceError("La convention de cette préinscription ne correspond plus à la "
                               "structure : refusez-la en indiquant la raison.",
                               code=ErrorCode.CONVENTION_MISMATCH)
        if await User.filter(login__iexact=registration.admin_login).using_db(connection).exists():
            raise ServiceError(f"L'identifiant « {registration.admin_login} » est déjà pris : "
                               "refusez la préinscription en demandant d'en choisir un autre.",
                               code=ErrorCode.ALREADY_EXISTS)
        await _mark_decided(registration, RegistrationStatus.VALIDATED, user, now, connection)
        admin = await User.create(
            using_db=connection,
            login=registration.admin_login,
            role=Role.PARTNER_ADMIN,
            caisse_id=registration.caisse_id,
            partner_id=convention.partner_id,
            last_name=registration.admin_last_name,
            first_name=registration.admin_first_name,
            email=registration.admin_email,
            phone=registration.admin_phone,
            **credentials,
        )
        await queue_mail(
            registration.admin_email, "registration_validated",
            registration=registration, partner=convention.partner, login=admin.login,
            temporary_password=temporary, hours=settings.temporary_password_hours,
            sign_in_url=settings.sign_in_url,
        )
        await audit.record("registration_validated", actor=user, object_type="registration",
                           object_id=registration.id, ip=ip, created_login=admin.login,
                           created_user_id=admin.id, partner_id=convention.partner_id)
        await registration.refresh_from_db(using_db=connection)
    return Validated(registration, admin)


async def reject_registration(user: User | None, registration_id: int | str, reason: str, *,
                              now: datetime, ip: str = "") -> Registration:
    """Refuse a pre-registration; the reason is e-mailed to the person who registered."""
    _caisse_id_of(user)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Indiquez la raison du refus : elle est envoyée par courriel à la "
                           "personne qui s'est préinscrite.", field="reason",
                           code=ErrorCode.REQUIRED)
    if len(reason) > 1000:
        raise ServiceError(f"La raison du refus est trop longue : 1000 caractères au plus "
                           f"(elle en compte {len(reason)}).", field="reason")
    async with in_transaction() as connection:
        registration = await _take_pending(user, registration_id, connection)
        await _mark_decided(registration, RegistrationStatus.REJECTED, user, now, connection,
                            reason=reason)
        caisse = await Caisse.get(id=registration.caisse_id).using_db(connection)
        await queue_mail(registration.admin_email, "registration_rejected",
                         registration=registration, caisse=caisse, reason=reason)
        await audit.record("registration_rejected", actor=user, object_type="registration",
                           object_id=registration.id, ip=ip, reason=reason)
        await registration.refresh_from_db(using_db=connection)
    return registration
