"""The caisse's back office: beneficiaries, care plans, and suspending conventions.

In the real portal these live in the caisse's own systems; here the caisse agents keep them
so that the billing cycle runs end to end. Every use case checks that the actor is an agent
or admin of a caisse and touches only that caisse's objects (another caisse's object is
NOT_FOUND, never told apart from a missing one), and runs in one transaction.

Rules decided here (documented on the pages and in the guide):
* a beneficiary is known by its 10-digit dossier number, unique within the caisse;
* a care plan is known by (beneficiary, convention, start date): a unique index
  (migration 0010) enforces it, and the CSV import uses it to update instead of duplicate;
* a plan's hourly rate is the convention's: left empty it takes it, a different one is
  refused (the caisse changes the convention's rate, not one plan's);
* the participation (what the retiree pays an hour) is between 0 and the hourly rate;
* a plan is edited only until it is notified; « Notifier » sets `notified_at`, and only then
  does the plan appear on the partner's forms and in file checks; « Clôturer » sets
  `closed_at` and the end date;
* a convention is suspended (R02 at integration, no new form) or resumed with a reason,
  audited.
"""
from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from ppas.domain.beneficiary_import import IMPORT_MAX_ROWS, REQUIRED_COLUMNS
from ppas.domain.periods import paris_date
from ppas.models import Beneficiary, CarePlan, Convention, ConventionStatus, User
from ppas.services import audit
from ppas.services.access import caisse_id_of
from ppas.services.errors import ErrorCode, FieldsRefused, NotFound, ServiceError

CAISSE_ONLY = ("Le suivi des bénéficiaires, des prises en charge et des conventions est "
               "réservé aux agents de la caisse.")
BENEFICIARY_NOT_FOUND = "Ce bénéficiaire n'existe pas ou ne relève pas de votre caisse."
PLAN_NOT_FOUND = "Cette prise en charge n'existe pas ou ne relève pas de votre caisse."
CONVENTION_NOT_FOUND = "Cette convention n'existe pas ou ne relève pas de votre caisse."
FILE_NUMBER = re.compile(r"[0-9]{10}", re.ASCII)  # ASCII only: "０３…" is not a number
DECIMAL = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?", re.ASCII)
DIGITS = re.compile(r"[0-9]+", re.ASCII)
MAX_HOURS = Decimal("744")  # 31 days × 24 h: no month holds more
CENT = Decimal("0.01")
# On update, an empty date cell leaves the stored date alone.
KEPT_WHEN_EMPTY = frozenset({"birth_date", "deceased_on"})


def caisse_of(actor: User | None) -> int:
    """The caisse `actor` works for, or AccessDenied (who asks)."""
    return caisse_id_of(actor, CAISSE_ONLY)


# --------------------------------------------------------------------------- parsing

def _clean(text: Any) -> str:
    return " ".join(str(text or "").split())


