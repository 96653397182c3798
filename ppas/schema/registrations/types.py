"""GraphQL types of pre-registrations."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from ppas.schema.enums import ConventionStatus
from ppas.domain.references import registration_reference
from ppas.schema.errors import RegistrationErrorCode, UserError
from ppas.services.errors import ServiceError
from ppas.services.registration import PendingRegistration as PendingRow
from ppas.services.registration import RegistrationForm


@strawberry.input(description="Préinscription : partenaire, administrateur, adresse.")
class RegistrationInput:
    caisse_code: str = strawberry.field(description="Code de la caisse (2 chiffres).")
    convention_number: str = strawberry.field(description="Numéro de convention.")
    structure_id: str = strawberry.field(description="Identifiant structure (8 chiffres).")
    structure_name: str = strawberry.field(description="Nom de la structure.")
    last_name: str
    first_name: str
    email: str
    phone: str
    login: str = strawberry.field(description="Identifiant de l'administrateur.")
    address_line: str
    postal_code: str
    city: str
    accept_conditions: bool = strawberry.field(
        description="Les conditions générales d'utilisation sont acceptées.")

    def to_form(self) -> RegistrationForm:
        return RegistrationForm(
            caisse_code=self.caisse_code, convention_number=self.convention_number,
            structure_id=self.structure_id, structure_name=self.structure_name,
            last_name=self.last_name, first_name=self.first_name, email=self.email,
            phone=self.phone, login=self.login, address_line=self.address_line,
            postal_code=self.postal_code, city=self.city,
            accept_conditions=self.accept_conditions,
        )


@strawberry.type(description="Un champ à corriger.")
class RegistrationFieldProblem:
    field: str
    message: str


@strawberry.type(description="Préinscription enregistrée : elle attend la validation de la caisse.")
class SubmitRegistrationSuccess:
    message: str
    reference: str = strawberry.field(
        description="À rappeler à la caisse, ex. « PRE-03-000123 ».")
    processing_days: int = strawberry.field(
        description="Délai habituel de traitement par la caisse, en jours ouvrés.")
    convention_number: str
    partner_name: str
    structure_id: str
    admin_name: str
    admin_email: str
    admin_login: str
    submitted_at: datetime


@strawberry.type(description="Préinscription refusée : chaque problème dit quoi corriger.")
class SubmitRegistrationError(UserError):
    code_enum = RegistrationErrorCode
    code: RegistrationErrorCode = strawberry.field(description="Code stable du refus.")
    problems: list[RegistrationFieldProblem] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> SubmitRegistrationError:
        # A refusal of several fields lists each; a single one (captcha…) is its own problem.
        problems = getattr(error, "problems", None) or (
            {error.field: error.message} if error.field else {})
        return cls(code=RegistrationErrorCode[error.code.name], message=error.message,
                   field=error.field,
                   problems=[RegistrationFieldProblem(field=name, message=text)
                             for name, text in problems.items()])


SubmitRegistrationResult = Annotated[
    SubmitRegistrationSuccess | SubmitRegistrationError,
    strawberry.union("SubmitRegistrationResult"),
]


@strawberry.type(description="La convention que la préinscription revendique, telle que la caisse la connaît.")
class ClaimedConvention:
    number: str
    status: ConventionStatus
    prestation_code: str
    partner_name: str
    structure_id: str


@strawberry.type(description="Préinscription en attente, à comparer avec la convention.")
class PendingRegistration:
    id: strawberry.ID
    reference: str = strawberry.field(
        description="La référence donnée au partenaire à l'envoi, ex. « PRE-03-000123 ».")
    submitted_at: datetime
    convention_number: str
    structure_id: str
    partner_name: str
    admin_last_name: str
    admin_first_name: str
    admin_email: str
    admin_phone: str
    admin_login: str
    address_line: str
    postal_code: str
    city: str
    convention: ClaimedConvention | None
    mismatches: list[str] = strawberry.field(
        description="Points à vérifier : différences avec la convention, identifiant déjà pris, "
                    "autres demandes ou administrateurs existants ; vide quand tout concorde.")
    login_taken: bool

    @classmethod
    def from_row(cls, row: PendingRow) -> PendingRegistration:
        r = row.registration
        convention = None
        if row.convention is not None:
            c = row.convention
            convention = ClaimedConvention(
                number=c.number, status=ConventionStatus(c.status), prestation_code=c.prestation_code,
                partner_name=c.partner.name, structure_id=c.partner.structure_id)
        return cls(
            id=strawberry.ID(str(r.id)), reference=registration_reference(r.caisse.code, r.id),
            submitted_at=r.created_at,
            convention_number=r.convention_number, structure_id=r.structure_id,
            partner_name=r.partner_name, admin_last_name=r.admin_last_name,
            admin_first_name=r.admin_first_name, admin_email=r.admin_email,
            admin_phone=r.admin_phone, admin_login=r.admin_login,
            address_line=r.address_line, postal_code=r.postal_code, city=r.city,
            convention=convention, mismatches=list(row.mismatches), login_taken=row.login_taken,
        )


@strawberry.type(description="Préinscription validée : l'administrateur a reçu son mot de passe provisoire.")
class ValidateRegistrationSuccess:
    id: strawberry.ID
    login: str
    message: str


@strawberry.type(description="Préinscription refusée ; la raison a été envoyée par courriel.")
class RejectRegistrationSuccess:
    id: strawberry.ID
    message: str


@strawberry.type(description="Décision impossible : le message dit pourquoi.")
class RegistrationDecisionError(UserError):
    code_enum = RegistrationErrorCode
    code: RegistrationErrorCode = strawberry.field(description="Code stable du refus.")


ValidateRegistrationResult = Annotated[
    ValidateRegistrationSuccess | RegistrationDecisionError,
    strawberry.union("ValidateRegistrationResult"),
]
RejectRegistrationResult = Annotated[
    RejectRegistrationSuccess | RegistrationDecisionError,
    strawberry.union("RejectRegistrationResult"),
]
