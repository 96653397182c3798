"""Pre-registration pages, the caisse's desk and the development mail page, through the app."""
from __future__ import annotations

import html
import re
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import altcha
import httpx
import pytest

from ppas.domain.password_hashing import verify_password
from ppas.domain.typography import french_spacing
from ppas.models import (
    Convention,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    User,
)
from ppas.services.demo import DEMO_PASSWORD
from ppas.services.mail_sender import deliver_pending

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    return CSRF.search(page.text).group(1)


@pytest.fixture
def convention(fresh_convention) -> Convention:
    return fresh_convention


def fields_for(convention: Convention, **changes) -> dict[str, str]:
    fields = {
        "caisseCode": "03", "conventionNumber": convention.number,
        "structureId": convention.partner.structure_id, "structureName": convention.partner.name,
        "lastName": "GARNIER", "firstName": "Lucie",
        "email": f"lucie.{uuid.uuid4().hex[:6]}@example.org", "phone": "0491020304",
        "login": f"lgarnier{uuid.uuid4().hex[:6]}", "addressLine": "8 boulevard Baille",
        "postalCode": "13006", "city": "Marseille",
    }
    return {**fields, **changes}


async def solved_captcha(client: httpx.AsyncClient) -> str:
    """Fetch a challenge from the portal like the widget, solve it in Python."""
    response = await client.get("/inscription/captcha")
    challenge = altcha.Challenge.from_dict(response.json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


async def accept_conditions(client: httpx.AsyncClient) -> str:
    """Tick « J'accepte »; returns the CSRF token to use on the form."""
    page = await client.get("/inscription")
    response = await client.post("/inscription", data={"csrf_token": csrf_of(page),
                                                        "accepte": "oui"})
    assert response.status_code == 303 and response.headers["location"] == "/inscription/formulaire"
    form = await client.get("/inscription/formulaire")
    assert form.status_code == 200
    return csrf_of(form)


# --- conditions -------------------------------------------------------------------------


async def test_the_sign_up_link_leads_to_the_conditions_with_an_accept_box(client):
    home = await client.get("/")
    assert french_spacing('href="/inscription">Vous n\'êtes pas encore inscrit ?</a>') in home.text
    page = await client.get("/inscription")
    assert page.status_code == 200
    assert "Conditions générales d'utilisation" in page.text
    assert re.search(r'<input id="accepte" name="accepte" type="checkbox"', page.text)
    assert "J'accepte" in page.text


async def test_the_form_is_out_of_reach_until_the_conditions_are_accepted(client):
    straight = await client.get("/inscription/formulaire")
    assert straight.status_code == 303 and straight.headers["location"] == "/inscription"
    page = await client.get("/inscription")
    unticked = await client.post("/inscription", data={"csrf_token": csrf_of(page)})
    assert unticked.status_code == 400
    assert 'role="alert"' in unticked.text and "Cochez la case « J&#39;accepte »" in unticked.text
    assert 'aria-invalid="true"' in unticked.text
    assert (await client.get("/inscription/formulaire")).status_code == 303


async def test_posting_the_form_without_accepting_creates_nothing(client, convention):
    page = await client.get("/inscription")
    fields = fields_for(convention)
    response = await client.post("/inscription/formulaire", data={
        "csrf_token": csrf_of(page), **fields, "captcha": await solved_captcha(client)})
    assert response.status_code == 303 and response.headers["location"] == "/inscription"
    assert not await Registration.filter(admin_login=fields["login"]).exists()


async def test_an_acceptance_cannot_be_carried_to_another_browser(app, client):
    await accept_conditions(client)
    stolen = client.cookies.get("ppas_cgu")
    assert stolen
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await other.get("/inscription")
        other.cookies.set("ppas_cgu", stolen, path="/inscription")
        response = await other.get("/inscription/formulaire")
    assert response.status_code == 303 and response.headers["location"] == "/inscription"


async def test_the_form_has_its_four_blocks_and_the_self_hosted_widget(client):
    await accept_conditions(client)
    form = await client.get("/inscription/formulaire")
    legends = re.findall(r"<legend>([^<]+)</legend>", form.text)
    assert legends == ["Informations partenaire", "Administrateur", "Adresse",
                       "Vérification anti-robot"]
    for label in ["Code caisse", "Numéro de convention", "Identifiant structure",
                  "Nom de la structure", "Nom", "Prénom", "Adresse électronique", "Téléphone",
                  "Identifiant de connexion", "Numéro et voie", "Code postal", "Commune"]:
        assert f">{label}</label>" in form.text, label
    assert '<altcha-widget challenge="/inscription/captcha" name="captcha"' in form.text
    assert "https://" not in form.text.split("<altcha-widget")[1].split("</altcha-widget>")[0]
    script = await client.get("/static/js/altcha-setup.js")
    assert script.status_code == 200
    for path in ["/static/vendor/altcha/external/altcha.js",
                 "/static/vendor/altcha/external/altcha.css",
                 "/static/vendor/altcha/i18n/fr-fr.js",
                 "/static/vendor/altcha/workers/pbkdf2.js"]:
        assert (await client.get(path)).status_code == 200, path


async def test_the_challenge_is_signed_fresh_and_not_cached(client):
    first = await client.get("/inscription/captcha")
    second = await client.get("/inscription/captcha")
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert body["parameters"]["algorithm"] == "PBKDF2/SHA-256" and len(body["signature"]) == 64
    assert body["parameters"]["nonce"] != second.json()["parameters"]["nonce"]


# --- captcha ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "wrong", "test-mode"])
async def test_a_missing_or_wrong_captcha_is_refused_on_the_captcha(client, convention, kind):
    token = await accept_conditions(client)
    challenge = (await client.get("/inscription/captcha")).json()
    payloads = {
        "missing": "",
        "wrong": altcha.Payload(altcha.Challenge.from_dict(challenge),
                                altcha.Solution(counter=1, derived_key="ab" * 32)).to_base64(),
        # What the widget sends in its "test" mode: no challenge at all.
        "test-mode": "eyJjaGFsbGVuZ2UiOm51bGwsInNvbHV0aW9uIjpudWxsLCJ0ZXN0Ijp0cnVlfQ==",
    }
    fields = fields_for(convention)
    response = await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields, "captcha": payloads[kind]})
    assert response.status_code == 400
    assert 'id="captcha-erreur"' in response.text and "anti-robot" in response.text
    assert 'aria-describedby="captcha-erreur"' in response.text
    assert f'value="{fields["login"]}"' in response.text  # what was typed is kept
    assert not await Registration.filter(admin_login=fields["login"]).exists()


