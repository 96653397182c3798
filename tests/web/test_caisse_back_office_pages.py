"""The caisse's back-office pages: beneficiaries, care plans, import, suspending conventions."""
from __future__ import annotations

import html
import re
import secrets
from datetime import date, datetime, timezone
from decimal import Decimal

from ppas.domain.password_hashing import hash_password
from ppas.models import (
    AuditEvent,
    Beneficiary,
    Caisse,
    CarePlan,
    Convention,
    ConventionStatus,
    Partner,
    Role,
    User,
)

PASSWORD = "Secret2026"


async def _agent(code: str = "03") -> User:
    caisse, _ = await Caisse.get_or_create(code=code, defaults={"name": f"Caisse {code}"})
    return await User.create(login=f"wbo{secrets.token_hex(5)}",
                             password_hash=hash_password(PASSWORD), role=Role.CAISSE_AGENT,
                             caisse=caisse, password_changed_at=datetime.now(timezone.utc))


async def _convention(code: str = "03") -> Convention:
    caisse, _ = await Caisse.get_or_create(code=code, defaults={"name": f"Caisse {code}"})
    partner = await Partner.create(caisse=caisse, structure_id=f"{secrets.randbelow(10**8):08d}",
                                   name=f"Aide web {secrets.token_hex(3)}")
    return await Convention.create(partner=partner, number=f"W{code}-{secrets.token_hex(4).upper()}",
                                   prestation_code="001", hourly_rate=Decimal("21.30"),
                                   valid_from=date(2025, 1, 1))


def _number() -> str:
    return f"03{secrets.randbelow(10**8):08d}"


async def test_an_agent_creates_a_beneficiary_and_a_plan_then_notifies_it(client, sign_in):
    agent = await _agent()
    convention = await _convention()
    csrf = await sign_in(client, agent.login, PASSWORD)
    assert 'href="/caisse/beneficiaires"' in (await client.get("/espace")).text
    number = _number()
    wrong = await client.post("/caisse/beneficiaires/nouveau", data={
        "csrf_token": csrf, "fileNumber": "123", "lastName": "", "firstName": "Léa"})
    assert wrong.status_code == 400
    assert re.search(r'id="f-fileNumber"[^>]*aria-invalid="true"', wrong.text)
    assert "10 chiffres" in html.unescape(wrong.text)
    made = await client.post("/caisse/beneficiaires/nouveau", data={
        "csrf_token": csrf, "fileNumber": number, "lastName": "Durand", "firstName": "Léa",
        "birthDate": "01/02/1940"})
    assert made.status_code == 303
    page = await client.get(made.headers["location"])
    assert "DURAND Léa" in page.text and "Le bénéficiaire est enregistré" in html.unescape(page.text)
    person = await Beneficiary.get(file_number=number, caisse__code="03")
    listing = await client.get("/caisse/beneficiaires", params={"q": number[:6]})
    assert number in listing.text
    form = await client.get(f"/caisse/beneficiaires/{person.id}/prises-en-charge/nouvelle")
    assert convention.number in form.text
    refused = await client.post(f"/caisse/beneficiaires/{person.id}/prises-en-charge/nouvelle",
                                data={"csrf_token": csrf, "conventionId": str(convention.id),
                                      "hoursPerMonth": "10", "participation": "50",
                                      "startDate": "01/01/2026"})
    assert refused.status_code == 400
    assert re.search(r'id="f-participation"[^>]*aria-invalid="true"', refused.text)
    added = await client.post(f"/caisse/beneficiaires/{person.id}/prises-en-charge/nouvelle",
                              data={"csrf_token": csrf, "conventionId": str(convention.id),
                                    "hoursPerMonth": "10,5", "participation": "2,50",
                                    "startDate": "01/01/2026"})
    assert added.status_code == 303
    plan = await CarePlan.get(beneficiary_id=person.id)
    assert plan.notified_at is None and plan.hourly_rate == Decimal("21.30")
    notified = await client.post(f"/caisse/prises-en-charge/{plan.id}/notifier",
                                 data={"csrf_token": csrf})
    assert notified.status_code == 303
    page = await client.get(notified.headers["location"])
    assert "La prise en charge est notifiée" in html.unescape(page.text)
    assert f"/caisse/prises-en-charge/{plan.id}/modifier" not in page.text
    await plan.refresh_from_db()
    assert plan.notified_at is not None
    again = await client.post(f"/caisse/prises-en-charge/{plan.id}/notifier",
                              data={"csrf_token": csrf})
    assert again.status_code == 400 and "déjà notifiée" in html.unescape(again.text)
    closed = await client.post(f"/caisse/prises-en-charge/{plan.id}/cloturer",
                               data={"csrf_token": csrf, "endDate": "31/03/2026"})
    assert closed.status_code == 303
    await plan.refresh_from_db()
    assert plan.closed_at is not None and plan.end_date == date(2026, 3, 31)
    by_convention = await client.get(f"/caisse/conventions/{convention.id}/prises-en-charge")
    assert number in by_convention.text


