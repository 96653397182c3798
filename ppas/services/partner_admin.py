"""Partner administration: users, partner data, convention requests (and their decision).

Every use case runs in one transaction and checks who may do it: only a partner admin
acts on their own partner; a caisse agent decides the convention requests of its caisse.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from ppas.domain.amounts import format_euros
from ppas.domain.logins import login_problems
from ppas.domain.periods import paris_date
from ppas.models import AuditEvent, Convention, ConventionStatus, Partner, Role, User
from ppas.services.access import caisse_id_of, require_usable_account
from ppas.services import audit
from ppas.services.errors import AccessDenied, ErrorCode, NotFound, ServiceError
from ppas.services.mail import queue_mail
from ppas.services.passwords import temporary_credentials
from ppas.services.sessions import close_all_sessions
from ppas.settings import Settings

# Roles a partner admin may give; caisse roles are never handed out by a partner.
ASSIGNABLE_ROLES = (Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.EVALUATOR)
ROLE_LABELS = {
    Role.PARTNER_USER: "utilisateur",
    Role.PARTNER_ADMIN: "administrateur",
    Role.EVALUATOR: "évaluateur",
}
# A requested convention has no number yet: it gets a provisional one, "DEM-<id>", that
# no real number may take (the caisse enters the real one when it validates).
PROVISIONAL_PREFIX = "DEM-"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?\d{6,15}$")
POSTAL_CODE = re.compile(r"^\d{5}$")
PRESTATION_CODE = re.compile(r"^\d{3}$")
CONVENTION_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
ADMIN_ONLY = "L'administration est réservée aux administrateurs du partenaire."
CAISSE_ONLY = "Les demandes de convention sont traitées par les agents de la caisse."


class InvalidInput(ServiceError):
    """One or more fields to correct; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str], *, code: ErrorCode = ErrorCode.INVALID) -> None:
        field, message = next(iter(problems.items()))
        super().__init__(
            message if len(problems) == 1
            else f"{len(problems)} champs sont à corriger : {', '.join(problems)}.",
            field=field, code=code,
        )
        self.problems = problems


# --- who may act -------------------------------------------------------------------------

def admin_partner_id(actor: User | None) -> int:
    """The partner `actor` administers, or AccessDenied."""
    actor = require_usable_account(actor)
    if actor.role != Role.PARTNER_ADMIN or actor.partner_id is None:
        raise AccessDenied(ADMIN_ONLY)
    return actor.partner_id


def caisse_id_of_agent(actor: User | None) -> int:
    """The caisse whose convention requests `actor` decides, or AccessDenied."""
    return caisse_id_of(actor, CAISSE_ONLY)


async def _lock_partner(partner_id: int, connection) -> Partner:
    """The partner row, locked on PostgreSQL so that two admins' changes do not interleave
    (e.g. each deactivating the other, leaving no administrator)."""
    query = Partner.filter(id=partner_id)
    if connection.capabilities.dialect == "postgres":
        query = query.select_for_update()
    return await query.using_db(connection).get()


async def _own_user(partner_id: int, user_id: int, connection=None) -> User:
    user = await User.filter(id=user_id, partner_id=partner_id).using_db(connection).first()
    if user is None:
        # The same answer for another partner's user and for no user: nothing leaks.
        raise NotFound("Cet utilisateur n'existe pas ou n'appartient pas à votre structure.")
    return user


# --- input checks ------------------------------------------------------------------------

@dataclass(frozen=True)
class UserData:
    """What a partner admin types for a user (the login only at creation)."""

    last_name: str
    first_name: str
    email: str
    role: str
    phone: str = ""
    login: str = ""


@dataclass(frozen=True)
class PartnerData:
    """The partner's editable data; the structure identifier is not among them."""

    name: str
    address_line: str
    postal_code: str
    city: str
    phone: str
    email: str


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _clean_phone(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text or "")


def _email_problem(email: str, *, required: bool) -> str | None:
    if not email:
        return "Saisissez une adresse électronique." if required else None
    if len(email) > 200 or not EMAIL.match(email):
        return (f"L'adresse électronique « {email} » n'est pas valide : "
                "elle doit ressembler à prenom.nom@exemple.fr.")
    return None


