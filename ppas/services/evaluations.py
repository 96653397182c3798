"""Evaluation orders, their reservation, the synchronisation of evaluations and the offline
packages: one set of rules for the pages, the offline client and any GraphQL caller.

Every write is one transaction; a synchronisation runs each item in its own transaction so
that one bad item never blocks the others. The reservation is a conditional UPDATE: of two
evaluators at once exactly one row changes, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from ppas.domain import aggir, evaluation_form
from ppas.domain.periods import PARIS, paris_date
from ppas.domain.roles import CAISSE_ROLES, Role
from ppas.models import (
    Beneficiary,
    ConflictStatus,
    Evaluation,
    EvaluationConflict,
    EvaluationOrder,
    OfflinePackage,
    OrderStatus,
    Partner,
    PartnerKind,
    User,
)
from ppas.services.access import require_usable_account
from ppas.services.errors import AccessDenied, ErrorCode, FieldsRefused, NotFound, ServiceError

EVALUATORS_ONLY = "Les commandes d'évaluation sont réservées aux évaluateurs et à la caisse."
EVALUATOR_ONLY = "Seul un évaluateur réserve une commande et envoie une évaluation."
CAISSE_ONLY = "Seuls les agents de la caisse gèrent les commandes et examinent les conflits."
UNKNOWN_ORDER = "Commande d'évaluation inconnue."
UNKNOWN_CONFLICT = "Conflit inconnu."
MAX_SYNC_ITEMS = 100


# ---------------------------------------------------------------- who may see what


def _evaluator(user: User | None) -> User:
    user = require_usable_account(user)
    if user.role != Role.EVALUATOR or user.partner_id is None:
        raise AccessDenied(EVALUATOR_ONLY)
    return user


def _caisse_agent(user: User | None) -> User:
    user = require_usable_account(user)
    if user.role not in CAISSE_ROLES:
        raise AccessDenied(CAISSE_ONLY)
    return user


def _order_scope(user: User | None) -> Q:
    """The orders a user may see: their structure's (evaluator), their caisse's (agents)."""
    user = require_usable_account(user)
    if user.role == Role.EVALUATOR and user.partner_id is not None:
        return Q(partner_id=user.partner_id)
    if user.role in CAISSE_ROLES:
        return Q(beneficiary__caisse_id=user.caisse_id)
    raise AccessDenied(EVALUATORS_ONLY)


def effective_status(order: EvaluationOrder, now: datetime) -> OrderStatus:
    """A reservation past its end leaves the order open to anyone."""
    if order.status == OrderStatus.RESERVED and (order.reserved_until is None
                                                 or order.reserved_until < now):
        return OrderStatus.OPEN
    return OrderStatus(order.status)


def _open_q(now: datetime) -> Q:
    return Q(status=OrderStatus.OPEN) | Q(status=OrderStatus.RESERVED, reserved_until__lt=now)


def _held_q(now: datetime) -> Q:
    return Q(status=OrderStatus.RESERVED, reserved_until__gte=now)


class OrderFilter(StrEnum):
    """What `list_orders` shows: every order, the open ones, the caller's reservations…"""

    ALL = "all"
    OPEN = "open"
    RESERVED = "reserved"
    MINE = "mine"
    EVALUATED = "evaluated"
    CANCELLED = "cancelled"


async def list_orders(user: User | None, now: datetime, which: OrderFilter, offset: int,
                      limit: int) -> tuple[list[EvaluationOrder], int]:
    """A page of orders the user may see, soonest due first, with their beneficiary and
    holder read."""
    scope = _order_scope(user)
    if which == OrderFilter.OPEN:
        scope &= _open_q(now)
    elif which == OrderFilter.RESERVED:
        scope &= _held_q(now)
    elif which == OrderFilter.MINE:
        scope &= _held_q(now) & Q(reserved_by_id=user.id)
    elif which == OrderFilter.EVALUATED:
        scope &= Q(status=OrderStatus.EVALUATED)
    elif which == OrderFilter.CANCELLED:
        scope &= Q(status=OrderStatus.CANCELLED)
    query = EvaluationOrder.filter(scope)
    total = await query.count()
    rows = await (query.order_by("due_date", "id").offset(offset).limit(limit)
                  .select_related("beneficiary", "reserved_by"))
    return rows, total


