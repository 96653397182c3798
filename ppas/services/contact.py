"""« Contact »: a question sent to the caisse's assistance desk, and the desk's inbox.

A message is stored, mailed to the caisse's assistance address and acknowledged to its sender,
all three in one transaction (the mails go through the outbox). Signed-in partners write to
their own caisse; anonymous visitors choose it and prove they are not a robot (the
registration's captcha). Caisse agents read the messages of their caisse only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from ppas.domain.contact import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    attachment_problem,
    kind_of,
)
from ppas.models import Caisse, ContactMessage, User
from ppas.models.account import CAISSE_ROLES
from ppas.services import audit, captcha
from ppas.services.access import caisse_id_of, require_usable_account
from ppas.services.errors import AccessDenied, FieldsRefused, NotFound, ServiceError
from ppas.services.mail import queue_mail
from ppas.services.registration import EMAIL
from ppas.settings import Settings

NAME_MAX_LENGTH = 200
LISTED = ("id", "caisse_id", "sender_id", "sender_name", "sender_email", "structure_id", "subject",
          "body", "attachment_name", "attachment_type", "attachment_size", "created_at")
CAISSE_ONLY = "Les messages reçus par l'assistance sont réservés aux agents de la caisse."
NOT_FOUND = "Ce message n'existe pas ou n'a pas été adressé à votre caisse."
AGENTS_DO_NOT_SEND = ("Les agents de la caisse ne s'écrivent pas par ce formulaire : les messages "
                      "des partenaires sont dans « Messages reçus ».")


@dataclass(frozen=True)
class ContactForm:
    """What the sender typed (names as in the GraphQL input); `caisse_code` only when anonymous."""

    caisse_code: str = ""
    name: str = ""
    email: str = ""
    subject: str = ""
    message: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file joined to the message, read whole (its size is capped before it gets here)."""

    name: str
    content: bytes


