"""« Fichiers » pages: upload through the page (htmx + CSRF), report, CSV, dry run, isolation,
re-billing, and the « Cahiers des charges » page generated from the XSD and the catalog."""
from __future__ import annotations

import csv
import html
import io
import re
from importlib import resources

import pytest
from lxml import etree

from ppas.domain.anomalies import CATALOG
from ppas.domain.xml_safety import load_schema
from ppas.models import BillingFile, BillingLine
from tests.billing_file_support import PASSWORD, billing_xml, ligne, make_provider

XS = "{http://www.w3.org/2001/XMLSchema}"


def text_of(response) -> str:
    """The page as a reader sees it: entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def htmx(csrf: str) -> dict:
    return {"HX-Request": "true", "X-CSRF-Token": csrf}


async def upload(client, csrf: str, data: bytes, name: str, *, dry_run: bool = False):
    form = {"dry_run": "1"} if dry_run else {}
    return await client.post("/fichiers/envoyer", headers=htmx(csrf), data=form,
                             files={"file": (name, data, "text/xml")})


@pytest.fixture
async def signed_provider(client, sign_in, db):
    provider = await make_provider()
    csrf = await sign_in(client, provider.login, PASSWORD)
    return provider, csrf


async def test_a_valid_file_is_accepted_and_listed_in_the_history(client, signed_provider):
    provider, csrf = signed_provider
    page = await client.get("/fichiers")
    assert page.status_code == 200 and "Service à venir" not in page.text
    assert 'type="file"' in page.text and "Aucun fichier envoyé" in page.text
    assert '<progress id="barre-envoi"' in page.text and "Contrôler sans enregistrer" in page.text

    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, provider.numbers[1])])
    response = await upload(client, csrf, data, provider.amd_name())
    assert response.status_code == 200
    text = text_of(response)
    assert f"Fichier {provider.amd_name()} accepté : 2 lignes acceptées sur 2" in text
    assert 'id="titre-compte-rendu"' in response.text
    # The history is refreshed out of band with the new send.
    assert 'id="historique" aria-labelledby="titre-historique" hx-swap-oob="true"' in response.text
    stored = await BillingFile.get(partner_id=provider.partner.id, name=provider.amd_name())
    assert stored.status == "accepted" and stored.accepted_count == 2
    listing = text_of(await client.get("/fichiers"))
    assert provider.amd_name() in listing and "Accepté" in listing and "452,50" in listing
    assert f'href="/fichiers/{stored.id}"' in (await client.get("/fichiers")).text


async def test_a_file_with_anomalies_reports_them_grouped_with_what_to_do(client, signed_provider):
    provider, csrf = signed_provider
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, "0999999999"),
                                  ligne(3, "0999999998"), ligne(4, provider.numbers[1],
                                                                amount="999.00")])
    response = await upload(client, csrf, data, provider.amd_name())
    text = text_of(response)
    assert "1 ligne acceptée sur 4, 3 anomalies" in text
    for code in ("L01", "L06"):
        kind = CATALOG[code]
        assert f"{code} — {kind.title}" in text
        assert kind.explanation in text and kind.what_to_do in text
    assert f"L01 — {CATALOG['L01'].title} (2)" in text
    assert "0999999998" in text  # the line's own detail
    stored = await BillingFile.get(partner_id=provider.partner.id, name=provider.amd_name())
    line = await BillingLine.get(file_id=stored.id, record_number=4)
    assert f'href="/fichiers/lignes/{line.id}/refacturer"' in response.text
    assert f'href="/fichiers/{stored.id}/anomalies.csv"' in response.text

    report = await client.get(f"/fichiers/{stored.id}")
    assert report.status_code == 200
    assert "<h1 id=\"titre-compte-rendu\"" in report.text and "Corriger et refacturer" in report.text

    download = await client.get(f"/fichiers/{stored.id}/anomalies.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Code", "Phase", "N° d'enregistrement", "Intitulé", "Message", "Que faire"]
    assert sorted((r[0], r[2]) for r in rows[1:]) == [("L01", "2"), ("L01", "3"), ("L06", "4")]
    assert all(r[1] == "au dépôt" for r in rows[1:])


async def test_a_refused_file_says_its_name_stays_free(client, signed_provider):
    provider, csrf = signed_provider
    data = billing_xml(provider, [ligne(1, provider.numbers[0])], rf="autre_nom.xml")
    text = text_of(await upload(client, csrf, data, provider.amd_name()))
    assert f"Fichier {provider.amd_name()} refusé en entier" in text
    assert CATALOG["F03"].title in text and CATALOG["F03"].what_to_do in text
    assert f"son nom {provider.amd_name()} reste libre" in text
    good = billing_xml(provider, [ligne(1, provider.numbers[0])])
    assert "accepté" in text_of(await upload(client, csrf, good, provider.amd_name()))


async def test_dry_run_stores_nothing(client, signed_provider):
    provider, csrf = signed_provider
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, "0999999999")])
    response = await upload(client, csrf, data, provider.amd_name(), dry_run=True)
    text = text_of(response)
    assert "Contrôle sans enregistrement" in text and "1 ligne sur 2 serait acceptée" in text
    assert "Corriger et refacturer" not in text and "anomalies.csv" not in response.text
    assert await BillingFile.filter(partner_id=provider.partner.id).count() == 0
    assert "accepté" in text_of(await upload(client, csrf, data, provider.amd_name()))


async def test_upload_needs_a_file_and_the_csrf_token(client, signed_provider):
    provider, csrf = signed_provider
    empty = await client.post("/fichiers/envoyer", headers=htmx(csrf), data={"dry_run": "1"},
                              files={"other": ("x.txt", b"", "text/plain")})
    assert empty.status_code == 200 and 'role="alert"' in empty.text
    assert "Choisissez le fichier XML" in text_of(empty)
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    forged = await client.post("/fichiers/envoyer", headers={"HX-Request": "true"},
                               files={"file": (provider.amd_name(), data, "text/xml")})
    assert forged.status_code == 403
    assert await BillingFile.filter(partner_id=provider.partner.id).count() == 0


async def test_without_javascript_the_file_form_sends_its_token_as_first_field(client,
                                                                                signed_provider):
    provider, csrf = signed_provider
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    file = {"file": (provider.amd_name(), data, "text/xml")}
    # A plain browser submission: no htmx header, the hidden field first, then the file.
    sent = await client.post("/fichiers/envoyer", data={"csrf_token": csrf}, files=file)
    assert sent.status_code == 200
    assert f"Fichier {provider.amd_name()} accepté : 1 ligne acceptée" in text_of(sent)
    assert await BillingFile.filter(partner_id=provider.partner.id).count() == 1
    wrong = await client.post("/fichiers/envoyer", data={"csrf_token": "x" * len(csrf)},
                              files=file)
    assert wrong.status_code == 403
    # Only the first part is read for the token: one placed after the file does not count.
    late = ("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.xml\"\r\n\r\n"
            f"<x/>\r\n--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{csrf}\r\n--b--\r\n").encode()
    after_file = await client.post("/fichiers/envoyer", content=late,
                                   headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert after_file.status_code == 403
    assert await BillingFile.filter(partner_id=provider.partner.id).count() == 1


async def test_reports_csv_and_lines_are_private_to_their_partner(client, sign_in, db):
    owner = await make_provider()
    csrf = await sign_in(client, owner.login, PASSWORD)
    await upload(client, csrf, billing_xml(owner, [ligne(1, "0999999999")]), owner.amd_name())
    stored = await BillingFile.get(partner_id=owner.partner.id)
    line = await BillingLine.get(file_id=stored.id)
    assert (await client.get(f"/fichiers/{stored.id}")).status_code == 200

    stranger = await make_provider()
    await client.post("/deconnexion", data={"csrf_token": csrf})
    csrf = await sign_in(client, stranger.login, PASSWORD)
    for url in (f"/fichiers/{stored.id}", f"/fichiers/{stored.id}/anomalies.csv",
                f"/fichiers/lignes/{line.id}/refacturer"):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert owner.amd_name() not in response.text
    assert owner.amd_name() not in (await client.get("/fichiers")).text
    await client.post("/deconnexion", data={"csrf_token": csrf})
    assert (await client.get(f"/fichiers/{stored.id}/anomalies.csv")).status_code in (303, 403)


async def test_a_refused_line_is_corrected_and_rebilled_from_the_report(client, signed_provider):
    provider, csrf = signed_provider
    data = billing_xml(provider, [ligne(1, provider.numbers[0], amount="999.00"),
                                  ligne(2, provider.numbers[1]), ligne(3, provider.numbers[1])])
    await upload(client, csrf, data, provider.amd_name())
    stored = await BillingFile.get(partner_id=provider.partner.id)
    wrong = await BillingLine.get(file_id=stored.id, record_number=1)
    duplicate = await BillingLine.get(file_id=stored.id, record_number=3)

    form = await client.get(f"/fichiers/lignes/{wrong.id}/refacturer")
    assert form.status_code == 200
    assert 'name="hours" type="text" value="12,50"' in form.text
    assert 'name="amount" type="text" value="999,00"' in form.text
    assert f'name="periodStart" type="date" value="{wrong.period_start.isoformat()}"' in form.text
    values = {"csrf_token": csrf, "fileNumber": provider.numbers[0],
              "periodStart": wrong.period_start.isoformat(),
              "periodEnd": wrong.period_end.isoformat(), "hours": "30", "sundayHours": "",
              "hourlyRate": "21,30", "participation": "3,20", "amount": "543,00"}
    still = await client.post(f"/fichiers/lignes/{wrong.id}/refacturer", data=values)
    assert still.status_code == 422 and 'role="alert"' in still.text
    assert "reste en anomalie" in text_of(still) and 'value="30"' in still.text
    done = await client.post(f"/fichiers/lignes/{wrong.id}/refacturer",
                             data={**values, "hours": "12,50", "amount": "226,25"})
    assert done.status_code == 200 and "Ligne refacturée" in text_of(done)
    assert (await BillingLine.get(id=wrong.id)).status == "rebilled"
    assert (await BillingFile.get(id=stored.id)).accepted_count == 2
    again = await client.get(f"/fichiers/lignes/{wrong.id}/refacturer")
    assert "déjà été corrigée et refacturée" in text_of(again)
    assert 'name="hours"' not in again.text

    # L05 (duplicate in the file): no form, the reason is shown.
    blocked = await client.get(f"/fichiers/lignes/{duplicate.id}/refacturer")
    assert "ne peut pas être refacturée" in text_of(blocked) and 'name="hours"' not in blocked.text
    report = await client.get(f"/fichiers/{stored.id}")
    assert f"/fichiers/lignes/{duplicate.id}/refacturer" not in report.text
    assert "Non refacturable par le portail" in report.text


def xsd_names() -> tuple[set[str], set[str]]:
    """Every element and attribute name declared in the packaged XSD, read here independently."""
    source = resources.files("ppas").joinpath("xsd", "facturation-1.xsd").read_bytes()
    root = etree.fromstring(source)
    elements = {e.get("name") for e in root.iter(XS + "element") if e.get("name")}
    attributes = {a.get("name") for a in root.iter(XS + "attribute") if a.get("name")}
    return elements, attributes


async def test_format_page_shows_every_element_and_every_anomaly_code(client, db):
    page = await client.get("/documentation/cahier-des-charges")
    assert page.status_code == 200  # public
    text = text_of(page)
    elements, attributes = xsd_names()
    assert len(elements) >= 20 and "version" in attributes
    for name in elements:
        assert f"<code>{name}</code>" in page.text, name
    for name in attributes:
        assert f"<code>@{name}</code>" in page.text, name
    source = etree.fromstring(resources.files("ppas").joinpath("xsd", "facturation-1.xsd")
                              .read_bytes())
    for doc in source.iter(XS + "documentation"):
        assert " ".join(doc.text.split()) in text
    for code, kind in CATALOG.items():
        assert f'id="anomalie-{code}"' in page.text, code
        assert kind.explanation in text and kind.what_to_do in text
    assert "CC_SSSSSSSS_AAAAMM.xml" in text and "CC_JJMMAA_PPP_SSSSSSSS.xml" in text
    assert "03_21231300_201010.xml" in text and "03_171110_014_21231300.xml" in text
    example = html.unescape(re.search(r'<pre class="example"[^>]*><code>(.*?)</code></pre>',
                                      page.text, re.S).group(1))
    assert load_schema().validate(etree.fromstring(example.encode("utf-8")))
    docs = await client.get("/documentation")
    assert 'href="/documentation/cahier-des-charges"' in docs.text
    assert 'href="/documentation/facturation-1.xsd"' in docs.text


async def test_xsd_download_is_the_packaged_file(client, db):
    response = await client.get("/documentation/facturation-1.xsd")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert 'attachment; filename="facturation-1.xsd"' == response.headers["content-disposition"]
    assert response.content == resources.files("ppas").joinpath(
        "xsd", "facturation-1.xsd").read_bytes()


async def test_files_page_needs_sign_in(client, db):
    response = await client.get("/fichiers")
    assert response.status_code == 303 and "/connexion" in response.headers["location"]


def headings_of(response) -> list[str]:
    return [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", h)))
            for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", response.text, re.DOTALL)]


async def test_a_refused_file_says_in_french_where_and_what_with_a_clean_heading(client,
                                                                                signed_provider):
    provider, csrf = signed_provider
    # The bad element is indented and far from the start of its line.
    bad = "    " + ligne(2, provider.numbers[1]).replace("<nb-heures>12.50", "<nb-heures>12,5")
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), bad])
    response = await upload(client, csrf, data, provider.amd_name())
    line_number = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    column = data.decode().splitlines()[line_number - 1].index("<nb-heures>") + 1
    text = text_of(response)
    assert "F05 — Fichier non conforme au cahier des charges (1)" in headings_of(response)
    assert all("{" not in h and "}" not in h for h in headings_of(response)), headings_of(response)
    assert (f"(ligne {line_number}, colonne {column}) : l'élément <nb-heures> contient « 12,5 », "
            "qui n'est pas une valeur acceptée ; attendu : un nombre d'heures positif ou nul avec "
            "au plus 2 décimales et un point comme séparateur, ex. 12.50") in text
    assert "not a valid value" not in text and "{urn:" not in text


async def test_headings_and_csv_titles_hold_no_placeholder(client, signed_provider):
    provider, csrf = signed_provider
    lines = [ligne(1, provider.numbers[0]), ligne(2, provider.numbers[0])]  # 2 repeats 1: L05
    response = await upload(client, csrf, billing_xml(provider, lines), provider.amd_name())
    assert "L05 — Ligne déjà envoyée ou période déjà facturée (1)" in headings_of(response)
    assert all("{" not in h for h in headings_of(response)), headings_of(response)
    assert "(enregistrement n°1)" in text_of(response)  # the anomaly's own message
    stored = await BillingFile.get(partner_id=provider.partner.id, name=provider.amd_name())
    download = await client.get(f"/fichiers/{stored.id}/anomalies.csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert [(r[0], r[3]) for r in rows[1:]] == [
        ("L05", "Ligne déjà envoyée ou période déjà facturée")]
    assert "(enregistrement n°1)" in rows[1][4]
    documentation = await client.get("/documentation/cahier-des-charges")
    assert documentation.status_code == 200
    catalogue = text_of(documentation).split("Codes d'anomalie", 1)[1]
    assert "Fichier non conforme au cahier des charges " in catalogue
    assert "{" not in catalogue and "colonne C" not in catalogue and "n°x" not in catalogue


async def test_a_capped_group_says_how_many_are_shown_in_plain_french(client, signed_provider):
    provider, csrf = signed_provider
    lines = [ligne(n, f"09999{n:05d}") for n in range(1, 52)]  # 51 unknown file numbers: L01
    response = await upload(client, csrf, billing_xml(provider, lines), provider.amd_name())
    text = text_of(response)
    assert "0 ligne acceptée sur 51, 51 anomalies." in text
    assert "50 anomalies affichées sur 51 : le fichier CSV les contient toutes." in text
    assert "(CSV, 51 lignes)" in text
