"""GraphQL types of « Contact »."""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

import strawberry

from ppas.models import Caisse, ContactMessage
from ppas.schema.errors import ContactErrorCode, UserError, feature_code
from ppas.services.contact import ContactForm
from ppas.services.errors import ServiceError


@strawberry.type(description="L'assistance d'une caisse : où et quand la joindre.")
class AssistanceDesk:
    caisse_code: str
    caisse_name: str
    phone: str
    hours: str = strawberry.field(description="Jours et heures d'ouverture, en clair.")
    address: str

    @classmethod
    def from_model(cls, caisse: Caisse) -> AssistanceDesk:
        return cls(caisse_code=caisse.code, caisse_name=caisse.name,
                   phone=caisse.assistance_phone, hours=caisse.assistance_hours,
                   address=caisse.assistance_address)


@strawberry.input(description="Un message à l'assistance de la caisse.")
class ContactMessageInput:
    caisse_code: str = strawberry.field(
        default="", description="Code de la caisse (2 chiffres) ; ignoré pour un partenaire "
                                "connecté, qui écrit à sa caisse.")
    name: str
    email: str
    subject: str
    message: str

    def to_form(self) -> ContactForm:
        return ContactForm(caisse_code=self.caisse_code, name=self.name, email=self.email,
                           subject=self.subject, message=self.message)


@strawberry.type(description="Un champ à corriger.")
class ContactFieldProblem:
    field: str
    message: str


@strawberry.type(description="Message enregistré, transmis à l'assistance ; un accusé de "
                             "réception part vers l'expéditeur.")
class SendContactMessageSuccess:
    message: str
    reference: str = strawberry.field(description="Numéro du message, à rappeler en cas de relance.")


@strawberry.type(description="Message non envoyé : chaque problème dit quoi corriger.")
class SendContactMessageError(UserError):
    code_enum = ContactErrorCode
    code: ContactErrorCode = strawberry.field(description="Code stable du refus.")
    problems: list[ContactFieldProblem] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> SendContactMessageError:
        problems = getattr(error, "problems", None) or {}
        return cls(code=feature_code(error.code, ContactErrorCode), message=error.message,
                   field=error.field,
                   problems=[ContactFieldProblem(field=name, message=text)
                             for name, text in problems.items()])


SendContactMessageResult = Annotated[
    SendContactMessageSuccess | SendContactMessageError,
    strawberry.union("SendContactMessageResult"),
]


@strawberry.type(description="Un message reçu par l'assistance de la caisse.")
class ReceivedContactMessage:
    id: strawberry.ID
    received_at: datetime
    sender_name: str
    sender_email: str
    structure_id: str = strawberry.field(description="Vide si l'expéditeur n'était pas connecté.")
    subject: str
    body: str
    attachment_name: str = strawberry.field(description="Vide sans pièce jointe.")
    attachment_size: int

    @classmethod
    def from_model(cls, row: ContactMessage) -> ReceivedContactMessage:
        return cls(id=strawberry.ID(str(row.id)), received_at=row.created_at,
                   sender_name=row.sender_name, sender_email=row.sender_email,
                   structure_id=row.structure_id, subject=row.subject, body=row.body,
                   attachment_name=row.attachment_name, attachment_size=row.attachment_size)


@strawberry.type(description="La pièce jointe d'un message, encodée en base 64.")
class ContactAttachment:
    name: str
    content_type: str
    content_base64: str

    @classmethod
    def from_model(cls, row: ContactMessage) -> ContactAttachment:
        return cls(name=row.attachment_name, content_type=row.attachment_type,
                   content_base64=base64.b64encode(row.attachment or b"").decode())
