"""Send a message to the caisse's assistance desk."""
from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from ppas.schema.contact.types import (
    ContactMessageInput,
    SendContactMessageResult,
    SendContactMessageSuccess,
)
from ppas.schema.context import Info
from ppas.services import contact


def _read(upload: Upload | None, cap: int) -> contact.Attachment | None:
    """The uploaded file, read up to one byte over the cap (enough to refuse it)."""
    name = getattr(upload, "filename", None) or ""
    source = getattr(upload, "file", None)
    if not name or source is None:
        return None
    return contact.Attachment(name=name, content=source.read(cap + 1))


@strawberry.type
class ContactMutations:
    @strawberry.mutation(description=(
        "Écrire à l'assistance de la caisse, avec une pièce jointe facultative (requête "
        "multipart GraphQL). Sans connexion, `captcha` (preuve de travail ALTCHA) et "
        "`input.caisseCode` sont obligatoires."))
    async def send_contact_message(self, info: Info, input: ContactMessageInput,
                                   captcha: str = "",
                                   attachment: Upload | None = None) -> SendContactMessageResult:
        context = info.context
        # A refusal (ServiceError) becomes SendContactMessageError by the schema's one
        # mechanism (ppas/schema/errors.py); who may not send is a top-level FORBIDDEN.
        upload = _read(attachment, context.settings.contact_max_attachment_bytes)
        row = await contact.send_message(
            context.user, input.to_form(), captcha, upload, settings=context.settings,
            now=context.now(), ip=context.client_ip)
        return SendContactMessageSuccess(
            reference=str(row.id),
            message=(f"Votre message n° {row.id} est envoyé à l'assistance de la caisse. "
                     f"Un accusé de réception part vers {row.sender_email}."))
