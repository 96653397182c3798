"""Outgoing mail: queued in the outbox inside the caller's transaction, sent later."""
from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ppas.domain.roles import Role
from ppas.models import OutboxMessage, User
from ppas.settings import ROOT

_templates = Environment(
    loader=FileSystemLoader(ROOT / "templates" / "mail"),
    autoescape=False,  # plain-text mail
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render_mail(template: str, **context: Any) -> tuple[str, str]:
    """Subject (first line) and body (the rest) of templates/mail/<template>.txt."""
    text = _templates.get_template(f"{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


async def queue_mail(recipient: str, template: str, **context: Any) -> OutboxMessage:
    """Write the message to the outbox; call it inside the use case's transaction."""
    subject, body = render_mail(template, **context)
    return await OutboxMessage.create(recipient=recipient, subject=subject, body=body)


async def event_mail_recipients(partner_id: int) -> list[str]:
    """The addresses to tell about a partner's events (report anomalies, a slip online): its
    active administrators with an e-mail address who have not turned these messages off."""
    rows = await User.filter(partner_id=partner_id, role=Role.PARTNER_ADMIN, active=True,
                             event_mail=True).exclude(email="").order_by("id").values_list(
        "email", flat=True)
    return list(dict.fromkeys(rows))
