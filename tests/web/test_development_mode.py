"""Production is the default; development is said explicitly and shows each caisse its own mail."""
from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone

import httpx
import pytest

from ppas.domain.password_hashing import hash_password
from ppas.domain.periods import current_period
from ppas.models import Caisse, OutboxMessage, Partner, Registration, Role, User
from ppas.services import api_tokens, billing_forms, billing_ingest
from ppas.services.demo import DEMO_PASSWORD
from tests.billing_file_support import PASSWORD as FILE_PASSWORD
from tests.billing_file_support import billing_xml, ligne
from tests.billing_file_support import make_provider as make_file_provider
from tests.billing_form_support import PASSWORD, make_provider


@pytest.fixture(scope="module")
def production_app(settings, db):
    from ppas.app import create_app

    return create_app(replace(settings, development=False), manage_database=False)


@pytest.fixture
async def https(production_app) -> AsyncIterator[httpx.AsyncClient]:
    # Outside development cookies are Secure: the client must speak https.
    transport = httpx.ASGITransport(app=production_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


# --- production by default -------------------------------------------------------------------

def test_production_is_the_default(monkeypatch):
    from ppas.settings import Settings

    monkeypatch.delenv("PPAS_DEVELOPMENT", raising=False)
    monkeypatch.setenv("PPAS_SECRET_KEY", "k" * 40)
    settings = Settings.from_env()
    assert not settings.development and settings.secure_cookies
    assert not Settings().development
    monkeypatch.setenv("PPAS_DEVELOPMENT", "1")
    assert Settings.from_env().development


def test_the_makefile_serves_the_demo_in_development():
    from ppas.settings import ROOT

    makefile = (ROOT / "Makefile").read_text()
    assert "run demo serve migrate: export PPAS_DEVELOPMENT = 1" in makefile


async def test_production_answers_say_https_only_and_development_does_not(https, client):
    for path in ("/", "/connexion", "/page-inexistante"):
        assert (await https.get(path)).headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in (await client.get("/")).headers


# --- nothing personal in a cache -------------------------------------------------------------

async def test_every_signed_in_answer_and_download_is_no_store(https, sign_in):
    provider = await make_provider(1)
    now = datetime.now(timezone.utc)
    form = await billing_forms.open_form(provider.user, provider.convention.id,
                                         str(current_period(now).previous()), now)
    (line,) = await billing_forms.form_lines(form, 0, 10)
    await billing_forms.set_crossed_out(provider.user, line.id, True, now)
    await billing_forms.validate_form(provider.user, form.id, now)
    files = await make_file_provider()
    report = await billing_ingest.submit_file(
        files.user, io.BytesIO(billing_xml(files, [ligne(1, "0999999999")])),
        files.amd_name(), now=now, max_bytes=1 << 20)

    anonymous = await https.get("/")
    assert "no-store" not in anonymous.headers.get("cache-control", "")

    await sign_in(https, provider.login, PASSWORD)
    for path in ("/espace", "/beneficiaires", f"/facturation/{form.id}",
                 f"/facturation/{form.id}/recapitulatif.pdf", "/page-inexistante"):
        response = await https.get(path)
        assert response.headers.get("cache-control") == "no-store", path
    assert (await https.get("/static/css/ppas.css")).headers.get("cache-control") != "no-store"

    https.cookies.clear()
    await sign_in(https, files.login, FILE_PASSWORD)
    csv = await https.get(f"/fichiers/{report.file_id}/anomalies.csv")
    assert csv.status_code == 200 and csv.headers["cache-control"] == "no-store"

    token = await api_tokens.create_token(provider.user, "Cache")
    answer = await https.post("/graphql", json={"query": "{ partner { name } }"},
                              headers={"Authorization": f"Bearer {token.secret}"})
    assert answer.json()["data"]["partner"] and answer.headers["cache-control"] == "no-store"


# --- the mail page: development only, own caisse only ----------------------------------------

async def _caisse_04_with_admin() -> tuple[Caisse, User]:
    caisse, _ = await Caisse.get_or_create(code="04", defaults={"name": "Carsat Autre Région"})
    admin = await User.get_or_none(login="mailadmin04")
    if admin is None:
        admin = await User.create(login="mailadmin04", password_hash=hash_password(PASSWORD),
                                  role=Role.CAISSE_ADMIN, caisse=caisse,
                                  password_changed_at=datetime.now(timezone.utc))
    return caisse, admin


async def test_a_caisse_admin_reads_only_mail_addressed_within_the_caisse(client, sign_in):
    caisse04, _ = await _caisse_04_with_admin()
    partner04, _ = await Partner.get_or_create(caisse=caisse04, structure_id="44000002",
                                               defaults={"name": "Aide Loire"})
    await User.get_or_create(login="victime04", defaults={
        "password_hash": "-", "role": Role.PARTNER_ADMIN, "caisse": caisse04,
        "partner": partner04, "email": "Victime04@Exemple.org"})
    await Registration.create(
        caisse=caisse04, convention_number="C04-0009", structure_id="44000009",
        partner_name="Aide Loire", admin_last_name="NOUVEAU", admin_first_name="Jean",
        admin_email="inscrit04@exemple.org", admin_phone="0240000000",
        admin_login="inscrit04", address_line="1 quai", postal_code="44000", city="Nantes")
    demo03 = await User.get(login="demoadmin")
    demo03.email = "claire.03@exemple.org"
    await demo03.save(update_fields=["email"])
    # The same address in both caisses: its mail may belong to either, so neither reads it.
    await User.get_or_create(login="partage04", defaults={
        "password_hash": "-", "role": Role.PARTNER_USER, "caisse": caisse04,
        "partner": partner04, "email": "partage@exemple.org"})
    await User.get_or_create(login="partage03", defaults={
        "password_hash": "-", "role": Role.PARTNER_USER, "caisse": await Caisse.get(code="03"),
        "partner": await Partner.get(structure_id="21231300"), "email": "partage@exemple.org"})
    for recipient, subject in [("victime04@exemple.org", "Mot de passe provisoire 04"),
                               ("inscrit04@exemple.org", "Préinscription validée 04"),
                               ("claire.03@exemple.org", "Mot de passe provisoire 03"),
                               ("partage@exemple.org", "Adresse partagée"),
                               ("inconnu@exemple.org", "Adresse inconnue")]:
        await OutboxMessage.create(recipient=recipient, subject=subject, body="Secret2026x")

    csrf = await sign_in(client, "caisseadmin", DEMO_PASSWORD)  # caisse 03
    page = await client.get("/admin/courriels")
    assert "Mot de passe provisoire 03" in page.text
    for foreign in ("Mot de passe provisoire 04", "Préinscription validée 04",
                    "Adresse partagée", "Adresse inconnue"):
        assert foreign not in page.text
    answer = await client.post("/graphql", headers={"X-CSRF-Token": csrf}, json={
        "query": "{ developmentOutbox(limit: 500) { subject } }"})
    subjects = {m["subject"] for m in answer.json()["data"]["developmentOutbox"]}
    assert "Mot de passe provisoire 03" in subjects
    assert not subjects & {"Mot de passe provisoire 04", "Préinscription validée 04",
                           "Adresse partagée", "Adresse inconnue"}

    client.cookies.clear()
    await sign_in(client, "mailadmin04", PASSWORD)
    page = await client.get("/admin/courriels")
    assert "Mot de passe provisoire 04" in page.text and "Préinscription validée 04" in page.text
    assert "Mot de passe provisoire 03" not in page.text and "Adresse partagée" not in page.text


async def test_the_outbox_query_does_not_exist_outside_development(https, sign_in):
    csrf = await sign_in(https, "caisseadmin", DEMO_PASSWORD)
    answer = await https.post("/graphql", headers={"X-CSRF-Token": csrf}, json={
        "query": "{ developmentOutbox { subject } }"})
    body = answer.json()
    assert body["data"] is None and "n'existe pas" in body["errors"][0]["message"]