def _phone_problem(phone: str) -> str | None:
    if phone and not PHONE.match(phone):
        return ("Le numéro de téléphone n'est pas valide : saisissez de 6 à 15 chiffres "
                "(par exemple 0491000000 ou +33491000000).")
    return None


def _length_problem(value: str, label: str, maximum: int, *, required: bool) -> str | None:
    if required and not value:
        return f"Saisissez {label}."
    if len(value) > maximum:
        return f"{label[0].upper()}{label[1:]} est trop long : {maximum} caractères au plus."
    return None


def _checked_user_data(data: UserData) -> tuple[UserData, dict[str, str]]:
    cleaned = UserData(
        last_name=_clean(data.last_name), first_name=_clean(data.first_name),
        email=(data.email or "").strip(), role=(data.role or "").strip(),
        phone=_clean_phone(data.phone), login=(data.login or "").strip(),
    )
    problems: dict[str, str] = {}
    for field, label in (("last_name", "le nom"), ("first_name", "le prénom")):
        problem = _length_problem(getattr(cleaned, field), label, 100, required=True)
        if problem:
            problems[field] = problem
    if problem := _email_problem(cleaned.email, required=True):
        problems["email"] = problem
    if problem := _phone_problem(cleaned.phone):
        problems["phone"] = problem
    if cleaned.role not in {str(role) for role in ASSIGNABLE_ROLES}:
        problems["role"] = ("Choisissez le rôle : administrateur, utilisateur ou évaluateur.")
    return cleaned, problems


def _checked_partner_data(data: PartnerData) -> tuple[PartnerData, dict[str, str]]:
    cleaned = PartnerData(
        name=_clean(data.name), address_line=_clean(data.address_line),
        postal_code=(data.postal_code or "").strip(), city=_clean(data.city),
        phone=_clean_phone(data.phone), email=(data.email or "").strip(),
    )
    problems: dict[str, str] = {}
    if problem := _length_problem(cleaned.name, "la raison sociale", 200, required=True):
        problems["name"] = problem
    if problem := _length_problem(cleaned.address_line, "l'adresse", 200, required=True):
        problems["address_line"] = problem
    if not POSTAL_CODE.match(cleaned.postal_code):
        problems["postal_code"] = "Le code postal doit comporter 5 chiffres (par exemple 13001)."
    if problem := _length_problem(cleaned.city, "la commune", 100, required=True):
        problems["city"] = problem
    if problem := _phone_problem(cleaned.phone):
        problems["phone"] = problem
    if problem := _email_problem(cleaned.email, required=False):
        problems["email"] = problem
    return cleaned, problems


async def _active_admins(partner_id: int, connection) -> int:
    return await User.filter(partner_id=partner_id, role=Role.PARTNER_ADMIN,
                             active=True).using_db(connection).count()


# --- users -------------------------------------------------------------------------------

async def list_users(actor: User | None) -> list[User]:
    """The users of the admin's partner, active ones first, by name."""
    partner_id = admin_partner_id(actor)
    users = await User.filter(partner_id=partner_id).order_by("last_name", "first_name", "login")
    return sorted(users, key=lambda user: not user.active)


async def get_user(actor: User | None, user_id: int) -> User:
    """One user of the admin's partner."""
    return await _own_user(admin_partner_id(actor), user_id)


@dataclass(frozen=True)
class CreatedUser:
    """The new user; the temporary password went out by e-mail only."""

    user: User


async def create_user(actor: User | None, data: UserData, *, settings: Settings,
                      now: datetime, ip: str = "") -> CreatedUser:
    """Create a user of the admin's partner and e-mail a temporary password."""
    partner_id = admin_partner_id(actor)
    cleaned, problems = _checked_user_data(data)
    login_issues = login_problems(cleaned.login)
    if login_issues:
        problems = {"login": " ".join(login_issues), **problems}
    elif await User.filter(login__iexact=cleaned.login).exists():
        problems = {"login": f"L'identifiant « {cleaned.login} » est déjà pris : "
                             "choisissez-en un autre.", **problems}
    if problems:
        raise InvalidInput(problems)
    temporary, credentials = temporary_credentials(settings, now)
    async with in_transaction() as connection:
        partner = await _lock_partner(partner_id, connection)
        if await User.filter(login__iexact=cleaned.login).using_db(connection).exists():
            raise InvalidInput({"login": f"L'identifiant « {cleaned.login} » est déjà pris : "
                                         "choisissez-en un autre."},
                               code=ErrorCode.ALREADY_EXISTS)
        user = await User.create(
            using_db=connection,
            login=cleaned.login, role=cleaned.role,
            caisse_id=partner.caisse_id, partner_id=partner_id,
            last_name=cleaned.last_name, first_name=cleaned.first_name,
            email=cleaned.email, phone=cleaned.phone, **credentials,
        )
        await queue_mail(
            cleaned.email, "user_created",
            user=user, partner=partner, admin=actor, temporary_password=temporary,
            hours=settings.temporary_password_hours,
            sign_in_url=settings.sign_in_url,
        )
        await audit.record("partner_user_created", actor=actor, object_type="user",
                           object_id=user.id, ip=ip, target_login=user.login, role=str(user.role),
                           partner_id=partner_id)
    return CreatedUser(user)


