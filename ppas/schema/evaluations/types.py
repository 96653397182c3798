"""GraphQL types of the evaluations: orders, receipts, received evaluations, conflicts and
offline packages."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import strawberry

from ppas.domain import evaluation_form
from ppas.models import ConflictStatus, OrderStatus
from ppas.schema.errors import EvaluationErrorCode, UserError, feature_code
from ppas.schema.extensions.document_cost import cost
from ppas.services import evaluations
from ppas.services.errors import ServiceError

OrderStatusEnum = strawberry.enum(OrderStatus, name="EvaluationOrderStatus",
                                  description="Où en est une commande d'évaluation.")
OrderFilterEnum = strawberry.enum(evaluations.OrderFilter, name="EvaluationOrderFilter",
                                  description="Quelles commandes lister (MINE : vos "
                                              "réservations en cours).")
ReceiptStatusEnum = strawberry.enum(evaluations.ReceiptStatus, name="ReceiptStatus",
                                    description="Le sort d'une évaluation synchronisée.")
ConflictStatusEnum = strawberry.enum(ConflictStatus, name="EvaluationConflictStatus",
                                     description="Où en est l'examen d'un conflit.")


class ConflictDecision(StrEnum):
    ACCEPT = "accept"
    SET_ASIDE = "set_aside"


ConflictDecisionEnum = strawberry.enum(ConflictDecision, name="ConflictDecision",
                                       description="ACCEPT : l'évaluation devient celle de la "
                                                   "commande ; SET_ASIDE : gardée, écartée.")
_FIELD_COUNT = len(evaluation_form.FIELDS)


@strawberry.type(description="La personne à évaluer.")
class EvaluationBeneficiary:
    last_name: str
    first_name: str
    file_number: str = strawberry.field(description="Numéro de dossier à la caisse.")
    birth_date: dt.date | None
    city: str


@strawberry.type(description="Une commande d'évaluation à domicile.")
class EvaluationOrder:
    id: strawberry.ID
    reference: str
    beneficiary: EvaluationBeneficiary
    status: OrderStatusEnum = strawberry.field(
        description="Statut effectif : une réservation expirée rend la commande ouverte.")
    version: int = strawberry.field(description="Change à chaque changement d'état ; une "
                                                "évaluation la rappelle (orderVersion).")
    due_date: dt.date
    created_on: dt.date = strawberry.field(description="Jour de création (heure de Paris) : "
                                                       "la visite ne peut pas le précéder.")
    reserved_by_me: bool
    reserved_until: dt.datetime | None
    holder: str | None = strawberry.field(
        description="Qui détient la réservation, quand ce n'est pas vous.")

    @classmethod
    def from_model(cls, row: Any, viewer_id: int | None, now: dt.datetime) -> EvaluationOrder:
        status = evaluations.effective_status(row, now)
        held = status == OrderStatus.RESERVED
        mine = held and row.reserved_by_id == viewer_id
        person = row.beneficiary
        return cls(
            id=strawberry.ID(str(row.id)),
            reference=row.reference or evaluations.reference_of(row.id, row.created_at),
            beneficiary=EvaluationBeneficiary(last_name=person.last_name,
                                              first_name=person.first_name,
                                              file_number=person.file_number,
                                              birth_date=person.birth_date, city=person.city),
            status=status, version=row.version, due_date=row.due_date,
            created_on=evaluations.paris_date(row.created_at), reserved_by_me=mine,
            reserved_until=row.reserved_until if held else None,
            holder=(evaluations.display_name(row.reserved_by)
                    if held and not mine and row.reserved_by else None),
        )


@strawberry.type(description="Une structure d'évaluation de la caisse (convention active).")
class EvaluationStructure:
    id: strawberry.ID
    name: str
    structure_id: str
    city: str


@strawberry.type(description="Une réponse du formulaire, avec son libellé.")
class EvaluationAnswer:
    field: str
    label: str
    value: str = strawberry.field(description="Valeur enregistrée (liste : valeurs séparées "
                                              "par des virgules ; vide si non renseignée).")


def _answers(stored: dict) -> list[EvaluationAnswer]:
    out = []
    for f in evaluation_form.FIELDS:
        value = stored.get(f["name"])
        text = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        out.append(EvaluationAnswer(field=f["name"], label=f["label"], value=text))
    return out


@strawberry.type(description="Une évaluation reçue et acceptée.")
class ReceivedEvaluation:
    id: strawberry.ID
    client_id: strawberry.ID | None
    order: EvaluationOrder
    evaluator_name: str
    gir: int | None
    visit_date: dt.date | None
    received_at: dt.datetime | None
    answers: list[EvaluationAnswer] = strawberry.field(metadata=cost(size=_FIELD_COUNT))

    @classmethod
    def from_model(cls, row: Any, viewer_id: int | None, now: dt.datetime) -> ReceivedEvaluation:
        return cls(id=strawberry.ID(str(row.id)),
                   client_id=strawberry.ID(str(row.client_id)) if row.client_id else None,
                   order=EvaluationOrder.from_model(row.order, viewer_id, now),
                   evaluator_name=evaluations.display_name(row.evaluator), gir=row.gir,
                   visit_date=row.visited_on, received_at=row.synchronised_at,
                   answers=_answers(row.answers))


@strawberry.type(description="Une évaluation gardée pour examen : reçue trop tard, en double "
                             "avec un autre contenu, ou sur une commande qui a changé.")
class EvaluationConflict:
    id: strawberry.ID
    client_id: strawberry.ID
    order: EvaluationOrder
    evaluator_name: str
    gir: int | None
    visit_date: dt.date | None
    received_at: dt.datetime
    reason: str
    status: ConflictStatusEnum
    resolved_at: dt.datetime | None
    answers: list[EvaluationAnswer] = strawberry.field(metadata=cost(size=_FIELD_COUNT))

    @classmethod
    def from_model(cls, row: Any, viewer_id: int | None, now: dt.datetime) -> EvaluationConflict:
        return cls(id=strawberry.ID(str(row.id)), client_id=strawberry.ID(str(row.client_id)),
                   order=EvaluationOrder.from_model(row.order, viewer_id, now),
                   evaluator_name=evaluations.display_name(row.evaluator), gir=row.gir,
                   visit_date=row.visited_on, received_at=row.received_at, reason=row.reason,
                   status=ConflictStatus(row.status), resolved_at=row.resolved_at,
                   answers=_answers(row.answers))


@strawberry.type(description="Une commande emportée en mode déconnecté, à sa version.")
class PackagedOrder:
    order_id: strawberry.ID
    version: int


@strawberry.type(description="Un mode déconnecté généré sur un navigateur.")
class OfflinePackage:
    id: strawberry.ID
    browser_id: str
    holder: str = strawberry.field(description="L'évaluateur.")
    created_at: dt.datetime
    definitions_version: str
    superseded_at: dt.datetime | None = strawberry.field(
        description="Remplacé par un mode déconnecté plus récent (autre navigateur) ; null : "
                    "c'est le mode déconnecté en cours.")
    last_synchronised_at: dt.datetime | None
    orders: list[PackagedOrder] = strawberry.field(metadata=cost(size=100))
    unsynchronised_order_ids: list[strawberry.ID] = strawberry.field(
        metadata=cost(size=100),
        description="Commandes de ce paquet ni évaluées ni reçues de lui : du travail peut "
                    "encore attendre sur ce navigateur.")

    @strawberry.field(description="Vrai si ce navigateur peut encore détenir des évaluations "
                                  "non synchronisées.")
    def may_hold_unsynchronised_work(self) -> bool:
        return bool(self.unsynchronised_order_ids)

    @classmethod
    def from_model(cls, row: Any, pending: list[int]) -> OfflinePackage:
        return cls(id=strawberry.ID(str(row.id)), browser_id=row.browser_id,
                   holder=evaluations.display_name(row.user), created_at=row.created_at,
                   definitions_version=row.definitions_version, superseded_at=row.superseded_at,
                   last_synchronised_at=row.last_synchronised_at,
                   orders=[PackagedOrder(order_id=strawberry.ID(str(e["orderId"])),
                                         version=e["version"]) for e in row.orders],
                   unsynchronised_order_ids=[strawberry.ID(str(i)) for i in pending])


# ---------------------------------------------------------------- inputs and receipts


@strawberry.input(description="Une variable AGGIR et sa modalité (A, B ou C).")
class ModalityInput:
    code: str = strawberry.field(description="COH, ORI… (discriminantes) ou GES, CUI… "
                                             "(illustratives) : voir /evaluations/definitions.json.")
    modality: str


@strawberry.input(description="Une évaluation remplie (en ligne ou hors ligne), à synchroniser.")
class EvaluationInput:
    client_id: strawberry.ID = strawberry.field(
        description="UUID généré par le client : le même envoi rejoué ne crée rien.")
    order_id: strawberry.ID
    order_version: int = strawberry.field(description="La version de la commande lue au moment "
                                                      "de la réservation ou du mode déconnecté.")
    package_id: strawberry.ID | None = None
    visit_date: str | None = strawberry.field(default=None, description="AAAA-MM-JJ.")
    discriminant: list[ModalityInput] = strawberry.field(default_factory=list)
    illustrative: list[ModalityInput] = strawberry.field(default_factory=list)
    living_conditions: str | None = None
    needs: str | None = None
    recommended_hours_per_month: str | None = strawberry.field(
        default=None, description="Heures par mois, texte saisi (ex. « 12,5 »).")
    prevention_actions: list[str] = strawberry.field(default_factory=list)
    comments: str | None = None

    def answers(self) -> dict[str, Any]:
        wanted_d = {c for c, _ in evaluation_form.DISCRIMINANT}
        wanted_i = {c for c, _ in evaluation_form.ILLUSTRATIVE}
        answers: dict[str, Any] = {
            "visitDate": self.visit_date, "livingConditions": self.living_conditions,
            "needs": self.needs, "recommendedHoursPerMonth": self.recommended_hours_per_month,
            "preventionActions": list(self.prevention_actions), "comments": self.comments,
        }
        for item in self.discriminant:
            if item.code in wanted_d:
                answers[item.code] = item.modality
        for item in self.illustrative:
            if item.code in wanted_i:
                answers[item.code] = item.modality
        return answers


@strawberry.type(description="Un champ à corriger.")
class EvaluationFieldProblem:
    field: str
    message: str


@strawberry.type(description="Le sort d'une évaluation envoyée : ACCEPTED et DUPLICATE "
                             "(déjà reçue) et CONFLICT (gardée pour examen) sont sur le "
                             "serveur, le client peut effacer sa copie ; INVALID : à corriger.")
class EvaluationReceipt:
    client_id: strawberry.ID
    status: ReceiptStatusEnum
    message: str
    gir: int | None
    problems: list[EvaluationFieldProblem] = strawberry.field(metadata=cost(size=_FIELD_COUNT))

    @classmethod
    def of(cls, receipt: evaluations.Receipt) -> EvaluationReceipt:
        return cls(client_id=strawberry.ID(str(receipt.client_id)), status=receipt.status,
                   message=receipt.message, gir=receipt.gir,
                   problems=[EvaluationFieldProblem(field=k, message=v)
                             for k, v in receipt.problems.items()])


@strawberry.input(description="Une commande d'évaluation à créer (agents de la caisse).")
class EvaluationOrderInput:
    beneficiary_id: strawberry.ID | None = strawberry.field(
        default=None, description="Le bénéficiaire, ou bien `beneficiaryFileNumber`.")
    beneficiary_file_number: str | None = strawberry.field(
        default=None, description="Numéro de dossier du bénéficiaire à la caisse.")
    partner_id: strawberry.ID = strawberry.field(description="La structure d'évaluation.")
    due_date: str = strawberry.field(description="Échéance, AAAA-MM-JJ ou JJ/MM/AAAA.")


# ---------------------------------------------------------------- results


@strawberry.type(description="La commande, réservée, libérée, créée ou annulée.")
class EvaluationOrderSuccess:
    order: EvaluationOrder


@strawberry.type(description="Mode déconnecté enregistré : ses commandes et leurs versions, et "
                             "la version des définitions du formulaire.")
class OfflinePackageSuccess:
    package: OfflinePackage
    orders: list[EvaluationOrder] = strawberry.field(metadata=cost(size=100))
    definitions_version: str


@strawberry.type(description="Conflit traité.")
class EvaluationConflictSuccess:
    conflict: EvaluationConflict


@strawberry.type(description="Refus sur une commande d'évaluation, un mode déconnecté ou un "
                             "conflit.")
class EvaluationError(UserError):
    code_enum = EvaluationErrorCode
    code: EvaluationErrorCode = strawberry.field(description="Code stable du refus.")
    problems: list[EvaluationFieldProblem] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> EvaluationError:
        problems = getattr(error, "problems", None) or {}
        return cls(code=feature_code(error.code, EvaluationErrorCode), message=error.message,
                   field=error.field,
                   problems=[EvaluationFieldProblem(field=k, message=v)
                             for k, v in problems.items()])


EvaluationOrderResult = Annotated[EvaluationOrderSuccess | EvaluationError,
                                  strawberry.union("EvaluationOrderResult")]
OfflinePackageResult = Annotated[OfflinePackageSuccess | EvaluationError,
                                 strawberry.union("OfflinePackageResult")]
EvaluationConflictResult = Annotated[EvaluationConflictSuccess | EvaluationError,
                                     strawberry.union("EvaluationConflictResult")]
