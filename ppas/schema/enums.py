"""The GraphQL enums of statuses, roles and anomaly codes, from the Python enums that own them.

Each GraphQL value is the upper-case name of a Python member whose value is what the database
stores (`OPEN` ↔ "open"); the web layer reads the stored value back (ppas/web/operations.py).
"""
from __future__ import annotations

from enum import Enum, StrEnum

import strawberry

from ppas.domain.anomalies import CATALOG
from ppas.domain.roles import Role
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.models.billing_form import FormStatus
from ppas.models.partner import ConventionStatus, PartnerKind

__all__ = ["AnomalyCode", "AnomalyPhase", "ConventionStatus", "FileStatus", "FormStatus",
           "LineStatus", "PartnerKind", "Role", "WorklistStatus",
           "STATUS_ENUMS"]


class WorklistStatus(StrEnum):
    """Where a month of a convention stands in « Facturation »."""

    TO_OPEN = "to_open"
    OPEN = "open"
    VALIDATED = "validated"
    PAID = "paid"


def _described(enum: type[Enum], name: str, description: str,
               values: dict[str, str]) -> type[Enum]:
    strawberry.enum(enum, name=name, description=description)
    for value in enum.__strawberry_definition__.values:
        value.description = values.get(value.name)
    return enum


RoleEnum = _described(Role, "Role", "Rôle d'un utilisateur.", {
    "PARTNER_ADMIN": "Administrateur du partenaire : utilisateurs, jetons, conventions.",
    "PARTNER_USER": "Utilisateur du partenaire : facturation.",
    "EVALUATOR": "Évaluateur d'une structure évaluatrice.",
    "CAISSE_AGENT": "Agent de la caisse.",
    "CAISSE_ADMIN": "Administrateur de la caisse."})
FormStatusEnum = _described(FormStatus, "FormStatus", "État d'un formulaire de facturation.", {
    "OPEN": "Ouvert : les lignes se modifient.",
    "VALIDATED": "Validé, en attente de paiement ; annulable le jour même.",
    "PAID": "Payé."})
WorklistStatusEnum = _described(WorklistStatus, "WorklistStatus",
                                "État d'une échéance dans la liste « Facturation ».", {
    "TO_OPEN": "Formulaire pas encore ouvert.",
    "OPEN": "Formulaire ouvert, à valider.",
    "VALIDATED": "Formulaire validé, en attente de paiement.",
    "PAID": "Formulaire payé."})
FileStatusEnum = _described(FileStatus, "FileStatus", "Sort d'un fichier de facturation déposé.", {
    "ACCEPTED": "Accepté (ses lignes peuvent avoir des anomalies).",
    "REFUSED": "Refusé en entier (anomalie F01–F08) ; son nom reste libre."})
LineStatusEnum = _described(LineStatus, "BillingLineStatus",
                            "État d'une ligne d'un fichier accepté.", {
    "ACCEPTED": "Acceptée.",
    "ANOMALY": "En anomalie (L01–L08).",
    "REBILLED": "Refacturée par le portail après correction."})
AnomalyPhaseEnum = _described(AnomalyPhase, "AnomalyPhase", "Quand une anomalie est trouvée.", {
    "BILLING": "Au dépôt du fichier (anomalie de facturation).",
    "REPORT": "À l'intégration, J+2/J+3 (anomalie de report)."})
ConventionStatusEnum = _described(ConventionStatus, "ConventionStatus", "État d'une convention.", {
    "REQUESTED": "Demandée, en attente de la caisse.",
    "ACTIVE": "En vigueur.",
    "SUSPENDED": "Suspendue.",
    "CLOSED": "Close."})
PartnerKindEnum = _described(PartnerKind, "PartnerKind", "Nature d'un partenaire.", {
    "PROVIDER": "Prestataire d'aide à domicile.",
    "EVALUATOR": "Structure évaluatrice."})

AnomalyCode = _described(
    Enum("AnomalyCode", {code: code for code in CATALOG}), "AnomalyCode",
    "Code stable d'une anomalie de facturation (F01–F08 : fichier, L01–L08 : ligne) ou de "
    "report (R01–R04).", {code: kind.heading for code, kind in CATALOG.items()})

STATUS_ENUMS: tuple[type[Enum], ...] = (RoleEnum, FormStatusEnum, WorklistStatusEnum,
                                        FileStatusEnum, LineStatusEnum, AnomalyPhaseEnum,
                                        ConventionStatusEnum,
                                        PartnerKindEnum)
