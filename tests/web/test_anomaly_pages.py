"""« Anomalies » page: both phases, filters (GET, htmx), pagination, CSV, isolation."""
from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace
from decimal import Decimal

import pytest

from ppas.domain.anomalies import format_message
from ppas.models import Anomaly, BillingLine, Convention
from ppas.services.integration import integrate_due_lines
from tests.billing_form_support import PASSWORD
from tests.integration_support import APRIL, accepted_file, paris, provider

SENT = paris(2026, 9, 7)  # Monday 7 September 2026


def codes_of(response) -> list[str]:
    """The codes of the anomalies listed, in order."""
    return re.findall(r'<h3 id="anomalie-[0-9]+">([A-Z][0-9]{2})', response.text)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


async def _world(settings):
    """A provider with a refused file line (L01, billing) and two report anomalies (R02)."""
    prov = await provider(3)
    lines = await accepted_file(prov, prov.plans[:2], SENT)
    refused = await BillingLine.create(
        file_id=lines[0].file_id, record_number=3, file_number="0999999999", last_name="INCONNU",
        first_name="Jean", period_start=APRIL.first_day, period_end=APRIL.last_day,
        hours=Decimal("2"), hourly_rate=Decimal("21.30"), participation=Decimal("1.50"),
        amount=Decimal("39.60"), status="anomaly")
    await Anomaly.create(code="L01", phase="billing", file_id=lines[0].file_id, line=refused,
                         record_number=3, message=format_message("L01"))
    await Convention.filter(id=prov.convention.id).update(status="suspended")
    await integrate_due_lines(paris(2026, 9, 10), replace(settings, report_delay_business_days=2),
                              partner_ids=[prov.partner.id])
    await Convention.filter(id=prov.convention.id).update(status="active")
    return prov, lines, refused


@pytest.fixture
async def world(client, sign_in, settings, db):
    prov, lines, refused = await _world(settings)
    await sign_in(client, prov.login, PASSWORD)
    return prov, lines, refused


async def test_both_phases_with_what_to_do(client, world):
    prov, lines, refused = world
    page = await client.get("/anomalies")
    assert page.status_code == 200 and "Service à venir" not in page.text
    text = text_of(page)
    assert "3 anomalies" in text
    assert "R02 — Convention suspendue" in text and sorted(codes_of(page)) == ["L01", "R02", "R02"]
    assert f'href="/fichiers/lignes/{refused.id}/refacturer"' in page.text
    assert "envoyez la facture par courrier à votre caisse" in text
    assert '<a href="/anomalies" aria-current="page">Anomalies</a>' in page.text  # the menu


async def test_filters_by_phase_code_month_and_file(client, world):
    prov, lines, refused = world
    report = await client.get("/anomalies?phase=report")
    assert "2 anomalies pour ces filtres" in text_of(report) and codes_of(report) == ["R02", "R02"]
    assert "1 anomalie pour ces filtres" in text_of(await client.get("/anomalies?code=L01"))
    assert "Aucune anomalie ne correspond" in text_of(await client.get("/anomalies?mois=2026-03"))
    assert "3 anomalies" in text_of(await client.get("/anomalies?mois=2026-04"))
    by_file = text_of(await client.get(f"/anomalies?fichier={lines[0].file_id}&phase=billing"))
    assert "1 anomalie pour ces filtres" in by_file and "Seules les anomalies d'un fichier" in by_file


async def test_a_bad_month_is_said_and_the_rest_is_listed(client, world):
    page = await client.get("/anomalies?mois=avril&phase=nimporte&code=ZZZ&fichier=abc")
    assert page.status_code == 422
    assert "format AAAA-MM" in text_of(page) and 'aria-invalid="true"' in page.text
    assert "3 anomalies" in text_of(page)


async def test_htmx_swaps_the_results_alone_with_focus_on_their_heading(client, world):
    page = await client.get("/anomalies?phase=report", headers={"HX-Request": "true"})
    assert '<section id="resultats-anomalies"' in page.text and "<h1" not in page.text
    assert re.search(r'<h2 id="titre-resultats" tabindex="-1" autofocus>', page.text)