async def test_another_caisse_s_objects_are_not_found(client, sign_in):
    theirs = await _convention("04")
    caisse04 = await Caisse.get(code="04")
    person = await Beneficiary.create(caisse=caisse04, file_number=f"04{secrets.randbelow(10**8):08d}",
                                      last_name="AUTRE", first_name="Anne")
    plan = await CarePlan.create(beneficiary=person, partner_id=theirs.partner_id,
                                 convention=theirs, hours_per_month=Decimal("5"),
                                 hourly_rate=Decimal("21.30"), participation=Decimal("1"),
                                 start_date=date(2026, 1, 1))
    csrf = await sign_in(client, (await _agent("03")).login, PASSWORD)
    for url in (f"/caisse/beneficiaires/{person.id}", f"/caisse/beneficiaires/{person.id}/modifier",
                f"/caisse/prises-en-charge/{plan.id}/modifier",
                f"/caisse/conventions/{theirs.id}/suspendre",
                f"/caisse/conventions/{theirs.id}/prises-en-charge"):
        assert (await client.get(url)).status_code == 404, url
    for url in (f"/caisse/prises-en-charge/{plan.id}/notifier",
                f"/caisse/conventions/{theirs.id}/suspendre"):
        response = await client.post(url, data={"csrf_token": csrf, "reason": "non"})
        assert response.status_code == 404, url
    await plan.refresh_from_db()
    assert plan.notified_at is None
    assert (await Convention.get(id=theirs.id)).status == ConventionStatus.ACTIVE


async def test_a_partner_is_refused_the_back_office(client, sign_in, make_user):
    user = await make_user(PASSWORD, role="partner_admin")
    await sign_in(client, user.login, PASSWORD)
    for url in ("/caisse/beneficiaires", "/caisse/import", "/caisse/import/modele.csv"):
        assert (await client.get(url)).status_code == 403, url


async def test_a_convention_is_suspended_then_resumed_from_the_conventions_page(client, sign_in):
    convention = await _convention()
    csrf = await sign_in(client, (await _agent()).login, PASSWORD)
    listing = await client.get("/caisse/conventions", params={"page": 1})
    assert "Conventions en cours" in listing.text
    empty = await client.post(f"/caisse/conventions/{convention.id}/suspendre",
                              data={"csrf_token": csrf, "reason": ""})
    assert empty.status_code == 400
    assert re.search(r'id="f-reason"[^>]*aria-invalid="true"', empty.text)
    done = await client.post(f"/caisse/conventions/{convention.id}/suspendre",
                             data={"csrf_token": csrf, "reason": "Contrôle qualité"})
    assert done.status_code == 303
    assert "La convention est suspendue" in html.unescape(
        (await client.get(done.headers["location"])).text)
    assert (await Convention.get(id=convention.id)).status == ConventionStatus.SUSPENDED
    back = await client.post(f"/caisse/conventions/{convention.id}/reprendre",
                             data={"csrf_token": csrf, "reason": "Contrôle levé"})
    assert back.status_code == 303
    assert (await Convention.get(id=convention.id)).status == ConventionStatus.ACTIVE
    assert await AuditEvent.filter(action="convention_resumed",
                                   object_id=str(convention.id)).exists()


