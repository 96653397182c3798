"""« Bordereaux » (partner) and « Paiements » (caisse): pages, downloads, isolation, vendors."""
from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader

from ppas.domain.clock import SystemClock
from ppas.domain.periods import paris_date
from ppas.domain.payment_slips import CSV_COLUMNS
from ppas.models import PaymentRun, PaymentSlip
from ppas.services import payment_slips, payments
from ppas.services.api_tokens import create_token
from tests.payment_support import PASSWORD, make_payees


def text_of(response) -> str:
    """The page as a reader sees it: entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def tomorrow() -> date:
    return paris_date(SystemClock().now()) + timedelta(days=1)


async def paid(made, *, publish: bool, settings=None):
    """Run a payment of the caisse for tomorrow; publish its slips when asked."""
    now = SystemClock().now()
    run = await payments.start_payment_run(made.caisse.id, tomorrow(), None, now)
    summary = await payments.execute_payment_run(run.id, now)
    slips = await PaymentSlip.filter(run_id=run.id).order_by("partner_id")
    if publish:
        due = max(s.available_at for s in slips)
        await payment_slips.publish_due_slips(due, replace(settings, slip_pdf_workers=1))
    return summary, slips


async def test_before_publication_bordereaux_says_a_payment_is_under_way_and_when(
        client, sign_in, settings):
    made = await make_payees(partners=1, file_lines=2, form_lines=0)
    _, slips = await paid(made, publish=False)
    await sign_in(client, made.admins[0].login, PASSWORD)
    page = await client.get("/bordereaux")
    assert page.status_code == 200 and "Service à venir" not in page.text
    text = text_of(page)
    when = slips[0].available_at.astimezone(payment_slips.PARIS)
    assert f"1 paiement du {tomorrow():%d/%m/%Y}" in text
    assert f"bordereau en ligne le {when:%d/%m/%Y à %H:%M}" in text
    # No amount before publication: the slip tells it.
    assert "€" not in text.split("Paiements en cours")[1].split("Bordereaux en ligne")[0]
    assert "Aucun bordereau en ligne" in text
    assert (await client.get(f"/bordereaux/{slips[0].id}.pdf")).status_code == 404


async def test_a_published_slip_is_listed_with_its_pdf_and_csv(client, sign_in, settings):
    made = await make_payees(partners=2, file_lines=2, form_lines=1)
    _, slips = await paid(made, publish=True, settings=settings)
    mine, theirs = slips
    await sign_in(client, made.admins[0].login, PASSWORD)
    page = await client.get("/bordereaux")
    text = text_of(page)
    assert mine.number in text and theirs.number not in text
    assert "En ligne" in text and "Aucun paiement en attente" in text
    assert re.search(r"\b" + re.escape(f"{mine.amount:.2f}".replace(".", ",")), text)
    assert f'href="/bordereaux/{mine.id}.pdf"' in page.text

    pdf = await client.get(f"/bordereaux/{mine.id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f"bordereau-{mine.number}.pdf" in pdf.headers["content-disposition"]
    assert pdf.headers["cache-control"] == "no-store"
    assert mine.number in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    got = await client.get(f"/bordereaux/{mine.id}.csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    body = got.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == [name for name, _ in CSV_COLUMNS] and len(rows) == 4
    total = sum(Decimal(r[rows[0].index("montant")].replace(",", ".")) for r in rows[1:])
    assert total == mine.amount

    # Another partner's slip: not found, like a slip that does not exist.
    for suffix in ("pdf", "csv"):
        assert (await client.get(f"/bordereaux/{theirs.id}.{suffix}")).status_code == 404
        assert (await client.get(f"/bordereaux/999999999.{suffix}")).status_code == 404


async def test_vendors_read_their_slips_over_graphql_and_download_by_token(client, settings):
    made = await make_payees(partners=2, file_lines=3, form_lines=1)
    _, slips = await paid(made, publish=True, settings=settings)
    mine, theirs = slips
    created = await create_token(made.admins[0], "Logiciel comptable")
    bearer = {"Authorization": f"Bearer {created.secret}"}
    query = """query($id: ID!) {
      paymentSlips(limit: 5) { totalCount items { id number amount paidOn availableAt pdfUrl csvUrl } }
      one: paymentSlip(id: $id) { number amount lineCount lines(limit: 2) { totalCount items { amount origin fileName formPosition } } }
      other: paymentSlip(id: $id2) { number }
    }"""
    query = query.replace("query($id: ID!)", "query($id: ID!, $id2: ID!)")
    answer = (await client.post("/graphql", headers=bearer, json={
        "query": query, "variables": {"id": str(mine.id), "id2": str(theirs.id)}})).json()
    assert "errors" not in answer, answer
    data = answer["data"]
    assert data["paymentSlips"]["totalCount"] == 1
    item = data["paymentSlips"]["items"][0]
    assert item["number"] == mine.number and Decimal(item["amount"]) == mine.amount
    assert item["paidOn"] == tomorrow().isoformat()
    assert item["pdfUrl"].endswith(f"/bordereaux/{mine.id}.pdf")
    assert data["one"]["lines"]["totalCount"] == 4 and len(data["one"]["lines"]["items"]) == 2
    assert data["other"] is None  # another partner's slip: NOT_FOUND (null)
    pdf = await client.get(f"/bordereaux/{mine.id}.pdf", headers=bearer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await client.get(f"/bordereaux/{theirs.id}.csv", headers=bearer)).status_code == 404


async def test_a_caisse_agent_starts_a_payment_run_and_sees_its_slips(client, sign_in):
    made = await make_payees(partners=2, file_lines=1, form_lines=1)
    csrf = await sign_in(client, made.agent.login, PASSWORD)
    page = await client.get("/caisse/paiements")
    assert page.status_code == 200 and 'name="paidOn"' in page.text
    assert '<label for="f-paidOn">Date de paiement' in page.text

    refused = await client.post("/caisse/paiements", data={"csrf_token": csrf, "paidOn": "hier"})
    assert refused.status_code == 400
    assert "n'est pas une date" in text_of(refused) and 'aria-invalid="true"' in refused.text
    past = await client.post("/caisse/paiements", data={"csrf_token": csrf,
                                                        "paidOn": "2020-01-01"})
    assert past.status_code == 400 and "est passée" in text_of(past)
    no_csrf = await client.post("/caisse/paiements", data={"paidOn": tomorrow().isoformat()})
    assert no_csrf.status_code == 403
    assert not await PaymentRun.filter(caisse_id=made.caisse.id).exists()

    started = await client.post("/caisse/paiements", data={
        "csrf_token": csrf, "paidOn": tomorrow().isoformat()})
    assert started.status_code == 303
    run = await PaymentRun.get(caisse_id=made.caisse.id)
    assert started.headers["location"] == f"/caisse/paiements/{run.id}?fait=1"
    detail = await client.get(started.headers["location"])
    text = text_of(detail)
    total = sum((ln.amount for ln in made.lines), Decimal(0))
    assert "2 bordereaux écrits, 4 lignes payées" in text
    for partner in made.partners:
        assert partner.name in text
    listing = text_of(await client.get("/caisse/paiements"))
    assert "Exécuté" in listing and f"{tomorrow():%d/%m/%Y}" in listing
    assert str(total).replace(".", ",") in listing.replace("\u202f", "").replace("\u00a0", " ")


async def test_partners_and_other_caisses_do_not_reach_the_payments(client, sign_in):
    made = await make_payees(partners=1, file_lines=1, form_lines=0)
    other = await make_payees(partners=1, file_lines=1, form_lines=0)
    run = await payments.start_payment_run(other.caisse.id, tomorrow(), None, SystemClock().now())
    csrf = await sign_in(client, made.agent.login, PASSWORD)
    assert (await client.get(f"/caisse/paiements/{run.id}")).status_code == 404
    await client.post("/deconnexion", data={"csrf_token": csrf})
    csrf = await sign_in(client, made.admins[0].login, PASSWORD)
    assert (await client.get("/caisse/paiements")).status_code == 403
    refused = await client.post("/caisse/paiements", data={"csrf_token": csrf,
                                                           "paidOn": tomorrow().isoformat()})
    assert refused.status_code == 403
    assert not await PaymentRun.filter(caisse_id=made.caisse.id).exists()


async def test_the_vendor_page_documents_the_slip_csv_columns(client):
    page = await client.get("/documentation/api")
    assert page.status_code == 200 and 'id="csv-bordereau"' in page.text
    for name, _ in CSV_COLUMNS:
        assert f"<code>{name}</code>" in page.text
    assert "paymentSlips" in page.text and "pdfUrl" in page.text
