"""Mutations of the evaluations: reserve, release, go offline, synchronise; the caisse's
orders and conflict decisions."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.evaluations.types import (
    ConflictDecision,
    ConflictDecisionEnum,
    EvaluationConflict,
    EvaluationConflictResult,
    EvaluationConflictSuccess,
    EvaluationInput,
    EvaluationOrder,
    EvaluationOrderInput,
    EvaluationOrderResult,
    EvaluationOrderSuccess,
    EvaluationReceipt,
    OfflinePackage,
    OfflinePackageResult,
    OfflinePackageSuccess,
)
from ppas.schema.ids import parse_id
from ppas.schema.permissions import EVALUATION_REVIEW, EVALUATOR
from ppas.services import evaluations
from ppas.services.errors import NotFound


def _key(value: strawberry.ID | None, unknown: str, field: str) -> int:
    key = parse_id(value) if value is not None else None
    if key is None:
        raise NotFound(unknown, field=field)
    return key


def _order(info: Info, row) -> EvaluationOrderSuccess:
    user = info.context.user
    return EvaluationOrderSuccess(order=EvaluationOrder.from_model(
        row, user.id if user else None, info.context.now()))


@strawberry.type
class EvaluationMutations:
    @strawberry.mutation(description="Réserver une commande ouverte (ou renouveler sa propre "
                                     "réservation) pour PPAS_RESERVATION_DAYS jours. Réservée "
                                     "par un autre : CONFLICT, le message dit qui et jusqu'à "
                                     "quand.",
                         permission_classes=EVALUATOR)
    async def reserve_evaluation_order(self, info: Info, id: strawberry.ID) -> EvaluationOrderResult:
        row = await evaluations.reserve(info.context.user,
                                        _key(id, evaluations.UNKNOWN_ORDER, "id"),
                                        info.context.now(), info.context.settings.reservation_days)
        return _order(info, row)

    @strawberry.mutation(description="Libérer sa réservation : la commande redevient ouverte.",
                         permission_classes=EVALUATOR)
    async def release_evaluation_order(self, info: Info, id: strawberry.ID) -> EvaluationOrderResult:
        row = await evaluations.release(info.context.user,
                                        _key(id, evaluations.UNKNOWN_ORDER, "id"),
                                        info.context.now())
        return _order(info, row)

    @strawberry.mutation(description="Enregistrer le mode déconnecté de ce navigateur : vos "
                                     "commandes réservées (ou celles nommées) et leurs versions. "
                                     "Les modes déconnectés précédents sont remplacés.",
                         permission_classes=EVALUATOR)
    async def generate_offline_package(self, info: Info, browser_id: str,
                                       order_ids: list[strawberry.ID] | None = None
                                       ) -> OfflinePackageResult:
        ids = None if order_ids is None else [
            _key(i, evaluations.UNKNOWN_ORDER, "orderIds") for i in order_ids]
        now = info.context.now()
        package, orders = await evaluations.generate_package(info.context.user, browser_id, ids,
                                                             now)
        package.user = info.context.user
        viewer = info.context.user.id
        return OfflinePackageSuccess(
            package=OfflinePackage.from_model(package, [o.id for o in orders]),
            orders=[EvaluationOrder.from_model(o, viewer, now) for o in orders],
            definitions_version=package.definitions_version)

    @strawberry.mutation(description="Envoyer des évaluations : un reçu par évaluation, dans "
                                     "l'ordre ; chacune est traitée à part (une mauvaise ne "
                                     "bloque pas les autres). Renouvelle vos autres réservations.",
                         permission_classes=EVALUATOR)
    async def synchronise_evaluations(self, info: Info,
                                      items: list[EvaluationInput]) -> list[EvaluationReceipt]:
        submissions = [evaluations.Submission(
            client_id=str(item.client_id), order_id=parse_id(item.order_id),
            order_version=item.order_version, answers=item.answers(),
            package_id=parse_id(item.package_id) if item.package_id is not None else None)
            for item in items]
        receipts = await evaluations.synchronise(info.context.user, submissions,
                                                 info.context.now(),
                                                 info.context.settings.reservation_days)
        return [EvaluationReceipt.of(r) for r in receipts]

    @strawberry.mutation(description="Créer une commande d'évaluation pour un bénéficiaire de la "
                                     "caisse, confiée à une structure d'évaluation.",
                         permission_classes=EVALUATION_REVIEW)
    async def create_evaluation_order(self, info: Info,
                                      input: EvaluationOrderInput) -> EvaluationOrderResult:
        beneficiary = (parse_id(input.beneficiary_id) or 0
                       if input.beneficiary_id is not None else None)
        if beneficiary is None and input.beneficiary_file_number is None:
            beneficiary = 0  # neither given: « Bénéficiaire inconnu »
        row = await evaluations.create_order(
            info.context.user, beneficiary, parse_id(input.partner_id) or 0, input.due_date,
            info.context.now(), file_number=input.beneficiary_file_number)
        return _order(info, row)

    @strawberry.mutation(description="Annuler une commande pas encore évaluée.",
                         permission_classes=EVALUATION_REVIEW)
    async def cancel_evaluation_order(self, info: Info, id: strawberry.ID) -> EvaluationOrderResult:
        row = await evaluations.cancel_order(info.context.user,
                                             _key(id, evaluations.UNKNOWN_ORDER, "id"),
                                             info.context.now())
        return _order(info, row)

    @strawberry.mutation(description="Trancher un conflit : ACCEPT (il devient l'évaluation de "
                                     "la commande) ou SET_ASIDE (gardé, écarté).",
                         permission_classes=EVALUATION_REVIEW)
    async def resolve_evaluation_conflict(self, info: Info, id: strawberry.ID,
                                          decision: ConflictDecisionEnum) -> EvaluationConflictResult:
        row = await evaluations.resolve_conflict(
            info.context.user, _key(id, evaluations.UNKNOWN_CONFLICT, "id"),
            ConflictDecision(decision) == ConflictDecision.ACCEPT, info.context.now())
        user = info.context.user
        return EvaluationConflictSuccess(conflict=EvaluationConflict.from_model(
            row, user.id if user else None, info.context.now()))