async def test_pagination_keeps_the_filters(client, world, app):
    size = app.state.settings.page_size
    prov, lines, refused = world
    for n in range(size):
        await Anomaly.create(code="L07", phase="billing", file_id=lines[0].file_id, line=refused,
                             record_number=3, message=f"Période invalide {n}")
    first = await client.get("/anomalies?code=L07")
    assert f"{size} anomalies" in text_of(first) and "page 1 sur" not in text_of(first)
    await Anomaly.create(code="L07", phase="billing", file_id=lines[0].file_id, line=refused,
                         record_number=3, message="Période invalide encore")
    page = await client.get("/anomalies?code=L07")
    assert "page 1 sur 2" in text_of(page)
    assert 'href="/anomalies?code=L07&amp;page=2"' in page.text
    second = await client.get("/anomalies?code=L07&page=2")
    assert "Période invalide" in text_of(second) and "page 2 sur 2" in text_of(second)


async def test_csv_export_of_the_filtered_anomalies(client, world):
    prov, lines, refused = world
    response = await client.get("/anomalies.csv?phase=report")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Code", "Phase", "Échéance"]
    assert sorted(r[0] for r in rows[1:]) == ["R02", "R02"]
    assert all(r[2] == "2026-04" and r[1] == "à l'intégration" for r in rows[1:])
    assert "courrier" in rows[1][10]


async def test_another_partner_sees_none_of_them(client, sign_in, settings, world):
    prov, lines, refused = world
    other = await provider(1)
    await client.post("/deconnexion", headers={"X-CSRF-Token": client.cookies.get("csrf", "")})
    client.cookies.clear()
    await sign_in(client, other.login, PASSWORD)
    page = text_of(await client.get(f"/anomalies?fichier={lines[0].file_id}"))
    assert "0 anomalie" in page and "INCONNU" not in page
    csv_text = (await client.get("/anomalies.csv")).content.decode("utf-8-sig")
    assert csv_text.count("\n") == 1  # the header alone


async def test_anonymous_visitors_go_to_sign_in(client, db):
    response = await client.get("/anomalies", follow_redirects=False)
    assert response.status_code in (302, 303) and "/connexion" in response.headers["location"]


def page_links(response) -> list[str]:
    """The pager's link texts, in order, the current page marked with *."""
    nav = re.search(r'<nav class="pagination"[^>]*>(.*?)</nav>', response.text, re.S)
    assert nav, "no pager"
    return [("*" if "aria-current" in attrs else "") + text
            for attrs, text in re.findall(r"<a ([^>]*)>([^<]*)</a>", nav.group(1))]


async def test_the_pager_shows_a_bounded_window_around_the_current_page(client, world, app):
    size = app.state.settings.page_size
    prov, lines, refused = world
    await Anomaly.bulk_create([
        Anomaly(code="L07", phase="billing", file_id=lines[0].file_id, line=refused,
                record_number=3, message=f"Période invalide {n}") for n in range(size * 12)])
    middle = await client.get("/anomalies?code=L07&page=6")
    assert page_links(middle) == ["Page précédente", "Page 1", "Page 4", "Page 5", "*Page 6",
                                  "Page 7", "Page 8", "Page 12 (dernière)", "Page suivante"]
    assert 'href="/anomalies?code=L07&amp;page=5" rel="prev" hx-get=' in middle.text
    first = await client.get("/anomalies?code=L07", headers={"HX-Request": "true"})
    assert page_links(first) == ["*Page 1", "Page 2", "Page 3", "Page 12 (dernière)",
                                 "Page suivante"]
    last = await client.get("/anomalies?code=L07&page=12")
    assert page_links(last) == ["Page précédente", "Page 1", "Page 10", "Page 11", "*Page 12"]


async def test_after_an_htmx_search_the_month_field_names_the_error_shown_or_none(client,
                                                                                   world):
    wrong = await client.get("/anomalies?mois=avril", headers={"HX-Request": "true"})
    month = re.search(r'<input id="f-mois"[^>]*>', wrong.text).group(0)
    assert 'hx-swap-oob="true"' in month and 'aria-invalid="true"' in month
    assert 'aria-describedby="aide-mois erreur-filtres"' in month
    zone = re.search(r'<div id="zone-erreur-filtres" hx-swap-oob="true">(.*?)</div>\s*</div>',
                     wrong.text, re.S)
    assert zone and 'id="erreur-filtres"' in zone.group(1) and "AAAA-MM" in zone.group(1)
    # The next search is right: the field loses aria-invalid and the error goes.
    right = await client.get("/anomalies?mois=2026-04", headers={"HX-Request": "true"})
    month = re.search(r'<input id="f-mois"[^>]*>', right.text).group(0)
    assert 'hx-swap-oob="true"' in month and "aria-invalid" not in month
    assert 'aria-describedby="aide-mois"' in month
    assert re.search(r'<div id="zone-erreur-filtres" hx-swap-oob="true">\s*</div>', right.text)
    assert 'id="erreur-filtres"' not in right.text