async def update_user(actor: User | None, user_id: int, data: UserData, *,
                      ip: str = "") -> User:
    """Change a user's name, e-mail, phone or role (the login stays)."""
    partner_id = admin_partner_id(actor)
    async with in_transaction() as connection:
        await _lock_partner(partner_id, connection)
        user = await _own_user(partner_id, user_id, connection)
        cleaned, problems = _checked_user_data(data)
        if problems:
            raise InvalidInput(problems)
        if (user.role == Role.PARTNER_ADMIN and cleaned.role != Role.PARTNER_ADMIN
                and user.active and await _active_admins(partner_id, connection) <= 1):
            raise InvalidInput({"role": "Ce compte est le dernier administrateur actif de la "
                                        "structure : nommez d'abord un autre administrateur."},
                               code=ErrorCode.LAST_ADMINISTRATOR)
        changes = {}
        for field in ("last_name", "first_name", "email", "phone", "role"):
            before, after = str(getattr(user, field)), getattr(cleaned, field)
            if before != after:
                changes[field] = {"before": before, "after": after}
                setattr(user, field, Role(after) if field == "role" else after)
        if changes:
            await user.save(using_db=connection, update_fields=list(changes))
            await audit.record("partner_user_updated", actor=actor, object_type="user",
                               object_id=user.id, ip=ip, target_login=user.login, changes=changes)
    return user


async def deactivate_user(actor: User | None, user_id: int, *, ip: str = "") -> User:
    """Deactivate a user: every session of theirs ends now; they can no longer sign in."""
    partner_id = admin_partner_id(actor)
    async with in_transaction() as connection:
        await _lock_partner(partner_id, connection)
        user = await _own_user(partner_id, user_id, connection)
        if user.id == actor.id:
            raise ServiceError("Vous ne pouvez pas désactiver votre propre compte : demandez-le "
                               "à un autre administrateur de la structure.",
                               code=ErrorCode.OWN_ACCOUNT)
        if not user.active:
            raise ServiceError(f"Le compte {user.login} est déjà désactivé.",
                               code=ErrorCode.ALREADY_DONE)
        if user.role == Role.PARTNER_ADMIN and await _active_admins(partner_id, connection) <= 1:
            raise ServiceError("Ce compte est le dernier administrateur actif de la structure : "
                               "nommez d'abord un autre administrateur.",
                               code=ErrorCode.LAST_ADMINISTRATOR)
        user.active = False
        await user.save(using_db=connection, update_fields=["active"])
        await close_all_sessions(user.id)
        await audit.record("partner_user_deactivated", actor=actor, object_type="user",
                           object_id=user.id, ip=ip, target_login=user.login)
    return user


async def reactivate_user(actor: User | None, user_id: int, *, ip: str = "") -> User:
    """Let a deactivated user sign in again."""
    partner_id = admin_partner_id(actor)
    async with in_transaction() as connection:
        user = await _own_user(partner_id, user_id, connection)
        if user.active:
            raise ServiceError(f"Le compte {user.login} est déjà actif.",
                               code=ErrorCode.ALREADY_DONE)
        user.active = True
        await user.save(using_db=connection, update_fields=["active"])
        await audit.record("partner_user_reactivated", actor=actor, object_type="user",
                           object_id=user.id, ip=ip, target_login=user.login)
    return user


# --- partner data ------------------------------------------------------------------------

