"""Help pages through the app: the anomaly procedure lists every code of the catalogue, the FAQ
states the rules in force, each guide is a page and a PDF whose screenshots exist."""
from __future__ import annotations

import html
import io
import re
from dataclasses import replace

import httpx
import pytest
from pypdf import PdfReader

from ppas.app import create_app
from ppas.domain.anomalies import CATALOG
from ppas.settings import ROOT
from ppas.web.help_pages import GUIDES

IMAGE = re.compile(r'<img src="/static/guides/([a-z0-9-]+\.png)"')


def flat(markup: str) -> str:
    """The page's text with its tags dropped and French spaces made plain."""
    text = re.sub(r"<[^>]+>", " ", markup)
    text = html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(text.split())


async def test_the_anomaly_procedure_shows_every_code_with_what_to_do_and_rebilling(client):
    page = await client.get("/documentation/anomalies")
    assert page.status_code == 200
    text = flat(page.text)
    for code, kind in CATALOG.items():
        assert f'id="anomalie-{code}"' in page.text, code
        assert flat(kind.what_to_do) in text, code
    row = lambda code: flat(re.search(rf'id="anomalie-{code}".*?</tr>', page.text, re.S).group(0))  # noqa: E731
    assert row("L03").endswith("Oui, depuis le portail.")
    assert row("L05").endswith("Non.") and row("R02").endswith("Non.")
    assert row("F03").endswith("Sans objet : renvoyez le fichier corrigé.")


async def test_the_faq_states_the_password_rules_of_the_policy_in_force(settings, db):
    for policy, expected in [("legacy", ["De 8 à 12 caractères, dont au moins un chiffre",
                                         "< > / ! # { } ; |", "différent des 3 derniers",
                                         "valable 6 mois", "3 connexions restent possibles",
                                         "Après 3 essais manqués"]),
                             ("nist", ["De 12 à 128 caractères ; différent du précédent. Il n'expire pas"])]:
        app = create_app(replace(settings, password_policy=policy), manage_database=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as http:
            text = flat((await http.get("/faq")).text)
        for phrase in expected:
            assert phrase in text, (policy, phrase)


async def test_the_faq_covers_the_real_portals_topics_and_links_into_the_guides(client):
    page = await client.get("/faq")
    text = flat(page.text)
    for phrase in ["Heures en semaine", "Heures dimanches et fériés", "s'additionnent",
                   "barrez-la", "Annuler la validation", "03_21231300_201010.xml",
                   "03_171110_014_21231300.xml", "rf-borfact", "48 heures", "L05",
                   "bientôt disponible", "en CSV pour votre logiciel de comptabilité", "Firefox", "mode déconnecté", "12 mois"]:
        assert phrase in text, phrase
    for guide in GUIDES:
        assert f'href="/documentation/guides/{guide.slug}' in page.text


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.slug)
async def test_each_guide_is_a_page_and_a_pdf_and_every_screenshot_exists(
        client, app, guide, tmp_path, monkeypatch):
    page = await client.get(f"/documentation/guides/{guide.slug}")
    assert page.status_code == 200
    assert html.unescape(re.search(r"<h1>(.*?)</h1>", page.text).group(1)) == guide.title
    shots = IMAGE.findall(page.text)
    assert shots, "a guide shows the real pages"
    missing = [name for name in shots if not (ROOT / "static" / "guides" / name).is_file()]
    assert not missing, f"run `make guides` to take the screenshots: {missing}"

    # Laid out afresh, by a server started elsewhere than the project's folder.
    app.state.guide_pdfs = {}
    monkeypatch.chdir(tmp_path)
    pdf = await client.get(f"/documentation/guides/{guide.slug}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f'filename="ppas-{guide.slug}.pdf"' in pdf.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(pdf.content))
    text = " ".join(p.extract_text() for p in reader.pages).replace("\u00a0", " ")
    assert guide.title in " ".join(text.split())
    assert "Télécharger ce guide" not in text  # the page's own links stay on the web
    images = sum(len(p.images) for p in reader.pages)
    assert images == len(shots)


async def test_the_guides_page_lists_every_guide_and_the_tools(client):
    page = await client.get("/documentation/guides")
    for guide in GUIDES:
        assert f'href="/documentation/guides/{guide.slug}.pdf"' in page.text
    assert 'href="/documentation/anomalies"' in page.text
    assert 'href="/documentation/guides"' in (await client.get("/documentation")).text
    assert (await client.get("/documentation/guides/inconnu")).status_code == 404