async def test_the_import_page_reports_each_row_and_the_template_downloads(client, sign_in):
    convention = await _convention()
    csrf = await sign_in(client, (await _agent()).login, PASSWORD)
    template = await client.get("/caisse/import/modele.csv")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    assert template.content.startswith(b"\xef\xbb\xbfnumero_dossier;nom;prenom")
    good = _number()
    body = (f"numero_dossier;nom;prenom;convention;heures_mensuelles;participation;date_debut\r\n"
            f"{good};Roux;Ana;{convention.number};8;2;01/01/2026\r\n"
            "99;Faux;Numéro;;;;\r\n").encode()
    first = await client.post("/caisse/import", data={"csrf_token": csrf},
                              files={"file": ("pec.csv", body, "text/csv")})
    assert first.status_code == 200
    text = html.unescape(first.text)
    assert "1 créée" in text and "1 refusée" in text and "10 chiffres" in text
    again = await client.post("/caisse/import", data={"csrf_token": csrf},
                              files={"file": ("pec.csv", body, "text/csv")})
    assert "1 inchangée" in html.unescape(again.text)
    assert await CarePlan.filter(beneficiary__file_number=good).count() == 1
    pdf = await client.post("/caisse/import", data={"csrf_token": csrf},
                            files={"file": ("scan.pdf", b"%PDF-1.4", "application/pdf")})
    assert pdf.status_code == 400 and "CSV" in pdf.text
    none = await client.post("/caisse/import", data={"csrf_token": csrf})
    assert none.status_code == 400 and "Choisissez le fichier CSV" in html.unescape(none.text)


