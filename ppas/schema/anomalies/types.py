"""GraphQL types of « Anomalies »: a partner's anomalies, billing and report phases."""
from __future__ import annotations

import strawberry

from ppas.models.billing_file import AnomalyPhase
from ppas.schema.enums import AnomalyCode
from ppas.services.partner_anomalies import AnomalyRow


def _id(value: int | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.input(description="Filtres de la liste des anomalies (tous facultatifs).")
class AnomalyFilterInput:
    phase: AnomalyPhase | None = strawberry.field(
        default=None, description="BILLING (au dépôt) ou REPORT (à l'intégration).")
    code: AnomalyCode | None = None
    month: str | None = strawberry.field(
        default=None, description="Échéance (mois facturé) du fichier ou du formulaire, AAAA-MM.")
    file_id: strawberry.ID | None = strawberry.field(default=None,
                                                     description="Un fichier du partenaire.")
    form_id: strawberry.ID | None = strawberry.field(
        default=None, description="Un formulaire de facturation en ligne du partenaire.")


@strawberry.type(description="Une anomalie d'un fichier, d'une ligne de fichier ou d'une ligne "
                             "de formulaire du partenaire, avec le texte du catalogue.")
class PartnerAnomaly:
    id: strawberry.ID
    code: AnomalyCode
    phase: AnomalyPhase
    title: str = strawberry.field(description="Intitulé du motif.")
    message: str = strawberry.field(description="Le message de cette anomalie.")
    explanation: str
    what_to_do: str
    month: str | None = strawberry.field(description="Échéance du fichier ou du formulaire.")
    file_id: strawberry.ID | None
    file_name: str | None
    record_number: int | None = strawberry.field(
        description="n-enregistrement de la ligne du fichier ; null sinon.")
    line_id: strawberry.ID | None = strawberry.field(
        description="La ligne de fichier en cause (pour la refacturer), s'il y en a une.")
    form_id: strawberry.ID | None
    form_line_position: int | None
    beneficiary: str = strawberry.field(description="Nom et prénom du bénéficiaire, s'il est connu.")
    rebillable: bool = strawberry.field(
        description="Vrai si la ligne refusée peut être corrigée et refacturée depuis le portail "
                    "maintenant (mutation rebillBillingLine).")
    post_to_caisse: bool = strawberry.field(
        description="Vrai pour une anomalie de report ou L05 : la facture s'adresse par courrier "
                    "à la caisse, pour un traitement manuel.")
    created_at: str = strawberry.field(description="Date de l'anomalie (ISO 8601, UTC).")

    @classmethod
    def from_row(cls, row: AnomalyRow) -> PartnerAnomaly:
        return cls(
            id=strawberry.ID(str(row.id)), code=AnomalyCode[row.code],
            phase=AnomalyPhase(row.phase), title=row.title, message=row.message,
            explanation=row.explanation, what_to_do=row.what_to_do, month=row.month,
            file_id=_id(row.file_id), file_name=row.file_name, record_number=row.record_number,
            line_id=_id(row.line_id), form_id=_id(row.form_id),
            form_line_position=row.form_line_position, beneficiary=row.beneficiary,
            rebillable=row.rebillable, post_to_caisse=row.post_to_caisse,
            created_at=row.created_at.isoformat() if row.created_at else "")