async def get_partner(actor: User | None) -> Partner:
    """The partner the admin administers."""
    return await Partner.get(id=admin_partner_id(actor))


async def update_partner(actor: User | None, data: PartnerData, *, ip: str = "") -> Partner:
    """Change the partner's name, address, phone or e-mail; audited with before/after."""
    partner_id = admin_partner_id(actor)
    cleaned, problems = _checked_partner_data(data)
    if problems:
        raise InvalidInput(problems)
    async with in_transaction() as connection:
        partner = await _lock_partner(partner_id, connection)
        changes = {}
        for field in ("name", "address_line", "postal_code", "city", "phone", "email"):
            before, after = getattr(partner, field), getattr(cleaned, field)
            if before != after:
                changes[field] = {"before": before, "after": after}
                setattr(partner, field, after)
        if changes:
            await partner.save(using_db=connection, update_fields=list(changes))
            await audit.record("partner_updated", actor=actor, object_type="partner",
                               object_id=partner.id, ip=ip, changes=changes)
    return partner


# --- conventions -------------------------------------------------------------------------

async def list_conventions(actor: User | None) -> list[Convention]:
    """Every convention of the admin's partner, requests included, newest first."""
    partner_id = admin_partner_id(actor)
    return await Convention.filter(partner_id=partner_id).order_by("-valid_from", "-id")


async def request_convention(actor: User | None, prestation_code: str, comment: str = "", *,
                             now: datetime, ip: str = "") -> Convention:
    """Ask the caisse for a new convention; it waits, status REQUESTED, for an agent."""
    partner_id = admin_partner_id(actor)
    code = (prestation_code or "").strip()
    comment = (comment or "").strip()
    problems = {}
    if not PRESTATION_CODE.match(code):
        problems["prestation_code"] = ("Le code prestation comporte 3 chiffres "
                                       "(par exemple 001 pour l'aide ménagère à domicile).")
    if len(comment) > 500:
        problems["comment"] = "Le commentaire est trop long : 500 caractères au plus."
    if problems:
        raise InvalidInput(problems)
    async with in_transaction() as connection:
        await _lock_partner(partner_id, connection)
        pending = await Convention.filter(partner_id=partner_id, prestation_code=code,
                                          status=ConventionStatus.REQUESTED
                                          ).using_db(connection).exists()
        if pending:
            raise InvalidInput({"prestation_code": f"Une demande pour la prestation {code} "
                                                   "attend déjà la réponse de la caisse."},
                               code=ErrorCode.ALREADY_EXISTS)
        convention = await Convention.create(
            using_db=connection, partner_id=partner_id,
            # Unique placeholder until the row has its id, then the readable "DEM-<id>".
            number=f"{PROVISIONAL_PREFIX}{secrets.token_hex(8)}", prestation_code=code,
            hourly_rate=Decimal("0.00"), valid_from=paris_date(now),
            status=ConventionStatus.REQUESTED, requested_at=now,
        )
        convention.number = f"{PROVISIONAL_PREFIX}{convention.id}"
        await convention.save(using_db=connection, update_fields=["number"])
        # The model has no comment column: the request's comment lives in its audit event,
        # where the caisse agent reads it.
        await audit.record("convention_requested", actor=actor, object_type="convention",
                           object_id=convention.id, ip=ip, prestation_code=code,
                           comment=comment, partner_id=partner_id)
    return convention


@dataclass(frozen=True)
class ConventionRequest:
    """A requested convention as the caisse agent sees it."""

    convention: Convention
    partner: Partner
    comment: str
    requested_by: str


async def _comments(convention_ids: list[int]) -> dict[str, tuple[str, str]]:
    events = await AuditEvent.filter(action="convention_requested", object_type="convention",
                                     object_id__in=[str(i) for i in convention_ids])
    return {e.object_id: (str(e.details.get("comment", "")), e.actor_login) for e in events}


async def list_convention_requests(actor: User | None) -> list[ConventionRequest]:
    """Conventions waiting for the agent's caisse, oldest request first."""
    caisse_id = caisse_id_of_agent(actor)
    rows = await Convention.filter(
        status=ConventionStatus.REQUESTED, partner__caisse_id=caisse_id
    ).select_related("partner").order_by("requested_at", "id")
    comments = await _comments([row.id for row in rows])
    return [ConventionRequest(row, row.partner, *comments.get(str(row.id), ("", "")))
            for row in rows]