def parse_date(text: str) -> date | None:
    """A date typed as 31/01/2026 or 2026-01-31 (None if it is neither)."""
    text = (text or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_decimal(text: str) -> Decimal | None:
    """A number typed with a comma or a point, at most two decimals (None otherwise)."""
    text = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    text = text.replace(",", ".")
    if not DECIMAL.fullmatch(text):
        return None
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return None


def _date_field(values: dict[str, str], name: str, label: str, problems: dict[str, str], *,
                required: bool) -> date | None:
    text = (values.get(name) or "").strip()
    if not text:
        if required:
            problems[name] = f"Saisissez {label} (jj/mm/aaaa)."
        return None
    day = parse_date(text)
    if day is None or not date(1900, 1, 1) <= day <= date(2100, 12, 31):
        problems[name] = f"{label[0].upper()}{label[1:]} n'est pas une date valide : " \
                         "saisissez-la en jj/mm/aaaa, par exemple 31/01/2026."
        return None
    return day


# --------------------------------------------------------------------------- beneficiaries

@dataclass(frozen=True)
class BeneficiaryInput:
    """A beneficiary as typed (strings): dates jj/mm/aaaa or aaaa-mm-jj."""

    file_number: str
    last_name: str
    first_name: str
    birth_date: str = ""
    deceased_on: str = ""


@dataclass(frozen=True)
class BeneficiaryValues:
    file_number: str
    last_name: str
    first_name: str
    birth_date: date | None
    deceased_on: date | None


def check_beneficiary(data: BeneficiaryInput, today: date) -> tuple[BeneficiaryValues | None,
                                                                      dict[str, str]]:
    """The clean values, or the problems per field (GraphQL names), in French."""
    problems: dict[str, str] = {}
    number = re.sub(r"\s", "", data.file_number or "")
    if not number:
        problems["fileNumber"] = "Saisissez le numéro de dossier (10 chiffres)."
    elif not FILE_NUMBER.fullmatch(number):
        problems["fileNumber"] = ("Le numéro de dossier compte exactement 10 chiffres, "
                                  "sans lettre ni espace : par exemple 0300012345.")
    last_name, first_name = _clean(data.last_name).upper(), _clean(data.first_name)
    for name, value, label in (("lastName", last_name, "le nom"),
                               ("firstName", first_name, "le prénom")):
        if not value:
            problems[name] = f"Saisissez {label} du bénéficiaire."
        elif len(value) > 100:
            problems[name] = f"{label[3:].capitalize()} : 100 caractères au plus."
    values = {"birthDate": data.birth_date, "deceasedOn": data.deceased_on}
    birth = _date_field(values, "birthDate", "la date de naissance", problems, required=False)
    deceased = _date_field(values, "deceasedOn", "la date de décès", problems, required=False)
    if birth and birth > today:
        problems["birthDate"] = "La date de naissance est dans le futur : vérifiez-la."
    if deceased and deceased > today:
        problems["deceasedOn"] = "La date de décès est dans le futur : vérifiez-la."
    if birth and deceased and deceased < birth:
        problems["deceasedOn"] = "La date de décès précède la date de naissance : vérifiez-les."
    if problems:
        return None, problems
    return BeneficiaryValues(number, last_name, first_name, birth, deceased), {}


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int


async def list_beneficiaries(actor: User | None, *, search: str = "", offset: int = 0,
                             limit: int = 20) -> Page:
    """The caisse's beneficiaries by name; `search` matches the dossier number's start or a
    part of the last or first name."""
    caisse_id = caisse_of(actor)
    query = Beneficiary.filter(caisse_id=caisse_id)
    search = _clean(search)[:100]
    if search:
        digits = re.sub(r"\s", "", search)
        condition = Q(last_name__icontains=search) | Q(first_name__icontains=search)
        if DIGITS.fullmatch(digits):
            condition = condition | Q(file_number__startswith=digits)
        query = query.filter(condition)
    total = await query.count()
    rows = await query.order_by("last_name", "first_name", "file_number", "id") \
        .offset(offset).limit(limit)
    return Page(rows, total)


async def get_beneficiary(actor: User | None, beneficiary_id: int) -> Beneficiary | None:
    """One beneficiary of the actor's caisse, or None."""
    caisse_id = caisse_of(actor)
    return await Beneficiary.filter(id=beneficiary_id, caisse_id=caisse_id).first()


async def _taken(caisse_id: int, number: str, other_than: int | None, connection) -> bool:
    query = Beneficiary.filter(caisse_id=caisse_id, file_number=number)
    if other_than is not None:
        query = query.exclude(id=other_than)
    return await query.using_db(connection).exists()


async def create_beneficiary(actor: User | None, data: BeneficiaryInput, *, now: datetime,
                             ip: str = "") -> Beneficiary:
    """Add a beneficiary to the actor's caisse; the dossier number must be new there."""
    caisse_id = caisse_of(actor)
    values, problems = check_beneficiary(data, paris_date(now))
    if problems:
        raise FieldsRefused("Le bénéficiaire n'est pas enregistré", problems)
    async with _unique(_duplicate_number(values.file_number)), in_transaction() as connection:
        if await _taken(caisse_id, values.file_number, None, connection):
            raise _duplicate_number(values.file_number)
        row = await Beneficiary.create(caisse_id=caisse_id, using_db=connection,
                                       **values.__dict__)
        await audit.record("beneficiary_created", actor=actor, object_type="beneficiary",
                           object_id=row.id, ip=ip, file_number=row.file_number)
    return row


@contextlib.asynccontextmanager
async def _unique(refusal: ServiceError) -> AsyncIterator[None]:
    """The same key written at the same moment by another request: the unique index refuses
    it (the transaction inside is rolled back first), and the user reads why."""
    try:
        yield
    except IntegrityError:
        raise refusal from None


def _plan_taken_meanwhile() -> ServiceError:
    return ServiceError("Ce bénéficiaire a déjà une prise en charge sur cette convention "
                        "commençant à cette date : modifiez-la plutôt que d'en créer une "
                        "seconde.", field="startDate", code=ErrorCode.ALREADY_EXISTS)


def _duplicate_number(number: str) -> ServiceError:
    return ServiceError(f"Le numéro de dossier {number} est déjà celui d'un autre bénéficiaire "
                        "de la caisse : recherchez-le plutôt que de le recréer.",
                        field="fileNumber", code=ErrorCode.ALREADY_EXISTS)


async def update_beneficiary(actor: User | None, beneficiary_id: int, data: BeneficiaryInput,
                             *, now: datetime, ip: str = "") -> Beneficiary:
    """Correct a beneficiary of the actor's caisse (a death date is entered here)."""
    caisse_id = caisse_of(actor)
    values, problems = check_beneficiary(data, paris_date(now))
    if problems:
        raise FieldsRefused("Le bénéficiaire n'est pas modifié", problems)
    async with _unique(_duplicate_number(values.file_number)), in_transaction() as connection:
        row = await _locked(Beneficiary.filter(id=beneficiary_id, caisse_id=caisse_id),
                            connection)
        if row is None:
            raise NotFound(BENEFICIARY_NOT_FOUND)
        if await _taken(caisse_id, values.file_number, row.id, connection):
            raise _duplicate_number(values.file_number)
        before = _beneficiary_snapshot(row)
        for name, value in values.__dict__.items():
            setattr(row, name, value)
        await row.save(using_db=connection)
        await audit.record("beneficiary_updated", actor=actor, object_type="beneficiary",
                           object_id=row.id, ip=ip, before=before,
                           after=_beneficiary_snapshot(row))
    return row


def _beneficiary_snapshot(row: Beneficiary) -> dict[str, str]:
    return {"file_number": row.file_number, "last_name": row.last_name,
            "first_name": row.first_name, "birth_date": str(row.birth_date or ""),
            "deceased_on": str(row.deceased_on or "")}


async def _locked(query, connection):
    if connection.capabilities.dialect == "postgres":
        query = query.select_for_update()
    return await query.using_db(connection).first()


# --------------------------------------------------------------------------- conventions

async def list_conventions(actor: User | None, *, offset: int = 0, limit: int = 20,
                           statuses: tuple[ConventionStatus, ...] = (
                               ConventionStatus.ACTIVE, ConventionStatus.SUSPENDED)) -> Page:
    """The caisse's conventions (active and suspended by default), by partner then number."""
    caisse_id = caisse_of(actor)
    query = Convention.filter(partner__caisse_id=caisse_id, status__in=list(statuses))
    total = await query.count()
    rows = await query.select_related("partner").order_by("partner__name", "number", "id") \
        .offset(offset).limit(limit)
    return Page(rows, total)


async def get_convention(actor: User | None, convention_id: int) -> Convention | None:
    """One convention of the actor's caisse (any status), its partner fetched, or None."""
    caisse_id = caisse_of(actor)
    return await Convention.filter(id=convention_id, partner__caisse_id=caisse_id) \
        .select_related("partner").first()


async def _set_convention_status(actor: User | None, convention_id: int, reason: str, *,
                                 wanted: ConventionStatus, now: datetime,
                                 ip: str) -> Convention:
    caisse_id = caisse_of(actor)
    reason = _clean(reason)
    if not reason:
        raise FieldsRefused(
            "La convention n'est pas modifiée",
            {"reason": "Saisissez le motif : il est gardé dans le journal de la caisse."})
    if len(reason) > 500:
        raise FieldsRefused("La convention n'est pas modifiée",
                            {"reason": "Le motif est trop long : 500 caractères au plus."})
    source = (ConventionStatus.ACTIVE if wanted == ConventionStatus.SUSPENDED
              else ConventionStatus.SUSPENDED)
    async with in_transaction() as connection:
        convention = await _locked(
            Convention.filter(id=convention_id, partner__caisse_id=caisse_id), connection)
        if convention is None:
            raise NotFound(CONVENTION_NOT_FOUND)
        if convention.status == wanted:
            raise ServiceError(
                "La convention est déjà suspendue." if wanted == ConventionStatus.SUSPENDED
                else "La convention est déjà active.", code=ErrorCode.ALREADY_DONE)
        if convention.status != source:
            raise ServiceError(
                "Seule une convention active se suspend, et seule une convention suspendue "
                "reprend : celle-ci est close ou encore demandée.",
                code=ErrorCode.CONVENTION_NOT_ACTIVE)
        convention.status = wanted
        await convention.save(using_db=connection, update_fields=["status"])
        await audit.record(
            "convention_suspended" if wanted == ConventionStatus.SUSPENDED
            else "convention_resumed", actor=actor, object_type="convention",
            object_id=convention.id, ip=ip, number=convention.number, reason=reason,
            at=now.isoformat())
    await convention.fetch_related("partner")
    return convention


async def suspend_convention(actor: User | None, convention_id: int, reason: str, *,
                             now: datetime, ip: str = "") -> Convention:
    """Suspend an active convention of the caisse (R02 at integration), with a reason."""
    return await _set_convention_status(actor, convention_id, reason,
                                        wanted=ConventionStatus.SUSPENDED, now=now, ip=ip)


async def resume_convention(actor: User | None, convention_id: int, reason: str, *,
                            now: datetime, ip: str = "") -> Convention:
    """Make a suspended convention of the caisse active again, with a reason."""
    return await _set_convention_status(actor, convention_id, reason,
                                        wanted=ConventionStatus.ACTIVE, now=now, ip=ip)


# --------------------------------------------------------------------------- care plans

@dataclass(frozen=True)
class CarePlanInput:
    """A care plan as typed (strings); an empty rate means the convention's."""

    convention: str  # the convention's id (form) or number (CSV)
    hours_per_month: str
    hourly_rate: str
    participation: str
    start_date: str
    end_date: str = ""


@dataclass(frozen=True)
class CarePlanValues:
    convention: Convention
    hours_per_month: Decimal
    hourly_rate: Decimal
    participation: Decimal
    start_date: date
    end_date: date | None


async def _convention_of_caisse(caisse_id: int, key: str, *, by_number: bool,
                                connection) -> Convention | None:
    key = (key or "").strip()
    if not key:
        return None
    if by_number:
        query = Convention.filter(number=key)
    elif DIGITS.fullmatch(key) and len(key) < 10:
        query = Convention.filter(id=int(key))
    else:
        return None
    return await query.filter(partner__caisse_id=caisse_id).using_db(connection) \
        .select_related("partner").first()


async def check_care_plan(caisse_id: int, beneficiary: Beneficiary, data: CarePlanInput, *,
                          by_number: bool = False, connection) -> tuple[CarePlanValues | None,
                                                                         dict[str, str]]:
    """The clean values, or the problems per field (GraphQL names), in French."""
    problems: dict[str, str] = {}
    convention = await _convention_of_caisse(caisse_id, data.convention, by_number=by_number,
                                             connection=connection)
    if convention is None:
        problems["conventionId"] = (
            "Choisissez une convention de la caisse." if not (data.convention or "").strip()
            else f"La convention « {_clean(data.convention)[:20]} » n'existe pas à la caisse : "
                 "vérifiez son numéro.")
    elif convention.status != ConventionStatus.ACTIVE:
        problems["conventionId"] = (f"La convention {convention.number} n'est pas active "
                                    "(suspendue, close ou demandée) : aucune prise en charge "
                                    "ne s'y ajoute.")
    hours = parse_decimal(data.hours_per_month)
    if hours is None or hours <= 0 or hours > MAX_HOURS:
        problems["hoursPerMonth"] = ("Saisissez les heures mensuelles : un nombre positif, "
                                     "744 au plus, deux décimales au plus (par exemple 12,5).")
    rate: Decimal | None
    if not (data.hourly_rate or "").strip():
        rate = convention.hourly_rate if convention is not None else None
    else:
        rate = parse_decimal(data.hourly_rate)
        if rate is None or rate <= 0:
            problems["hourlyRate"] = ("Saisissez le taux horaire en euros, deux décimales au "
                                      "plus (par exemple 21,30), ou laissez-le vide pour "
                                      "celui de la convention.")
        elif convention is not None and rate != convention.hourly_rate:
            problems["hourlyRate"] = (f"Le taux horaire d'une prise en charge est celui de la "
                                      f"convention {convention.number} : "
                                      f"{str(convention.hourly_rate).replace('.', ',')} €.")
    participation = parse_decimal(data.participation)
    if participation is None:
        problems["participation"] = ("Saisissez la participation horaire du bénéficiaire en "
                                     "euros (0 s'il ne paie rien), par exemple 3,20.")
    elif rate is not None and participation > rate:
        problems["participation"] = ("La participation du bénéficiaire dépasse le taux "
                                     "horaire : elle doit lui être inférieure ou égale.")
    values = {"startDate": data.start_date, "endDate": data.end_date}
    start = _date_field(values, "startDate", "la date de début", problems, required=True)
    end = _date_field(values, "endDate", "la date de fin", problems, required=False)
    if start and end and end < start:
        problems["endDate"] = "La date de fin précède la date de début : vérifiez-les."
    if start and convention is not None:
        if start < convention.valid_from:
            problems["startDate"] = (f"La convention {convention.number} ne commence que le "
                                     f"{convention.valid_from:%d/%m/%Y} : la prise en charge "
                                     "ne peut pas commencer avant.")
        elif convention.valid_to and start > convention.valid_to:
            problems["startDate"] = (f"La convention {convention.number} prend fin le "
                                     f"{convention.valid_to:%d/%m/%Y} : la prise en charge "
                                     "doit commencer avant.")
    if start and beneficiary.deceased_on and start > beneficiary.deceased_on:
        problems["startDate"] = (f"Le bénéficiaire est décédé le "
                                 f"{beneficiary.deceased_on:%d/%m/%Y} : la prise en charge "
                                 "ne peut pas commencer après.")
    if problems:
        return None, problems
    return CarePlanValues(convention, hours, rate, participation, start, end), {}


def _plan_query(caisse_id: int):
    return CarePlan.filter(beneficiary__caisse_id=caisse_id)


async def list_care_plans(actor: User | None, *, beneficiary_id: int | None = None,
                          partner_id: int | None = None, convention_id: int | None = None,
                          offset: int = 0, limit: int = 20) -> Page:
    """The caisse's care plans, filtered by beneficiary, partner or convention; the most
    recent start first."""
    caisse_id = caisse_of(actor)
    query = _plan_query(caisse_id)
    if beneficiary_id is not None:
        query = query.filter(beneficiary_id=beneficiary_id)
    if partner_id is not None:
        query = query.filter(partner_id=partner_id)
    if convention_id is not None:
        query = query.filter(convention_id=convention_id)
    total = await query.count()
    rows = await query.select_related("beneficiary", "convention", "partner") \
        .order_by("-start_date", "-id").offset(offset).limit(limit)
    return Page(rows, total)


async def get_care_plan(actor: User | None, plan_id: int) -> CarePlan | None:
    """One care plan of the actor's caisse, or None."""
    caisse_id = caisse_of(actor)
    return await _plan_query(caisse_id).filter(id=plan_id) \
        .select_related("beneficiary", "convention", "partner").first()


def _duplicate_plan(values: CarePlanValues) -> ServiceError:
    return ServiceError(
        f"Ce bénéficiaire a déjà une prise en charge sur la convention "
        f"{values.convention.number} commençant le {values.start_date:%d/%m/%Y} : "
        "modifiez-la plutôt que d'en créer une seconde.", field="startDate",
        code=ErrorCode.ALREADY_EXISTS)


async def _plan_taken(beneficiary_id: int, values: CarePlanValues, other_than: int | None,
                      connection) -> bool:
    query = CarePlan.filter(beneficiary_id=beneficiary_id, convention_id=values.convention.id,
                            start_date=values.start_date)
    if other_than is not None:
        query = query.exclude(id=other_than)
    return await query.using_db(connection).exists()


def _plan_fields(values: CarePlanValues) -> dict[str, Any]:
    return {"convention_id": values.convention.id, "partner_id": values.convention.partner_id,
            "hours_per_month": values.hours_per_month, "hourly_rate": values.hourly_rate,
            "participation": values.participation, "start_date": values.start_date,
            "end_date": values.end_date}


def _plan_snapshot(plan: CarePlan) -> dict[str, str]:
    return {"convention_id": str(plan.convention_id), "hours_per_month": str(plan.hours_per_month),
            "hourly_rate": str(plan.hourly_rate), "participation": str(plan.participation),
            "start_date": str(plan.start_date), "end_date": str(plan.end_date or "")}


async def create_care_plan(actor: User | None, beneficiary_id: int, data: CarePlanInput, *,
                           now: datetime, ip: str = "") -> CarePlan:
    """Add a care plan (not yet notified) to a beneficiary of the caisse."""
    caisse_id = caisse_of(actor)
    async with _unique(_plan_taken_meanwhile()), in_transaction() as connection:
        beneficiary = await Beneficiary.filter(id=beneficiary_id, caisse_id=caisse_id) \
            .using_db(connection).first()
        if beneficiary is None:
            raise NotFound(BENEFICIARY_NOT_FOUND)
        values, problems = await check_care_plan(caisse_id, beneficiary, data,
                                                 connection=connection)
        if problems:
            raise FieldsRefused("La prise en charge n'est pas enregistrée", problems)
        if await _plan_taken(beneficiary.id, values, None, connection):
            raise _duplicate_plan(values)
        plan = await CarePlan.create(beneficiary_id=beneficiary.id, using_db=connection,
                                     **_plan_fields(values))
        await audit.record("care_plan_created", actor=actor, object_type="care_plan",
                           object_id=plan.id, ip=ip, **_plan_snapshot(plan))
    return await get_care_plan(actor, plan.id)


async def _own_plan_locked(caisse_id: int, plan_id: int, connection) -> CarePlan:
    plan = await _locked(_plan_query(caisse_id).filter(id=plan_id), connection)
    if plan is None:
        raise NotFound(PLAN_NOT_FOUND)
    return plan


async def update_care_plan(actor: User | None, plan_id: int, data: CarePlanInput, *,
                           now: datetime, ip: str = "") -> CarePlan:
    """Correct a care plan of the caisse that is not notified yet."""
    caisse_id = caisse_of(actor)
    async with _unique(_plan_taken_meanwhile()), in_transaction() as connection:
        plan = await _own_plan_locked(caisse_id, plan_id, connection)
        if plan.notified_at is not None:
            raise ServiceError("La prise en charge est déjà notifiée : elle ne se modifie "
                               "plus. Clôturez-la et créez-en une nouvelle.",
                               code=ErrorCode.PLAN_NOTIFIED)
        beneficiary = await Beneficiary.get(id=plan.beneficiary_id).using_db(connection)
        values, problems = await check_care_plan(caisse_id, beneficiary, data,
                                                 connection=connection)
        if problems:
            raise FieldsRefused("La prise en charge n'est pas modifiée", problems)
        if await _plan_taken(beneficiary.id, values, plan.id, connection):
            raise _duplicate_plan(values)
        before = _plan_snapshot(plan)
        for name, value in _plan_fields(values).items():
            setattr(plan, name, value)
        await plan.save(using_db=connection)
        await audit.record("care_plan_updated", actor=actor, object_type="care_plan",
                           object_id=plan.id, ip=ip, before=before, after=_plan_snapshot(plan))
    return await get_care_plan(actor, plan.id)


async def notify_care_plan(actor: User | None, plan_id: int, *, now: datetime,
                           ip: str = "") -> CarePlan:
    """Notify a plan: from now on it is offered on the partner's forms and in file checks."""
    caisse_id = caisse_of(actor)
    async with in_transaction() as connection:
        plan = await _own_plan_locked(caisse_id, plan_id, connection)
        if plan.notified_at is not None:
            raise ServiceError("La prise en charge est déjà notifiée.",
                               code=ErrorCode.ALREADY_DONE)
        if plan.closed_at is not None:
            raise ServiceError("La prise en charge est clôturée : elle ne se notifie plus.",
                               code=ErrorCode.ALREADY_DONE)
        convention = await Convention.get(id=plan.convention_id).using_db(connection)
        if convention.status != ConventionStatus.ACTIVE:
            raise ServiceError(f"La convention {convention.number} n'est pas active : "
                               "reprenez-la avant de notifier la prise en charge.",
                               code=ErrorCode.CONVENTION_NOT_ACTIVE)
        plan.notified_at = now
        await plan.save(using_db=connection, update_fields=["notified_at"])
        await audit.record("care_plan_notified", actor=actor, object_type="care_plan",
                           object_id=plan.id, ip=ip)
    return await get_care_plan(actor, plan.id)


async def close_care_plan(actor: User | None, plan_id: int, end_date: str = "", *,
                          now: datetime, ip: str = "") -> CarePlan:
    """Close a plan: `closed_at` is now, and the end date the one given (default: today in
    Paris), never after the end date it had."""
    caisse_id = caisse_of(actor)
    today = paris_date(now)
    problems: dict[str, str] = {}
    end = _date_field({"endDate": end_date}, "endDate", "la date de fin", problems,
                      required=False) or (today if not problems else None)
    async with in_transaction() as connection:
        plan = await _own_plan_locked(caisse_id, plan_id, connection)
        if plan.closed_at is not None:
            raise ServiceError("La prise en charge est déjà clôturée.",
                               code=ErrorCode.ALREADY_DONE)
        if end is not None and end < plan.start_date:
            problems["endDate"] = (f"La date de fin précède le début de la prise en charge "
                                   f"({plan.start_date:%d/%m/%Y}) : vérifiez-la.")
        if problems:
            raise FieldsRefused("La prise en charge n'est pas clôturée", problems)
        if plan.end_date is None or end < plan.end_date:
            plan.end_date = end
        plan.closed_at = now
        await plan.save(using_db=connection, update_fields=["end_date", "closed_at"])
        await audit.record("care_plan_closed", actor=actor, object_type="care_plan",
                           object_id=plan.id, ip=ip, end_date=str(plan.end_date))
    return await get_care_plan(actor, plan.id)


# --------------------------------------------------------------------------- CSV import

CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "refused"


@dataclass(frozen=True)
class ImportRow:
    """One data row of an import: its line number in the file (the header is line 1)."""

    number: int
    status: str
    file_number: str = ""
    reason: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)


