"""« Contact » through the app: the desk's details, the multipart form (anonymous with the
captcha, or signed in and prefilled), its errors, and the caisse's inbox with attachments."""
from __future__ import annotations

import html
import re
import uuid

import altcha
import httpx

from ppas.models import ContactMessage, OutboxMessage
from ppas.services.demo import DEMO_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DESK = "assistance-ppas@carsat-sudest.demo.ppas.invalid"


def plain(text: str) -> str:
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")


async def solved_captcha(client: httpx.AsyncClient) -> str:
    challenge = altcha.Challenge.from_dict((await client.get("/contact/captcha")).json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def fields(**changes) -> dict[str, str]:
    return {"caisseCode": "03", "name": "Lucie GARNIER",
            "email": f"lucie.{uuid.uuid4().hex[:6]}@example.org",
            "subject": f"Question {uuid.uuid4().hex[:6]}", "message": "Où est mon bordereau ?",
            **changes}


async def test_anonymous_visitor_sees_the_desk_chooses_the_caisse_and_sends(client):
    page = await client.get("/contact")
    text = plain(page.text)
    assert "04 91 00 12 34" in text and "du lundi au vendredi" in text
    assert '<select id="caisseCode"' in page.text and "altcha-widget" in page.text
    sent = fields()
    response = await client.post("/contact", data={
        "csrf_token": CSRF.search(page.text).group(1), **sent,
        "captcha": await solved_captcha(client)})
    assert response.status_code == 303
    done = await client.get(response.headers["location"])
    row = await ContactMessage.get(subject=sent["subject"])
    assert f"Votre message n° {row.id} est" in plain(done.text)
    assert await OutboxMessage.filter(recipient=DESK, subject__contains=sent["subject"]).exists()
    assert await OutboxMessage.filter(recipient=sent["email"]).exists()


async def test_a_failed_send_lists_what_to_fix_keeps_the_text_and_marks_the_fields(client):
    page = await client.get("/contact")
    response = await client.post("/contact", data={
        "csrf_token": CSRF.search(page.text).group(1), **fields(caisseCode="", email="lucie@")})
    assert response.status_code == 400
    text = plain(response.text)
    assert "Le message n'est pas envoyé : corrigez les 3 champs signalés." in text
    assert 'id="erreurs" tabindex="-1" autofocus' in response.text
    assert "Choisissez la caisse à laquelle vous écrivez." in text
    assert "La vérification anti-robot n'est pas faite" in text
    assert 'aria-invalid="true"' in response.text and "Où est mon bordereau ?" in text
    assert '<a href="#email">' in response.text


async def test_signed_in_partner_is_prefilled_sends_an_attachment_agent_downloads_it(
        client, app, sign_in):
    token = await sign_in(client, "demouser", DEMO_PASSWORD)
    page = await client.get("/contact")
    assert 'value="Julien ARNAUD"' in page.text and 'value="demouser@demo.ppas.invalid"' in page.text
    assert "altcha-widget" not in page.text and '<select id="caisseCode"' not in page.text
    sent = fields(caisseCode="")
    response = await client.post("/contact", data={"csrf_token": token, **sent},
                                 files={"attachment": ("capture écran.png",
                                                       b"\x89PNG\r\n\x1a\n" + b"0" * 64,
                                                       "image/png")})
    assert response.status_code == 303, response.text
    row = await ContactMessage.get(subject=sent["subject"])
    assert row.structure_id == "21231300" and row.attachment_name == "capture écran.png"

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as agent:
        await sign_in(agent, "caisseagent", DEMO_PASSWORD)
        inbox = await agent.get("/caisse/messages")
        assert inbox.status_code == 200 and sent["subject"] in inbox.text
        assert f'href="/caisse/messages/{row.id}/piece-jointe"' in inbox.text
        download = await agent.get(f"/caisse/messages/{row.id}/piece-jointe")
        assert download.content.startswith(b"\x89PNG")
        assert download.headers["content-disposition"].startswith("attachment;")
    # A partner may not read the desk's inbox.
    assert (await client.get("/caisse/messages")).status_code == 403


async def test_an_attachment_of_a_refused_type_is_named_in_the_error(client, sign_in):
    token = await sign_in(client, "demouser", DEMO_PASSWORD)
    response = await client.post("/contact", data={"csrf_token": token, **fields()},
                                 files={"attachment": ("outil.exe", b"MZ", "application/octet-stream")})
    assert response.status_code == 400
    assert "Le fichier « outil.exe » n'est pas d'un type accepté" in plain(response.text)