def _parse_rate(text: str) -> Decimal | None:
    try:
        rate = Decimal((text or "").strip().replace(",", ".").replace("€", "").strip())
    except InvalidOperation:
        return None
    if not rate.is_finite() or rate <= 0 or rate >= Decimal("1000000") or rate != rate.quantize(
            Decimal("0.01")):
        return None
    return rate.quantize(Decimal("0.01"))


async def decide_convention_request(actor: User | None, convention_id: int, *, accept: bool,
                                    number: str = "", hourly_rate: str = "", reason: str = "",
                                    settings: Settings, now: datetime,
                                    ip: str = "") -> Convention:
    """Validate a request (ACTIVE, with the caisse's number and rate) or refuse it (CLOSED).

    The partner's administrators are told by e-mail, in the same transaction.
    """
    caisse_id = caisse_id_of_agent(actor)
    number = (number or "").strip()
    reason = (reason or "").strip()
    problems = {}
    rate = None
    if accept:
        if not CONVENTION_NUMBER.match(number) or number.upper().startswith(PROVISIONAL_PREFIX):
            problems["number"] = ("Saisissez le numéro de convention attribué par la caisse : "
                                  "lettres sans accent, chiffres et tirets, 20 caractères au "
                                  f"plus, ne commençant pas par « {PROVISIONAL_PREFIX} ».")
        rate = _parse_rate(hourly_rate)
        if rate is None:
            problems["hourly_rate"] = ("Saisissez le taux horaire en euros, positif, avec deux "
                                       "décimales au plus (par exemple 21,30).")
    elif len(reason) > 500:
        problems["reason"] = "Le motif est trop long : 500 caractères au plus."
    if problems:
        raise InvalidInput(problems)
    async with in_transaction() as connection:
        query = Convention.filter(id=convention_id, partner__caisse_id=caisse_id)
        if connection.capabilities.dialect == "postgres":
            query = query.select_for_update()
        convention = await query.using_db(connection).first()
        if convention is None:
            raise NotFound("Cette demande de convention n'existe pas ou ne relève pas de "
                           "votre caisse.")
        if convention.status != ConventionStatus.REQUESTED:
            raise ServiceError("Cette demande a déjà été traitée.", code=ErrorCode.ALREADY_DONE)
        provisional = convention.number
        if accept:
            if await Convention.filter(number=number).using_db(connection).exists():
                raise InvalidInput({"number": f"Le numéro de convention {number} est déjà "
                                              "attribué : vérifiez votre saisie."},
                                   code=ErrorCode.ALREADY_EXISTS)
            convention.number = number
            convention.hourly_rate = rate
            convention.valid_from = paris_date(now)
            convention.status = ConventionStatus.ACTIVE
            await convention.save(using_db=connection,
                                  update_fields=["number", "hourly_rate", "valid_from", "status"])
            await audit.record("convention_request_validated", actor=actor,
                               object_type="convention", object_id=convention.id, ip=ip,
                               provisional_number=provisional, number=number,
                               hourly_rate=str(rate))
        else:
            convention.status = ConventionStatus.CLOSED
            convention.valid_to = paris_date(now)
            await convention.save(using_db=connection, update_fields=["status", "valid_to"])
            await audit.record("convention_request_refused", actor=actor,
                               object_type="convention", object_id=convention.id, ip=ip,
                               number=convention.number, reason=reason)
        await _tell_partner_admins(
            convention, connection, "convention_validated" if accept else "convention_refused",
            rate=format_euros(rate) if rate is not None else "",
            provisional=provisional, reason=reason,
            sign_in_url=settings.sign_in_url)
    return convention


async def _tell_partner_admins(convention: Convention, connection, template: str,
                               **context: object) -> None:
    """Queue `template` to every active administrator of the convention's partner."""
    partner = await Partner.get(id=convention.partner_id).using_db(connection) \
        .prefetch_related("caisse")
    admins = await User.filter(partner_id=partner.id, role=Role.PARTNER_ADMIN, active=True) \
        .exclude(email="").using_db(connection).order_by("id")
    for admin in admins:
        await queue_mail(admin.email, template, admin=admin, partner=partner,
                         caisse=partner.caisse, convention=convention, **context)