class ImportRefused(ServiceError):
    """The file as a whole cannot be read (size, type, encoding, header)."""

    default_code = ErrorCode.IMPORT_REFUSED


def _read_rows(source: BinaryIO, name: str, max_bytes: int) -> list[tuple[int, dict[str, str]]]:
    if name and not name.lower().endswith((".csv", ".txt")):
        raise ImportRefused("Le fichier doit être au format CSV (extension .csv), séparateur "
                            "« ; » : téléchargez le modèle.", field="file")
    raw = source.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ImportRefused(f"Le fichier dépasse {max_bytes // 1024} Kio : découpez-le en "
                            "plusieurs fichiers.", field="file")
    if b"\x00" in raw:
        raise ImportRefused("Ce fichier n'est pas un fichier texte CSV : enregistrez-le au "
                            "format « CSV UTF-8 (séparateur ; ) ».", field="file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("Le fichier n'est pas encodé en UTF-8 : enregistrez-le au format "
                            "« CSV UTF-8 (séparateur ; ) ».", field="file") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRefused("Le fichier est vide : il faut la ligne d'en-tête du modèle "
                                "puis une ligne par bénéficiaire.", field="file")
        columns = [c.strip().lower() for c in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ImportRefused(
                "La première ligne doit être l'en-tête du modèle (colonnes séparées par "
                f"« ; ») ; il manque : {', '.join(missing)}.", field="file")
        rows = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= IMPORT_MAX_ROWS:
                cap = f"{IMPORT_MAX_ROWS:,}".replace(",", "\u202f")
                raise ImportRefused(f"Le fichier dépasse {cap} lignes de données : découpez-le "
                                    "en plusieurs fichiers et importez-les l'un après l'autre.",
                                    field="file")
            values = {col: (cells[i].strip() if i < len(cells) else "")
                      for i, col in enumerate(columns) if col}
            rows.append((reader.line_num, values))
    except csv.Error as error:
        raise ImportRefused(f"Le fichier CSV est mal formé (ligne {reader.line_num}) : "
                            "vérifiez les guillemets.", field="file") from error
    return rows


_LABELS = {"fileNumber": "numero_dossier", "lastName": "nom", "firstName": "prenom",
           "birthDate": "date_naissance", "deceasedOn": "date_deces",
           "conventionId": "convention", "hoursPerMonth": "heures_mensuelles",
           "hourlyRate": "taux_horaire", "participation": "participation",
           "startDate": "date_debut", "endDate": "date_fin"}


def _reasons(problems: dict[str, str]) -> str:
    return " ".join(f"{_LABELS.get(name, name)} : {message}" for name, message in problems.items())


class _RowRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _import_row(actor: User, caisse_id: int, values: dict[str, str], today: date,
                      now: datetime, ip: str) -> str:
    beneficiary_data = BeneficiaryInput(
        file_number=values.get("numero_dossier", ""), last_name=values.get("nom", ""),
        first_name=values.get("prenom", ""), birth_date=values.get("date_naissance", ""),
        deceased_on=values.get("date_deces", ""))
    checked, problems = check_beneficiary(beneficiary_data, today)
    if problems:
        raise _RowRefused(_reasons(problems))
    plan_columns = ("convention", "heures_mensuelles", "taux_horaire", "participation",
                    "date_debut", "date_fin")
    wants_plan = any(values.get(c) for c in plan_columns)
    statuses = []
    async with in_transaction() as connection:
        row = await _locked(Beneficiary.filter(caisse_id=caisse_id,
                                               file_number=checked.file_number), connection)
        if row is None:
            row = await Beneficiary.create(caisse_id=caisse_id, using_db=connection,
                                           **checked.__dict__)
            await audit.record("beneficiary_created", actor=actor, object_type="beneficiary",
                               object_id=row.id, ip=ip, file_number=row.file_number,
                               source="import")
            statuses.append(CREATED)
        else:
            before = _beneficiary_snapshot(row)
            for name, value in checked.__dict__.items():
                # An empty or absent date cell says nothing: the stored date stays (a death
                # date is cleared only on the beneficiary's page, where it is audited).
                if name in KEPT_WHEN_EMPTY and value is None:
                    continue
                setattr(row, name, value)
            if row.birth_date and row.deceased_on and row.deceased_on < row.birth_date:
                raise _RowRefused(
                    f"date_deces : la date de décès enregistrée "
                    f"({row.deceased_on:%d/%m/%Y}) précède la date de naissance du fichier : "
                    "vérifiez-les.")
            if _beneficiary_snapshot(row) != before:
                await row.save(using_db=connection)
                await audit.record("beneficiary_updated", actor=actor,
                                   object_type="beneficiary", object_id=row.id, ip=ip,
                                   before=before, after=_beneficiary_snapshot(row),
                                   source="import")
                statuses.append(UPDATED)
            else:
                statuses.append(UNCHANGED)
        if wants_plan:
            data = CarePlanInput(
                convention=values.get("convention", ""),
                hours_per_month=values.get("heures_mensuelles", ""),
                hourly_rate=values.get("taux_horaire", ""),
                participation=values.get("participation", ""),
                start_date=values.get("date_debut", ""), end_date=values.get("date_fin", ""))
            plan_values, problems = await check_care_plan(caisse_id, row, data, by_number=True,
                                                          connection=connection)
            if problems:
                raise _RowRefused(_reasons(problems))
            plan = await _locked(CarePlan.filter(
                beneficiary_id=row.id, convention_id=plan_values.convention.id,
                start_date=plan_values.start_date), connection)
            if plan is None:
                plan = await CarePlan.create(beneficiary_id=row.id, using_db=connection,
                                             **_plan_fields(plan_values))
                await audit.record("care_plan_created", actor=actor, object_type="care_plan",
                                   object_id=plan.id, ip=ip, source="import",
                                   **_plan_snapshot(plan))
                statuses.append(CREATED)
            else:
                before = _plan_snapshot(plan)
                for name, value in _plan_fields(plan_values).items():
                    setattr(plan, name, value)
                if _plan_snapshot(plan) == before or _same_but_closure(plan_values, before,
                                                                         plan):
                    statuses.append(UNCHANGED)
                elif plan.notified_at is not None:
                    raise _RowRefused(
                        "La prise en charge de cette convention commençant à cette date est "
                        "déjà notifiée : elle ne se modifie plus par import (clôturez-la et "
                        "créez-en une nouvelle, avec une autre date de début).")
                else:
                    await plan.save(using_db=connection)
                    await audit.record("care_plan_updated", actor=actor,
                                       object_type="care_plan", object_id=plan.id, ip=ip,
                                       before=before, after=_plan_snapshot(plan),
                                       source="import")
                    statuses.append(UPDATED)
    if CREATED in statuses:
        return CREATED
    return UPDATED if UPDATED in statuses else UNCHANGED


def _same_but_closure(values: CarePlanValues, before: dict[str, str], plan: CarePlan) -> bool:
    """A closed plan's row equal to the plan except for the end date the closure moved: the
    closure set an end date on or before the one the plan had (or none), so the file's end
    date, empty or not before the stored one, is the plan as it was imported."""
    if plan.closed_at is None or not before["end_date"]:
        return False
    stored_end = date.fromisoformat(before["end_date"])
    if values.end_date is not None and values.end_date < stored_end:
        return False
    after = _plan_snapshot(plan)
    return {k: v for k, v in after.items() if k != "end_date"} == \
        {k: v for k, v in before.items() if k != "end_date"}


async def import_csv(actor: User | None, source: BinaryIO, name: str, *, now: datetime,
                     max_bytes: int, ip: str = "") -> ImportReport:
    """Import beneficiaries and care plans from the CSV template, one transaction per row:
    a refused row is reported and never stops the others; importing the same file again
    changes nothing (natural keys: dossier number; beneficiary + convention + start date).
    Imported plans are not notified: the agent notifies them on the beneficiary's page."""
    caisse_id = caisse_of(actor)
    rows = _read_rows(source, name, max_bytes)
    if not rows:
        raise ImportRefused("Le fichier n'a aucune ligne de données après l'en-tête.",
                            field="file")
    today = paris_date(now)
    report = ImportReport()
    for number, values in rows:
        file_number = re.sub(r"\s", "", values.get("numero_dossier", ""))[:10]
        try:
            status = await _import_row(actor, caisse_id, values, today, now, ip)
        except _RowRefused as refusal:
            report.rows.append(ImportRow(number, REFUSED, file_number, refusal.reason))
        except IntegrityError:  # the same key written meanwhile by another import
            report.rows.append(ImportRow(number, REFUSED, file_number,
                                         "Ligne écrite en même temps par un autre import : "
                                         "importez à nouveau le fichier."))
        else:
            report.rows.append(ImportRow(number, status, file_number))
    await audit.record("beneficiaries_imported", actor=actor, object_type="caisse",
                       object_id=caisse_id, ip=ip, file_name=name[:200],
                       rows=len(report.rows), refused=report.count(REFUSED))
    return report