async def test_a_replayed_captcha_is_refused(client, convention):
    token = await accept_conditions(client)
    payload = await solved_captcha(client)
    first = await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields_for(convention), "captcha": payload})
    assert first.status_code == 303
    fields = fields_for(convention)
    again = await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields, "captcha": payload})
    assert again.status_code == 400
    assert "déjà servi" in again.text
    assert not await Registration.filter(admin_login=fields["login"]).exists()


async def test_wrong_fields_are_marked_and_described(client, convention):
    token = await accept_conditions(client)
    response = await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields_for(convention, login="jean-luc", postalCode="130"),
        "captcha": await solved_captcha(client)})
    assert response.status_code == 400
    assert "corrigez les 2 champs signalés" in response.text
    assert "Le caractère « - » n&#39;est pas autorisé dans l&#39;identifiant" in response.text
    login_input = re.search(r'<input id="login"[^>]*>', response.text).group(0)
    assert 'aria-invalid="true"' in login_input
    assert 'aria-describedby="login-aide login-erreur"' in login_input
    assert '<a href="#postalCode">' in response.text


async def test_an_unknown_convention_tells_to_contact_the_caisse(client, convention):
    token = await accept_conditions(client)
    response = await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields_for(convention, conventionNumber="W03-NULLE"),
        "captcha": await solved_captcha(client)})
    assert response.status_code == 400
    assert "contactez votre caisse" in response.text


# --- the whole journey -----------------------------------------------------------------


async def test_registration_then_validation_then_the_mail_arrives(app, client, convention,
                                                                  sign_in, settings, smtp_server):
    token = await accept_conditions(client)
    fields = fields_for(convention, structureName="Nom différent SAS")
    response = await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields, "captcha": await solved_captcha(client)})
    assert response.status_code == 303
    done = await client.get(response.headers["location"])
    assert "Votre préinscription est terminée" in done.text
    assert "courriel" in done.text
    registration = await Registration.get(admin_login=fields["login"])
    # The end page: a reference to quote, the usual delay, and a recap of what was sent.
    reference = f"PRE-03-{registration.id:06d}"
    text = html.unescape(re.sub(r"\s+", " ", done.text))
    assert f"sous la référence <strong>{reference}</strong>" in text
    assert f"en {settings.registration_processing_days} jours ouvrés" in text
    for value in (convention.number, "Nom différent SAS", fields["login"], fields["email"]):
        assert value in text
    # The recap travels in a cookie for the end page alone, never in an address…
    assert response.headers["location"] == "/inscription/terminee"
    assert "Path=/inscription/terminee" in response.headers["set-cookie"]
    assert "HttpOnly" in response.headers["set-cookie"]
    # …and an altered receipt shows no recap (nobody can make the page say things).
    client.cookies.set("ppas_preinscription", "x" + client.cookies["ppas_preinscription"],
                       path="/inscription/terminee")
    assert reference not in (await client.get("/inscription/terminee")).text

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as agent:
        agent_token = await sign_in(agent, "caisseagent", DEMO_PASSWORD)
        home = await agent.get("/espace")
        assert 'href="/caisse/inscriptions"' in home.text
        assert 'href="/admin/courriels"' not in home.text
        desk = await agent.get("/caisse/inscriptions")
        assert desk.status_code == 200
        block = desk.text.split(f'id="inscription-{registration.id}"')[1].split("</article>")[0]
        assert f"Référence {reference}" in block  # what the partner quotes on the phone
        assert "Nom de structure différent" in block
        assert re.search(r'<tr class="mismatch">\s*<th scope="row">Nom de la structure</th>',
                         block)
        assert convention.partner.name in block and "Nom différent SAS" in block
        validated = await agent.post(f"/caisse/inscriptions/{registration.id}/valider",
                                     data={"csrf_token": agent_token})
        assert validated.status_code == 200
        assert f"le compte « {fields['login']} » est créé" in validated.text
        assert f'id="inscription-{registration.id}"' not in validated.text

    mailbox, port = smtp_server
    smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    assert await deliver_pending(smtp, datetime.now(timezone.utc)) >= 1
    [message] = mailbox.to(fields["email"])
    assert "validée" in message["Subject"]
    body = message.get_content()
    assert f"Identifiant : {fields['login']}" in body
    temporary = body.split("Mot de passe provisoire : ")[1].split()[0]
    admin = await User.get(login=fields["login"])
    assert admin.role == Role.PARTNER_ADMIN and admin.partner_id == convention.partner_id
    assert admin.must_change_password
    assert verify_password(admin.password_hash, temporary)