class ContactRefused(FieldsRefused):
    """A message's fields to correct."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("Le message n'est pas envoyé", problems)


async def assistance_desks() -> list[Caisse]:
    """Every caisse with its assistance details, by code (public: shown on « Contact »)."""
    return await Caisse.all().order_by("code")


def _clean(form: ContactForm) -> ContactForm:
    return ContactForm(
        caisse_code=form.caisse_code.strip(),
        name=" ".join(form.name.split()),
        email=form.email.strip().lower(),
        subject=" ".join(form.subject.split()),
        message=form.message.strip().replace("\r\n", "\n"),
    )


def _field_problems(form: ContactForm, attachment: Attachment | None,
                    settings: Settings) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not form.name:
        problems["name"] = "Saisissez votre nom : l'assistance s'adressera à vous par ce nom."
    elif len(form.name) > NAME_MAX_LENGTH:
        problems["name"] = (f"Le nom est trop long : {NAME_MAX_LENGTH} caractères au plus "
                            f"(il en compte {len(form.name)}).")
    if not form.email:
        problems["email"] = ("Saisissez votre adresse électronique : la réponse de l'assistance "
                             "y sera envoyée.")
    elif not EMAIL.match(form.email) or len(form.email) > 200:
        problems["email"] = (f"L'adresse électronique « {form.email} » n'est pas valide : "
                             "elle doit être de la forme nom@domaine.fr.")
    if not form.subject:
        problems["subject"] = "Saisissez l'objet du message, par exemple « Anomalie L03 sur le fichier de mars »."
    elif len(form.subject) > SUBJECT_MAX_LENGTH:
        problems["subject"] = (f"L'objet est trop long : {SUBJECT_MAX_LENGTH} caractères au plus "
                               f"(il en compte {len(form.subject)}).")
    if not form.message:
        problems["message"] = "Saisissez votre message : décrivez votre question ou le problème rencontré."
    elif len(form.message) > BODY_MAX_LENGTH:
        problems["message"] = (f"Le message est trop long : {BODY_MAX_LENGTH} caractères au plus "
                               f"(il en compte {len(form.message)}). Joignez plutôt un fichier.")
    if attachment is not None:
        problem = attachment_problem(attachment.name, attachment.content,
                                     settings.contact_max_attachment_bytes)
        if problem:
            problems["attachment"] = problem
    return problems


async def _caisse_of_anonymous(code: str, problems: dict[str, str]) -> Caisse | None:
    if not code:
        problems["caisseCode"] = "Choisissez la caisse à laquelle vous écrivez."
        return None
    # A caisse code is 2 ASCII digits: anything else names no caisse (and must not reach a
    # lookup that refuses values longer than the column).
    caisse = (await Caisse.get_or_none(code=code)
              if len(code) == 2 and code.isascii() and code.isdigit() else None)
    if caisse is None:
        problems["caisseCode"] = (f"Aucune caisse ne porte le code « {code} » : choisissez "
                                  "votre caisse dans la liste.")
    return caisse


async def send_message(user: User | None, form: ContactForm, captcha_payload: str,
                       attachment: Attachment | None, *, settings: Settings, now: datetime,
                       ip: str = "") -> ContactMessage:
    """Store the message, mail it to the desk and acknowledge it, or raise ServiceError.

    For an anonymous sender the captcha is spent even when fields must be corrected, as for
    the registration: every attempt costs a new proof of work.
    """
    if user is not None:
        user = require_usable_account(user)
        if user.role in CAISSE_ROLES:
            raise AccessDenied(AGENTS_DO_NOT_SEND)  # who asks, not what: FORBIDDEN
    form = _clean(form)
    problems: dict[str, str] = {}
    stored: ContactMessage | None = None
    async with in_transaction():
        if user is None:
            try:
                await captcha.consume(settings, captcha_payload, ip=ip)
            except ServiceError as refused:
                problems["captcha"] = refused.message
            caisse = await _caisse_of_anonymous(form.caisse_code, problems)
        else:
            caisse = await Caisse.get(id=user.caisse_id)
        problems.update(_field_problems(form, attachment, settings))
        if not problems and caisse is not None:
            partner = await user.partner if user is not None and user.partner_id else None
            kind = kind_of(attachment.name) if attachment is not None else None
            stored = await ContactMessage.create(
                caisse=caisse, sender=user, sender_name=form.name, sender_email=form.email,
                structure_id=partner.structure_id if partner else "",
                subject=form.subject, body=form.message,
                attachment_name=attachment.name if attachment else "",
                attachment_type=kind.media_type if kind else "",
                attachment_size=len(attachment.content) if attachment else 0,
                attachment=attachment.content if attachment else None,
            )
            context = dict(message=stored, caisse=caisse, partner=partner, sender=user,
                           inbox_url=settings.public_url.rstrip("/") + "/caisse/messages")
            if caisse.assistance_email:
                await queue_mail(caisse.assistance_email, "contact_received", **context)
            await queue_mail(form.email, "contact_acknowledged", **context)
            await audit.record("contact_message_sent", actor=user, object_type="contact_message",
                               object_id=stored.id, ip=ip, caisse=caisse.code)
    if stored is None:
        # Leaving the block above committed the captcha's use; now report what to fix.
        raise ContactRefused(problems)
    return stored


async def list_for_caisse(user: User | None, offset: int, limit: int
                          ) -> tuple[list[ContactMessage], int]:
    """The messages of the agent's caisse, newest first, one window of them and the total."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    query = ContactMessage.filter(caisse_id=caisse_id)
    total = await query.count()
    # The attachments stay in the database: the list only names them.
    rows = await query.order_by("-created_at", "-id").offset(offset).limit(limit).only(*LISTED)
    return rows, total


async def attachment_for_caisse(user: User | None, message_id: int | str) -> ContactMessage:
    """One message of the agent's caisse with its attachment, or ServiceError."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    key = int(message_id) if str(message_id).isdigit() else 0
    row = await ContactMessage.get_or_none(id=key, caisse_id=caisse_id)
    if row is None or not row.attachment_name:
        raise NotFound(NOT_FOUND)
    return row