async def test_an_import_above_the_cap_is_refused_before_parsing(client, sign_in, app):
    csrf = await sign_in(client, (await _agent()).login, PASSWORD)
    cap = app.state.settings.back_office_import_max_bytes
    big = b"numero_dossier;nom;prenom\r\n" + b"0300000000;A;B\r\n" * (cap // 16 + 10)
    response = await client.post("/caisse/import", data={"csrf_token": csrf},
                                 files={"file": ("gros.csv", big, "text/csv")})
    assert response.status_code in (400, 413)
    assert "Kio" in response.text


async def test_the_import_page_says_its_row_cap_and_a_longer_file_is_refused_whole(client,
                                                                                  sign_in):
    from ppas.domain.beneficiary_import import IMPORT_MAX_ROWS

    assert IMPORT_MAX_ROWS <= 2_000  # what finishes within a request (bench/import_rows.py)
    csrf = await sign_in(client, (await _agent()).login, PASSWORD)
    page = html.unescape((await client.get("/caisse/import")).text).replace("\u202f", " ")
    assert "2 000 lignes de données au plus" in page
    start = secrets.randbelow(10**7)
    rows = "".join(f"03{start + i:08d};NOM;Prénom\r\n" for i in range(IMPORT_MAX_ROWS + 1))
    body = ("numero_dossier;nom;prenom\r\n" + rows).encode()
    refused = await client.post("/caisse/import", data={"csrf_token": csrf},
                                files={"file": ("long.csv", body, "text/csv")})
    assert refused.status_code == 400
    text = html.unescape(refused.text).replace("\u202f", " ")
    assert "dépasse 2 000 lignes de données" in text and "découpez-le" in text
    assert not await Beneficiary.filter(file_number=f"03{start:08d}").exists()


async def test_the_plan_form_offers_every_convention_not_only_the_first_page(client, sign_in,
                                                                             app):
    code = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    agent = await _agent(code)
    partner = await Partner.create(caisse_id=agent.caisse_id, structure_id=f"{secrets.randbelow(10**8):08d}",
                                   name="Aide aux nombreuses conventions")
    count = app.state.settings.max_page_size + 2  # more than one page of the list
    await Convention.bulk_create([
        Convention(partner=partner, number=f"N{code}-{i:05d}", prestation_code="001",
                   hourly_rate=Decimal("21.30"), valid_from=date(2025, 1, 1))
        for i in range(count)])
    csrf = await sign_in(client, agent.login, PASSWORD)
    number = f"03{secrets.randbelow(10**8):08d}"
    made = await client.post("/caisse/beneficiaires/nouveau", data={
        "csrf_token": csrf, "fileNumber": number, "lastName": "Durand", "firstName": "Léa"})
    assert made.status_code == 303
    form = await client.get(made.headers["location"].split("?")[0] + "/prises-en-charge/nouvelle")
    assert form.status_code == 200
    offered = re.findall(r'<option value="\d+"[^>]*>[^<]*— (N\w\w-\d+) ', form.text)
    assert len(offered) == count and f"N{code}-{count - 1:05d}" in offered


async def test_the_beneficiaries_pager_shows_a_bounded_window(client, sign_in, app):
    code = secrets.choice("ABCDEFGHJK") + secrets.choice("WXYZ")
    agent = await _agent(code)
    size = app.state.settings.page_size
    await Beneficiary.bulk_create([
        Beneficiary(caisse_id=agent.caisse_id, file_number=f"{i:010d}", last_name=f"NOM{i:05d}",
                    first_name="Léa") for i in range(size * 10)])
    await sign_in(client, agent.login, PASSWORD)
    page = await client.get("/caisse/beneficiaires?page=5")
    nav = re.search(r'<nav class="pagination"[^>]*>(.*?)</nav>', page.text, re.S).group(1)
    links = [("*" if "aria-current" in attrs else "") + text
             for attrs, text in re.findall(r"<a ([^>]*)>([^<]*)</a>", nav)]
    assert links == ["Page précédente", "Page 1", "Page 3", "Page 4", "*Page 5", "Page 6",
                     "Page 7", "Page 10 (dernière)", "Page suivante"]
    assert 'href="/caisse/beneficiaires?page=10"' in nav
    searched = await client.get("/caisse/beneficiaires?q=NOM0&page=2")
    nav = re.search(r"<nav class=\"pagination\"[^>]*>(.*?)</nav>", searched.text, re.S)
    assert nav and "q=NOM0" in nav.group(1), searched.text[-3000:]


async def test_notifying_a_plan_asks_for_confirmation_on_a_page_first(client, sign_in):
    agent = await _agent()
    convention = await _convention()
    csrf = await sign_in(client, agent.login, PASSWORD)
    person = await Beneficiary.create(caisse_id=agent.caisse_id, file_number=_number(),
                                      last_name="CONFIRME", first_name="Léa")
    plan = await CarePlan.create(beneficiary=person, partner_id=convention.partner_id,
                                 convention=convention, hours_per_month=Decimal("10"),
                                 hourly_rate=Decimal("21.30"), participation=Decimal("2"),
                                 start_date=date(2026, 1, 1))
    page = await client.get(f"/caisse/beneficiaires/{person.id}")
    # « Notifier » on the beneficiary's page is a link to a confirmation page, not a POST.
    assert f'action="/caisse/prises-en-charge/{plan.id}/notifier"' not in page.text
    assert f'href="/caisse/prises-en-charge/{plan.id}/notifier"' in page.text
    confirm = await client.get(f"/caisse/prises-en-charge/{plan.id}/notifier")
    assert confirm.status_code == 200
    text = html.unescape(confirm.text)
    assert "facturables" in text and "ne se modifie plus" in text
    assert f'<form method="post" action="/caisse/prises-en-charge/{plan.id}/notifier">' \
        in confirm.text
    assert "Confirmer la notification" in text and "Ne pas notifier" in text
    await plan.refresh_from_db()
    assert plan.notified_at is None  # looking at the page notifies nothing
    done = await client.post(f"/caisse/prises-en-charge/{plan.id}/notifier",
                             data={"csrf_token": csrf})
    assert done.status_code == 303
    await plan.refresh_from_db()
    assert plan.notified_at is not None
    after = html.unescape((await client.get(f"/caisse/prises-en-charge/{plan.id}/notifier")).text)
    assert "déjà notifiée" in after and "Confirmer la notification" not in after
    other = await _agent("04")
    await client.post("/deconnexion", headers={"X-CSRF-Token": client.cookies.get("csrf", "")})
    client.cookies.clear()
    await sign_in(client, other.login, PASSWORD)
    assert (await client.get(f"/caisse/prises-en-charge/{plan.id}/notifier")).status_code == 404