async def test_the_desk_rejects_with_a_reason_only(app, client, convention, sign_in, settings):
    token = await accept_conditions(client)
    fields = fields_for(convention)
    await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields, "captcha": await solved_captcha(client)})
    registration = await Registration.get(admin_login=fields["login"])

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as agent:
        agent_token = await sign_in(agent, "caisseadmin", DEMO_PASSWORD)
        empty = await agent.post(f"/caisse/inscriptions/{registration.id}/refuser",
                                 data={"csrf_token": agent_token, "reason": ""})
        assert empty.status_code == 400
        assert "Indiquez la raison du refus" in empty.text
        textarea = re.search(rf'<textarea id="motif-{registration.id}"[^>]*>', empty.text).group(0)
        assert 'aria-invalid="true"' in textarea
        reason = "Numéro de téléphone injoignable, rappelez la caisse."
        rejected = await agent.post(f"/caisse/inscriptions/{registration.id}/refuser",
                                    data={"csrf_token": agent_token, "reason": reason})
        assert rejected.status_code == 200 and "Préinscription refusée" in rejected.text
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    mail = await OutboxMessage.filter(recipient=fields["email"]).order_by("-id").first()
    assert reason in mail.body


async def test_partners_and_visitors_do_not_get_the_desk(client, sign_in, convention):
    token = await accept_conditions(client)
    fields = fields_for(convention)
    await client.post("/inscription/formulaire", data={
        "csrf_token": token, **fields, "captcha": await solved_captcha(client)})
    registration = await Registration.get(admin_login=fields["login"])
    anonymous = await client.get("/caisse/inscriptions")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/connexion?suivant=/caisse/inscriptions"

    token = await sign_in(client, "demoadmin", DEMO_PASSWORD)
    refused = await client.get("/caisse/inscriptions")
    assert refused.status_code == 403
    assert "traitées par les agents de la caisse" in refused.text
    attempt = await client.post(f"/caisse/inscriptions/{registration.id}/valider",
                                data={"csrf_token": token})
    assert attempt.status_code == 403
    await registration.refresh_from_db()
    assert registration.status == RegistrationStatus.PENDING
    assert not await User.filter(login=fields["login"]).exists()


# --- development mail page --------------------------------------------------------------


async def test_the_mail_page_shows_the_outbox_newest_first_to_the_caisse_admin(client, sign_in,
                                                                               make_user):
    for address in ("ancien@example.org", "recent@example.org"):  # people of caisse 03
        user = await make_user()
        user.email = address
        await user.save(update_fields=["email"])
    older = await OutboxMessage.create(recipient="ancien@example.org", subject="Plus ancien",
                                       body="Premier message")
    newer = await OutboxMessage.create(recipient="recent@example.org", subject="Plus récent",
                                       body="Second message\nsur deux lignes")
    await sign_in(client, "caisseadmin", DEMO_PASSWORD)
    home = await client.get("/espace")
    assert 'href="/admin/courriels"' in home.text
    page = await client.get("/admin/courriels")
    assert page.status_code == 200
    assert page.text.index(f'id="courriel-{newer.id}"') < page.text.index(f'id="courriel-{older.id}"')
    assert "recent@example.org" in page.text and "Second message\nsur deux lignes" in page.text
    assert "pas encore envoyé" in page.text
    assert older.id < newer.id


@pytest.mark.parametrize("login", [None, "caisseagent", "demoadmin"])
async def test_the_mail_page_does_not_exist_for_others(client, sign_in, login):
    if login:
        await sign_in(client, login, DEMO_PASSWORD)
    page = await client.get("/admin/courriels")
    assert page.status_code == 404
    assert "Page introuvable" in page.text


async def test_the_mail_page_does_not_exist_outside_development(settings, db, sign_in):
    from ppas.app import create_app

    production = create_app(replace(settings, development=False), manage_database=False)
    transport = httpx.ASGITransport(app=production)
    # Outside development cookies are Secure: the client must speak https.
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        await sign_in(http, "caisseadmin", DEMO_PASSWORD)
        page = await http.get("/admin/courriels")
        home = await http.get("/espace")
    assert page.status_code == 404
    assert 'href="/admin/courriels"' not in home.text
