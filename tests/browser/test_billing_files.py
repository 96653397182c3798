"""« Fichiers » in a real browser: upload with progress, report, focus, accessibility."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ppas.domain.anomalies import CATALOG
from ppas.models import BillingFile
from tests.billing_file_support import PASSWORD, billing_xml, last_month, ligne, make_provider

pytestmark = pytest.mark.browser

# Kept by `make test` for a reader of the report (var/ is not committed).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


async def sign_in(page: Page, base_url: str, login: str, password: str) -> None:
    await page.goto(base_url + "/connexion")
    await page.get_by_label("Identifiant", exact=True).fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_label("Mot de passe", exact=True).press("Enter")
    await expect(page).to_have_url(base_url + "/espace")


async def test_upload_valid_and_faulty_files_and_read_the_reports(page, live_server, db,
                                                                  assert_accessible):
    provider = await make_provider()
    await sign_in(page, live_server, provider.login, PASSWORD)
    await page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Fichiers").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fichiers de facturation")
    await assert_accessible()

    # A valid file; the request is held a moment so the progress indication can be seen.
    async def slow(route):
        await asyncio.sleep(1.0)
        await route.continue_()

    await page.route("**/fichiers/envoyer", slow)
    valid = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, provider.numbers[1])])
    await page.get_by_label("Fichier de facturation (XML)").set_input_files(
        {"name": provider.amd_name(), "mimeType": "text/xml", "buffer": valid})
    await expect(page.locator("#fichier-choisi")).to_have_text(
        f"Fichier choisi : {provider.amd_name()}")
    await page.get_by_role("button", name="Envoyer le fichier").click()
    progress = page.locator("progress#barre-envoi")
    await expect(progress).to_be_visible()
    await expect(page.get_by_label(re.compile("Envoi du fichier|Vérification en cours"))).to_be_visible()
    await expect(page.locator("#etat-envoi")).to_contain_text(
        re.compile("Envoi du fichier|Vérification en cours"))
    heading = page.locator("#titre-compte-rendu")
    await expect(heading).to_have_text(f"Compte rendu — {provider.amd_name()}")
    await expect(heading).to_be_focused()
    await expect(progress).to_be_hidden()
    await expect(page.locator("#compte-rendu")).to_contain_text(
        "2 lignes acceptées sur 2, 0 anomalie")
    await expect(page.locator("#etat-envoi")).to_contain_text("accepté")
    await expect(page.locator("#historique")).to_contain_text(provider.amd_name())
    await page.unroute("**/fichiers/envoyer")

    # A file with anomalies (another month, so another name).
    previous = last_month().previous()
    name = provider.amd_name(previous)
    faulty = billing_xml(provider, [ligne(1, provider.numbers[2], previous),
                                    ligne(2, "0999999999", previous),
                                    ligne(3, provider.numbers[3], previous, amount="1.00")],
                         name=name, echeance=str(previous))
    await page.get_by_label("Fichier de facturation (XML)").set_input_files(
        {"name": name, "mimeType": "text/xml", "buffer": faulty})
    await page.get_by_role("button", name="Envoyer le fichier").click()
    await expect(heading).to_have_text(f"Compte rendu — {name}")
    await expect(heading).to_be_focused()
    report = page.locator("#compte-rendu")
    await expect(report).to_contain_text("1 ligne acceptée sur 3, 2 anomalies")
    await expect(page.get_by_role("heading", name=f"L01 — {CATALOG['L01'].title} (1)")).to_be_visible()
    await expect(report).to_contain_text(CATALOG["L06"].what_to_do)
    await expect(report.get_by_role("link", name="Corriger et refacturer l'enregistrement 3")).to_be_visible()
    await expect(report.get_by_role("link", name=re.compile("Télécharger toutes les anomalies"))).to_be_visible()
    await assert_accessible()

    # The history links to each send's report page.
    stored = await BillingFile.get(partner_id=provider.partner.id, name=name)
    await page.locator("#historique").get_by_role("link", name=re.compile(re.escape(name))).click()
    await expect(page).to_have_url(f"{live_server}/fichiers/{stored.id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Compte rendu — {name}")
    await page.screenshot(path=str(SCREENSHOTS / "compte-rendu-de-fichier.png"))

    # Re-bill the line with the wrong amount from its report.
    await page.get_by_role("link", name="Corriger et refacturer l'enregistrement 3").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("enregistrement n° 3")
    await expect(page.get_by_label("Montant (€)")).to_have_value("1,00")
    await page.get_by_label("Montant (€)").fill("226,25")
    await page.get_by_role("button", name="Refacturer la ligne").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ligne refacturée")
    await assert_accessible()
    # The report and the history count the re-billed line as accepted, with its amount.
    await page.goto(f"{live_server}/fichiers/{stored.id}")
    await expect(page.get_by_role("main")).to_contain_text("2 lignes acceptées sur 3")
    await page.goto(f"{live_server}/fichiers")
    row = page.locator("#historique").get_by_role("row").filter(has_text=name)
    await expect(row).to_contain_text("1 ligne en anomalie sur 3")


async def test_format_documentation_page_is_accessible(page, live_server, db, assert_accessible):
    await page.goto(live_server + "/documentation")
    await page.get_by_role("link", name="Cahier des charges du fichier de facturation").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Cahier des charges du fichier de facturation")
    await expect(page.locator("#anomalie-L05")).to_contain_text("L05")
    await assert_accessible()
