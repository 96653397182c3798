"""« Contact »: a message is stored, mailed to the caisse's desk and acknowledged in one
transaction (both mails read back from a real SMTP server); agents read only their caisse's."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timezone

import altcha
import pytest

from ppas.models import Caisse, ContactMessage, OutboxMessage, Role, User
from ppas.services import captcha, contact
from ppas.services.errors import AccessDenied, ServiceError
from ppas.services.mail_sender import deliver_pending

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
DESK = "assistance-ppas@carsat-sudest.demo.ppas.invalid"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def solved(settings) -> str:
    challenge = altcha.Challenge.from_dict(captcha.new_challenge(settings))
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def form(**changes) -> contact.ContactForm:
    values = dict(caisse_code="03", name="Lucie GARNIER",
                  email=f"lucie.{uuid.uuid4().hex[:6]}@example.org",
                  subject="Anomalie L03 sur le fichier de mars",
                  message="Bonjour,\nLa ligne 4 est refusée alors que les heures sont notifiées.")
    return contact.ContactForm(**{**values, **changes})


async def test_a_signed_in_partners_message_reaches_the_desk_and_its_acknowledgement_the_sender(
        settings, smtp_server, db):
    box, port = smtp_server
    sender = await User.get(login="demouser").select_related("caisse")
    sent = form(email=f"julien.{uuid.uuid4().hex[:6]}@example.org")
    row = await contact.send_message(sender, sent, "", contact.Attachment("capture.pdf", PDF),
                                     settings=settings, now=NOW)
    assert row.structure_id == "21231300" and row.attachment == PDF and row.sender_id == sender.id

    await deliver_pending(replace(settings, smtp_host="127.0.0.1", smtp_port=port), NOW)
    [to_desk] = [m for m in box.to(DESK) if f"n° {row.id} " in m["Subject"].replace("\u00a0", " ")]
    desk_text = to_desk.get_content()
    assert "Anomalie L03 sur le fichier de mars" in to_desk["Subject"]
    assert "La ligne 4 est refusée" in desk_text
    assert "identifiant structure 21231300" in desk_text and "capture.pdf" in desk_text
    assert f"écrivez directement à {sent.email}" in desk_text.replace("\u00a0", " ")
    [ack] = box.to(sent.email)
    assert f"n° {row.id}" in ack["Subject"]
    assert "bien arrivé à l'assistance de la caisse Carsat Sud-Est" in ack.get_content()


async def test_an_anonymous_visitor_needs_a_solved_captcha_and_a_caisse(settings, db):
    with pytest.raises(contact.ContactRefused) as refused:
        await contact.send_message(None, form(caisse_code=""), "", None, settings=settings,
                                   now=NOW)
    assert set(refused.value.problems) == {"captcha", "caisseCode"}
    assert "corrigez les 2 champs signalés" in refused.value.message

    row = await contact.send_message(None, form(), solved(settings), None, settings=settings,
                                     now=NOW)
    assert row.sender_id is None and row.structure_id == "" and row.caisse_id is not None


async def test_every_field_says_what_to_fix_and_nothing_is_stored_or_mailed(settings, db):
    before = (await ContactMessage.all().count(), await OutboxMessage.all().count())
    sender = await User.get(login="demouser")
    with pytest.raises(contact.ContactRefused) as refused:
        await contact.send_message(
            sender, form(name=" ", email="pas-une-adresse", subject="x" * 151, message=""),
            "", contact.Attachment("virus.exe", b"MZ"), settings=settings, now=NOW)
    problems = refused.value.problems
    assert set(problems) == {"name", "email", "subject", "message", "attachment"}
    assert "150 caractères au plus (il en compte 151)" in problems["subject"]
    assert "PDF, PNG, JPEG, XML, CSV ou texte (.txt)" in problems["attachment"]
    assert (await ContactMessage.all().count(), await OutboxMessage.all().count()) == before


async def test_an_attachment_over_the_cap_or_not_what_its_name_says_is_refused(settings, db):
    sender = await User.get(login="demouser")
    small = replace(settings, contact_max_attachment_bytes=1024)
    with pytest.raises(contact.ContactRefused) as too_big:
        await contact.send_message(sender, form(), "", contact.Attachment("scan.pdf", PDF * 40),
                                   settings=small, now=NOW)
    assert "dépasse la taille acceptée (1\u00a0ko)" in too_big.value.problems["attachment"]
    with pytest.raises(contact.ContactRefused) as fake:
        await contact.send_message(sender, form(), "", contact.Attachment("photo.png", PDF),
                                   settings=settings, now=NOW)
    assert "pas un vrai fichier PNG" in fake.value.problems["attachment"]


async def test_agents_read_their_own_caisses_messages_only(settings, db):
    other, _ = await Caisse.get_or_create(code="21", defaults={"name": "Carsat Bourgogne"})
    here = await contact.send_message(None, form(subject=f"Ici {uuid.uuid4().hex[:6]}"),
                                      solved(settings), contact.Attachment("note.txt", b"ok"),
                                      settings=settings, now=NOW)
    there = await contact.send_message(None, form(caisse_code="21"), solved(settings), None,
                                       settings=settings, now=NOW)
    agent = await User.get(login="caisseagent")
    rows, total = await contact.list_for_caisse(agent, 0, 500)
    ids = {r.id for r in rows}
    assert here.id in ids and there.id not in ids and total == len(rows)
    assert (await contact.attachment_for_caisse(agent, here.id)).attachment == b"ok"
    with pytest.raises(ServiceError):
        await contact.attachment_for_caisse(agent, there.id)
    with pytest.raises(AccessDenied):
        await contact.list_for_caisse(await User.get(login="demoadmin"), 0, 20)
    with pytest.raises(AccessDenied):
        await contact.list_for_caisse(None, 0, 20)
    assert other.id == there.caisse_id


async def test_agents_do_not_write_to_their_own_desk(settings, db):
    agent = await User.get(login="caisseagent")
    assert agent.role == Role.CAISSE_AGENT
    with pytest.raises(ServiceError) as refused:
        await contact.send_message(agent, form(), "", None, settings=settings, now=NOW)
    assert "Messages reçus" in refused.value.message


async def test_a_caisse_code_that_is_not_two_digits_is_a_field_to_correct(db, settings):
    """Found by the fuzz test: a long code reached a lookup that refuses it (a crash)."""
    from ppas.services.contact import ContactForm, ContactRefused, send_message

    for code in ("abc", "١٢", "2147483648"):
        form = ContactForm(name="Lucie", email="lucie@example.org", subject="Question",
                           message="Bonjour", caisse_code=code)
        with pytest.raises(ContactRefused) as refused:
            await send_message(None, form, "", None, settings=settings,
                               now=datetime.now(timezone.utc))
        assert "Aucune caisse ne porte le code" in refused.value.problems["caisseCode"]