async def get_order(user: User | None, order_id: int) -> EvaluationOrder | None:
    """One order the user may see (None otherwise), with its beneficiary and holder."""
    return await (EvaluationOrder.filter(_order_scope(user), id=order_id)
                  .select_related("beneficiary", "reserved_by").first())


# ---------------------------------------------------------------- reservation


def display_name(user: User) -> str:
    return f"{user.first_name} {user.last_name}".strip() or user.login


def paris_moment(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


async def reserve(user: User | None, order_id: int, now: datetime, days: int) -> EvaluationOrder:
    """Reserve an order for `days`: atomic. Renewing one's own reservation keeps its version;
    taking an open (or expired) order bumps it. Another holder: CONFLICT naming them."""
    user = _evaluator(user)
    until = now + timedelta(days=days)
    async with in_transaction():
        mine = await EvaluationOrder.filter(
            id=order_id, partner_id=user.partner_id, reserved_by_id=user.id,
            status=OrderStatus.RESERVED, reserved_until__gte=now,
        ).update(reserved_until=until)
        if not mine:
            taken = await EvaluationOrder.filter(
                Q(id=order_id, partner_id=user.partner_id) & _open_q(now),
            ).update(status=OrderStatus.RESERVED, reserved_by_id=user.id, reserved_at=now,
                     reserved_until=until, version=F("version") + 1)
            if not taken:
                await _refuse_reservation(user, order_id, now)
    order = await get_order(user, order_id)
    assert order is not None
    return order


async def _refuse_reservation(user: User, order_id: int, now: datetime) -> None:
    order = await (EvaluationOrder.filter(id=order_id, partner_id=user.partner_id)
                   .select_related("reserved_by").first())
    if order is None:
        raise NotFound(UNKNOWN_ORDER, field="id")
    if order.status in (OrderStatus.EVALUATED, OrderStatus.CANCELLED):
        word = "évaluée" if order.status == OrderStatus.EVALUATED else "annulée"
        raise ServiceError(f"Cette commande est déjà {word} : elle ne se réserve plus.",
                           code=ErrorCode.ORDER_CLOSED)
    holder = order.reserved_by
    raise ServiceError(
        f"Commande déjà réservée par {display_name(holder) if holder else 'un autre évaluateur'}"
        f" jusqu'au {paris_moment(order.reserved_until)} : choisissez-en une autre.",
        code=ErrorCode.CONFLICT)


async def release(user: User | None, order_id: int, now: datetime) -> EvaluationOrder:
    """Give back one's reservation: the order is open again (its version changes)."""
    user = _evaluator(user)
    async with in_transaction():
        done = await EvaluationOrder.filter(
            id=order_id, partner_id=user.partner_id, reserved_by_id=user.id,
            status=OrderStatus.RESERVED,
        ).update(status=OrderStatus.OPEN, reserved_by_id=None, reserved_at=None,
                 reserved_until=None, version=F("version") + 1)
    order = await get_order(user, order_id)
    if order is None:
        raise NotFound(UNKNOWN_ORDER, field="id")
    if not done:
        raise ServiceError("Vous ne détenez pas cette commande : rien à libérer.",
                           code=ErrorCode.NOT_RESERVED)
    return order


# ---------------------------------------------------------------- orders (caisse)


async def evaluation_structures(user: User | None) -> list[Partner]:
    """The caisse's evaluation structures that may receive orders (an active convention)."""
    agent = _caisse_agent(user)
    return await (Partner.filter(caisse_id=agent.caisse_id, kind=PartnerKind.EVALUATOR,
                                 active=True, conventions__status="active")
                  .distinct().order_by("name", "id"))


async def create_order(user: User | None, beneficiary_id: int | None, partner_id: int,
                       due_date_text: str, now: datetime, *,
                       file_number: str | None = None) -> EvaluationOrder:
    """The caisse orders an evaluation of one of its beneficiaries (by id, or by file number)
    from an evaluation structure (with an active convention)."""
    agent = _caisse_agent(user)
    problems: dict[str, str] = {}
    if beneficiary_id is None and file_number is not None:
        number = file_number.strip()
        beneficiary = await Beneficiary.filter(file_number=number,
                                               caisse_id=agent.caisse_id).first()
        if beneficiary is None:
            problems["beneficiaryFileNumber"] = (
                "Aucun bénéficiaire de votre caisse n'a ce numéro de dossier (10 chiffres)."
                if number else "Saisissez le numéro de dossier du bénéficiaire.")
    else:
        beneficiary = await Beneficiary.filter(id=beneficiary_id or 0,
                                               caisse_id=agent.caisse_id).first()
        if beneficiary is None:
            problems["beneficiaryId"] = "Bénéficiaire inconnu de votre caisse."
    partner = await Partner.filter(id=partner_id, caisse_id=agent.caisse_id,
                                   kind=PartnerKind.EVALUATOR, active=True).first()
    if partner is None or not await partner.conventions.filter(status="active").exists():
        problems["partnerId"] = ("Choisissez une structure d'évaluation de la caisse ayant "
                                 "une convention active.")
    due = evaluation_form.parse_date(due_date_text)
    if due is None:
        problems["dueDate"] = "Saisissez une date d'échéance au format JJ/MM/AAAA."
    elif due < paris_date(now):
        problems["dueDate"] = "L'échéance ne peut pas être passée."
    if problems:
        raise FieldsRefused("La commande n'est pas créée", problems)
    async with in_transaction():
        order = await EvaluationOrder.create(partner=partner, beneficiary=beneficiary,
                                             due_date=due, created_by=agent, created_at=now)
        order.reference = reference_of(order.id, now)
        await order.save(update_fields=["reference"])
    found = await get_order(agent, order.id)
    assert found is not None
    return found


def reference_of(order_id: int, now: datetime) -> str:
    """The order's reference, as the caisse and the evaluator quote it."""
    return f"EV-{paris_date(now).year}-{order_id:06d}"


async def cancel_order(user: User | None, order_id: int, now: datetime) -> EvaluationOrder:
    """The caisse cancels an order not yet evaluated."""
    agent = _caisse_agent(user)
    async with in_transaction():
        done = await EvaluationOrder.filter(
            id=order_id, beneficiary__caisse_id=agent.caisse_id,
            status__in=[OrderStatus.OPEN, OrderStatus.RESERVED],
        ).update(status=OrderStatus.CANCELLED, version=F("version") + 1)
    order = await get_order(agent, order_id)
    if order is None:
        raise NotFound(UNKNOWN_ORDER, field="id")
    if not done:
        raise ServiceError("Cette commande est déjà évaluée ou annulée.",
                           code=ErrorCode.ORDER_CLOSED)
    return order


# ---------------------------------------------------------------- synchronisation


class ReceiptStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    INVALID = "INVALID"


@dataclass
class Submission:
    """One evaluation as a client sends it (answers: field name → value as typed)."""

    client_id: str
    order_id: int | None
    order_version: int
    answers: Mapping[str, Any]
    package_id: int | None = None


@dataclass
class Receipt:
    client_id: str
    status: ReceiptStatus
    message: str
    gir: int | None = None
    problems: dict[str, str] = field(default_factory=dict)


async def synchronise(user: User | None, items: Sequence[Submission], now: datetime,
                      days: int) -> list[Receipt]:
    """One receipt per item, in order; then the evaluator's valid reservations are renewed
    and the packages named (or the current one) record this synchronisation."""
    user = _evaluator(user)
    receipts = []
    for position, item in enumerate(items):
        if position >= MAX_SYNC_ITEMS:
            receipts.append(Receipt(str(item.client_id), ReceiptStatus.INVALID,
                                    f"Au plus {MAX_SYNC_ITEMS} évaluations par envoi : "
                                    "celle-ci partira au prochain."))
            continue
        try:
            receipts.append(await _receive(user, item, now))
        except IntegrityError:
            # The same UUID arrived at the same moment by another request: it is stored now.
            receipts.append(await _receive(user, item, now))
    async with in_transaction():
        await EvaluationOrder.filter(
            reserved_by_id=user.id, status=OrderStatus.RESERVED, reserved_until__gte=now,
        ).update(reserved_until=now + timedelta(days=days))
        package_ids = {i.package_id for i in items if i.package_id is not None}
        packages = OfflinePackage.filter(user_id=user.id)
        packages = (packages.filter(id__in=package_ids) if package_ids
                    else packages.filter(superseded_at=None))
        await packages.update(last_synchronised_at=now)
    return receipts


async def _receive(user: User, item: Submission, now: datetime) -> Receipt:
    try:
        client_id = uuid.UUID(str(item.client_id))
    except ValueError:
        return Receipt(item.client_id, ReceiptStatus.INVALID,
                       "Identifiant d'évaluation (clientId) illisible : un UUID est attendu.",
                       problems={"clientId": "UUID attendu."})
    order = None
    if item.order_id is not None:
        order = await EvaluationOrder.filter(id=item.order_id,
                                             partner_id=user.partner_id).first()
    if order is None:
        return Receipt(item.client_id, ReceiptStatus.INVALID,
                       "Commande d'évaluation inconnue de votre structure.",
                       problems={"orderId": UNKNOWN_ORDER})
    problems = evaluation_form.validate(item.answers, today=paris_date(now),
                                        order_created_on=paris_date(order.created_at))
    if problems:
        count = len(problems)
        return Receipt(item.client_id, ReceiptStatus.INVALID,
                       ("Évaluation non reçue : corrigez le champ signalé." if count == 1 else
                        f"Évaluation non reçue : corrigez les {count} champs signalés."),
                       problems=problems)
    answers = evaluation_form.normalised(item.answers)
    digest = evaluation_form.digest({"orderId": order.id, "orderVersion": item.order_version,
                                     "answers": answers})
    score = aggir.gir(evaluation_form.modalities(answers))
    async with in_transaction():
        known = await Evaluation.filter(client_id=client_id).first()
        if known is not None and known.content_digest == digest:
            return Receipt(item.client_id, ReceiptStatus.DUPLICATE,
                           "Évaluation déjà reçue : rien de nouveau.", gir=known.gir)
        kept = await EvaluationConflict.filter(client_id=client_id, content_digest=digest).first()
        if kept is not None:
            # A replay of a kept conflict (a receipt lost on the way back) creates nothing and
            # gets the same answer as the first time: the browser keeps showing the conflict.
            return Receipt(item.client_id, ReceiptStatus.CONFLICT, kept.reason, gir=kept.gir)
        if known is not None:
            reason = ("Le même identifiant a déjà été reçu avec un autre contenu : cette "
                      "version est gardée pour examen par la caisse.")
        else:
            accepted = await EvaluationOrder.filter(
                id=order.id, status=OrderStatus.RESERVED, reserved_by_id=user.id,
                reserved_until__gte=now, version=item.order_version,
            ).update(status=OrderStatus.EVALUATED, version=F("version") + 1)
            if accepted:
                await Evaluation.create(
                    order_id=order.id, evaluator_id=user.id, answers=answers, gir=score,
                    visited_on=date.fromisoformat(answers["visitDate"]), synchronised_at=now,
                    created_at=now, client_id=client_id, order_version=item.order_version,
                    content_digest=digest, package_id=await _own_package(user, item.package_id),
                )
                return Receipt(item.client_id, ReceiptStatus.ACCEPTED,
                               f"Évaluation reçue : GIR {score}.", gir=score)
            reason = await _why_not_accepted(user, order.id, item.order_version, now)
        await EvaluationConflict.create(
            client_id=client_id, order_id=order.id, evaluator_id=user.id,
            package_id=await _own_package(user, item.package_id),
            order_version=item.order_version, answers=answers, content_digest=digest, gir=score,
            visited_on=date.fromisoformat(answers["visitDate"]), reason=reason,
            received_at=now,
        )
    return Receipt(item.client_id, ReceiptStatus.CONFLICT, reason, gir=score)


async def _own_package(user: User, package_id: int | None) -> int | None:
    if package_id is None:
        return None
    return package_id if await OfflinePackage.filter(id=package_id,
                                                     user_id=user.id).exists() else None


async def _why_not_accepted(user: User, order_id: int, version: int, now: datetime) -> str:
    order = await EvaluationOrder.get(id=order_id).select_related("reserved_by")
    keep = " Elle est gardée pour examen par la caisse."
    if order.status == OrderStatus.EVALUATED:
        return "La commande est déjà évaluée." + keep
    if order.status == OrderStatus.CANCELLED:
        return "La commande a été annulée par la caisse." + keep
    if order.status == OrderStatus.RESERVED and order.reserved_by_id != user.id \
            and order.reserved_until and order.reserved_until >= now:
        return (f"La commande est maintenant réservée par {display_name(order.reserved_by)}"
                f" jusqu'au {paris_moment(order.reserved_until)}." + keep)
    if order.status != OrderStatus.RESERVED or order.reserved_by_id != user.id \
            or order.reserved_until is None or order.reserved_until < now:
        return "Votre réservation de cette commande a expiré ou a été libérée." + keep
    return (f"La commande a changé depuis la préparation du mode déconnecté (version {version}, "
            f"maintenant {order.version})." + keep)


# ---------------------------------------------------------------- received evaluations

# What a received evaluation or conflict is shown with.
_RECEIVED_RELATED = ("order", "order__beneficiary", "order__reserved_by", "evaluator")


def _received_by(user: User, model: type[Evaluation] | type[EvaluationConflict]):
    """The evaluations (or conflicts) `user` may see: their caisse's for its agents, their
    own for an evaluator; anyone else is refused."""
    if user.role in CAISSE_ROLES:
        return model.filter(order__beneficiary__caisse_id=user.caisse_id)
    if user.role == Role.EVALUATOR:
        return model.filter(evaluator_id=user.id)
    raise AccessDenied(EVALUATORS_ONLY)


async def list_evaluations(user: User | None, offset: int,
                           limit: int) -> tuple[list[Evaluation], int]:
    """Accepted evaluations: the caisse's, or the evaluator's own; latest first."""
    user = require_usable_account(user)
    query = _received_by(user, Evaluation)
    total = await query.count()
    rows = await (query.order_by("-synchronised_at", "-id").offset(offset).limit(limit)
                  .select_related(*_RECEIVED_RELATED))
    return rows, total


async def get_evaluation(user: User | None, evaluation_id: int) -> Evaluation | None:
    user = require_usable_account(user)
    query = _received_by(user, Evaluation)
    return await (query.filter(id=evaluation_id)
                  .select_related(*_RECEIVED_RELATED).first())


async def list_conflicts(user: User | None, pending_only: bool, offset: int,
                         limit: int) -> tuple[list[EvaluationConflict], int]:
    """Conflicts kept for review: the caisse's (or the evaluator's own), oldest first."""
    user = require_usable_account(user)
    query = _received_by(user, EvaluationConflict)
    if pending_only:
        query = query.filter(status=ConflictStatus.PENDING)
    total = await query.count()
    rows = await (query.order_by("received_at", "id").offset(offset).limit(limit)
                  .select_related(*_RECEIVED_RELATED))
    return rows, total


async def get_conflict(user: User | None, conflict_id: int) -> EvaluationConflict | None:
    agent = _caisse_agent(user)
    return await (EvaluationConflict.filter(id=conflict_id,
                                            order__beneficiary__caisse_id=agent.caisse_id)
                  .select_related(*_RECEIVED_RELATED).first())


async def resolve_conflict(user: User | None, conflict_id: int, accept: bool,
                           now: datetime) -> EvaluationConflict:
    """Accept a conflict (it becomes the order's evaluation, replacing any earlier one) or
    set it aside (kept). Either way it is no longer pending."""
    agent = _caisse_agent(user)
    async with in_transaction():
        conflict = await (EvaluationConflict.filter(
            id=conflict_id, order__beneficiary__caisse_id=agent.caisse_id)
            .select_for_update().first())
        if conflict is None:
            raise NotFound(UNKNOWN_CONFLICT, field="id")
        if conflict.status != ConflictStatus.PENDING:
            raise ServiceError("Ce conflit est déjà traité.", code=ErrorCode.ALREADY_DONE)
        if accept:
            values = dict(evaluator_id=conflict.evaluator_id, answers=conflict.answers,
                          gir=conflict.gir, visited_on=conflict.visited_on,
                          synchronised_at=now, order_version=conflict.order_version,
                          content_digest=conflict.content_digest,
                          package_id=conflict.package_id)
            existing = await Evaluation.filter(order_id=conflict.order_id).first()
            if existing is None:
                clash = await Evaluation.filter(client_id=conflict.client_id).exists()
                await Evaluation.create(order_id=conflict.order_id, created_at=now,
                                        client_id=None if clash else conflict.client_id,
                                        **values)
            else:
                await Evaluation.filter(id=existing.id).update(**values)
            await EvaluationOrder.filter(id=conflict.order_id).update(
                status=OrderStatus.EVALUATED, version=F("version") + 1)
        conflict.status = ConflictStatus.ACCEPTED if accept else ConflictStatus.SET_ASIDE
        conflict.resolved_by_id = agent.id
        conflict.resolved_at = now
        await conflict.save(update_fields=["status", "resolved_by_id", "resolved_at"])
    found = await get_conflict(agent, conflict_id)
    assert found is not None
    return found


# ---------------------------------------------------------------- offline packages


async def generate_package(user: User | None, browser_id: str, order_ids: Sequence[int] | None,
                           now: datetime) -> tuple[OfflinePackage, list[EvaluationOrder]]:
    """Record the orders a browser takes offline (the evaluator's valid reservations, or
    those of them named); the user's earlier packages are superseded."""
    user = _evaluator(user)
    browser_id = (browser_id or "").strip()
    if not browser_id or len(browser_id) > 64:
        raise ServiceError("Identifiant de navigateur manquant ou trop long (64 caractères "
                           "au plus).", field="browserId")
    held = EvaluationOrder.filter(_held_q(now), reserved_by_id=user.id,
                                  partner_id=user.partner_id)
    if order_ids is not None:
        wanted = set(order_ids)
        held = held.filter(id__in=wanted)
    async with in_transaction():
        orders = await held.order_by("due_date", "id").select_related("beneficiary",
                                                                       "reserved_by")
        if order_ids is not None and len(orders) != len(set(order_ids)):
            raise ServiceError("Seules vos commandes réservées passent en mode déconnecté : "
                               "réservez d'abord les autres.", field="orderIds",
                               code=ErrorCode.NOT_RESERVED)
        await OfflinePackage.filter(user_id=user.id, superseded_at=None).update(
            superseded_at=now)
        package = await OfflinePackage.create(
            user_id=user.id, browser_id=browser_id, created_at=now,
            orders=[{"orderId": o.id, "version": o.version} for o in orders],
            definitions_version=evaluation_form.DEFINITIONS_VERSION)
    return package, orders


async def list_packages(user: User | None, offset: int,
                        limit: int) -> tuple[list[OfflinePackage], int]:
    """The evaluator's packages, or those of the caisse's evaluators; latest first."""
    user = require_usable_account(user)
    if user.role in CAISSE_ROLES:
        query = OfflinePackage.filter(user__caisse_id=user.caisse_id)
    elif user.role == Role.EVALUATOR:
        query = OfflinePackage.filter(user_id=user.id)
    else:
        raise AccessDenied(EVALUATORS_ONLY)
    total = await query.count()
    rows = await (query.order_by("-created_at", "-id").offset(offset).limit(limit)
                  .select_related("user"))
    return rows, total


async def unsynchronised_order_ids(packages: Sequence[OfflinePackage]) -> dict[int, list[int]]:
    """Per package: its orders that received nothing from it yet and are not evaluated — work
    that may still sit in that browser."""
    order_ids = {entry["orderId"] for p in packages for entry in p.orders}
    if not order_ids:
        return {p.id: [] for p in packages}
    evaluated = set(await EvaluationOrder.filter(id__in=order_ids, status=OrderStatus.EVALUATED)
                    .values_list("id", flat=True))
    received = set(await Evaluation.filter(order_id__in=order_ids).values_list("package_id",
                                                                                 "order_id"))
    received |= set(await EvaluationConflict.filter(order_id__in=order_ids)
                    .values_list("package_id", "order_id"))
    return {p.id: [e["orderId"] for e in p.orders
                   if e["orderId"] not in evaluated and (p.id, e["orderId"]) not in received]
            for p in packages}
