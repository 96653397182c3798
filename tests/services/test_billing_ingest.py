"""Ingest of billing files: every F and L code, hostile files, storage in one transaction."""
from __future__ import annotations

import asyncio
import hashlib
import io
import os
import pickle
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import anyio
import pytest
from tests.billing_file_support import (
    as_file,
    billing_xml,
    last_month,
    ligne,
    make_provider,
    now,
    today,
)

from ppas.domain.periods import Period
from ppas.models import (
    Anomaly,
    Beneficiary,
    BillingFile,
    BillingForm,
    BillingLine,
    CarePlan,
    Convention,
    ConventionStatus,
    FormLine,
    FormStatus,
)
from ppas.services import billing_file_reports, billing_ingest
from ppas.services.billing_ingest import parse_workers, reading, storing
from ppas.services.errors import AccessDenied

CAP = 64 * 1024 * 1024


async def submit(provider, data: bytes, name: str | None = None, **kwargs):
    kwargs.setdefault("max_bytes", CAP)
    return await billing_ingest.submit_file(provider.user, as_file(data),
                                            name or provider.amd_name(), now=now(), **kwargs)


async def nothing_stored(provider) -> bool:
    return not await BillingLine.filter(file__partner_id=provider.partner.id).exists() and \
        not await BillingFile.filter(partner_id=provider.partner.id, status="accepted").exists()


def codes(report) -> list[str]:
    return [a.code for a in report.anomalies]


@pytest.fixture
async def provider(db):
    return await make_provider()


@pytest.fixture(autouse=True, params=["thread", "process"])
def parse_in(request, monkeypatch):
    """Every test runs with the file parsed in a thread and in a process of its own."""
    monkeypatch.setattr(parse_workers, "PROCESS_FROM_BYTES",
                        0 if request.param == "process" else 1 << 40)


# --------------------------------------------------------------------------- accepted


async def test_a_valid_file_is_stored_whole_with_its_lines(provider):
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, provider.numbers[1])])
    report = await submit(provider, data)
    assert report.status == "accepted" and report.anomalies == []
    assert (report.line_count, report.accepted_count) == (2, 2)
    assert report.total_amount == Decimal("452.50")
    row = await BillingFile.get(id=report.file_id)
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert billing_file_reports.original_bytes(row.content) == data
    assert (row.line_count, row.accepted_count, row.period) == (2, 2, str(last_month()))
    lines = await BillingLine.filter(file_id=row.id).order_by("record_number")
    assert [line.status for line in lines] == ["accepted", "accepted"]
    assert lines[0].care_plan_id == provider.plans[0].id
    assert lines[0].amount == Decimal("226.25")


async def test_a_file_is_sent_at_the_instant_of_the_one_clock(provider):
    # Integration counts its business days from `uploaded_at`: it must be the `now` the
    # caller passed (the application's clock), not the database's or the system's time.
    sent = now() - timedelta(days=3, minutes=7)
    kept = billing_xml(provider, [ligne(1, provider.numbers[0])])
    accepted = await billing_ingest.submit_file(provider.user, as_file(kept),
                                                provider.amd_name(), now=sent, max_bytes=CAP)
    refused = await billing_ingest.submit_file(provider.user, as_file(b"<x/>"), "mauvais.xml",
                                               now=sent, max_bytes=CAP)
    assert (accepted.status, refused.status) == ("accepted", "refused")
    for report in (accepted, refused):
        row = await BillingFile.get(id=report.file_id)
        assert row.uploaded_at == sent == report.uploaded_at


async def test_comments_and_processing_instructions_inside_a_line_are_harmless(provider):
    line = ligne(1, provider.numbers[0]).replace(
        "<nom>", "<!-- saisie du 3 --><?vendor x?><nom>")
    report = await submit(provider, billing_xml(provider, [line]))
    assert report.status == "accepted" and report.accepted_count == 1, report.anomalies


async def test_sunday_hours_are_paid_at_the_convention_sunday_rate(provider):
    amount = str(Decimal("10.00") * (Decimal("21.30") - Decimal("3.20"))
                 + Decimal("2.00") * (Decimal("26.60") - Decimal("3.20")))
    data = billing_xml(provider, [ligne(1, provider.numbers[0], hours="10.00", sunday="2.00",
                                        amount=f"{Decimal(amount):.2f}")])
    report = await submit(provider, data)
    assert report.status == "accepted" and report.accepted_count == 1, report.anomalies


async def test_other_prestation_name_with_send_date_is_accepted(db):
    provider = await make_provider(prestation="014")
    sent = today() - timedelta(days=3)
    name = f"03_{sent:%d%m%y}_014_{provider.structure_id}.xml"
    data = billing_xml(provider, [ligne(1, provider.numbers[0])], name=name, prestation="014",
                       send_date=sent.isoformat())
    report = await submit(provider, data, name)
    assert report.status == "accepted", report.anomalies
    assert report.accepted_count == 1


# --------------------------------------------------------------------------- F codes


@pytest.mark.parametrize("make_name,expected", [
    (lambda p: f"03_{p.structure_id}_{today().year}13.xml", "mois 13"),
    (lambda p: f"03_{p.structure_id}_{today().year}00.xml", "mois 00"),
    (lambda p: f"03_{p.structure_id}_{Period.of(today()).next().year}"
               f"{Period.of(today()).next().month:02d}.xml", "pas encore commencé"),
    (lambda p: f"03_{p.structure_id}_{last_month().year}{last_month().month:02d}.XML",
     "minuscules"),
    (lambda p: f"03_{(today() + timedelta(days=2)):%d%m%y}_014_{p.structure_id}.xml",
     "postérieure à la date du jour"),
    (lambda p: f"03_310211_014_{p.structure_id}.xml", "n'existe pas"),
    (lambda p: "facture-janvier.xml", "3 parties"),
])
async def test_names_following_neither_pattern_are_refused_f01(provider, make_name, expected):
    name = make_name(provider)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                name=name), name)
    assert report.status == "refused" and codes(report) == ["F01"]
    assert expected in report.anomalies[0].message
    assert await nothing_stored(provider)


@pytest.mark.parametrize("make_name,expected", [
    (lambda p: f"03_21231300_{last_month().year}{last_month().month:02d}.xml",
     "n'est pas celui de votre structure"),
    (lambda p: f"13_{p.structure_id}_{last_month().year}{last_month().month:02d}.xml",
     "n'est pas celui de votre caisse"),
    (lambda p: f"03_{(today() - timedelta(days=1)):%d%m%y}_014_{p.structure_id}.xml",
     "ne fait l'objet d'aucune de vos conventions"),
])
async def test_a_name_of_another_structure_caisse_or_prestation_is_refused_f06(
        provider, make_name, expected):
    name = make_name(provider)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                name=name, rf=name), name)
    assert codes(report) == ["F06"] and expected in report.anomalies[0].message


async def test_header_disagreeing_with_the_name_is_refused_f06(provider):
    other_month = str(last_month().previous())
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                echeance=other_month))
    assert codes(report) == ["F06"] and "l'échéance de l'en-tête" in report.anomalies[0].message
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                structure="21231300"))
    assert codes(report) == ["F06"] and "identifiant de structure" in report.anomalies[0].message


async def test_accepted_name_is_refused_again_f02_but_a_refused_name_stays_free(provider):
    good = billing_xml(provider, [ligne(1, provider.numbers[0])])
    refused = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                 nb=5))
    assert refused.status == "refused" and codes(refused) == ["F08"]
    first = await submit(provider, good)
    assert first.status == "accepted"
    again = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[1])]))
    assert again.status == "refused" and codes(again) == ["F02"]
    assert "déjà été accepté" in again.anomalies[0].message
    assert await BillingFile.filter(partner_id=provider.partner.id, status="accepted").count() == 1


async def test_rf_borfact_different_from_the_name_is_refused_f03(provider):
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                rf="autre_nom.xml"))
    assert codes(report) == ["F03"] and "autre_nom.xml" in report.anomalies[0].message


async def test_schema_violation_gives_line_and_column_f05(provider):
    bad = ligne(2, provider.numbers[1]).replace("<nb-heures>12.50", "<nb-heures>12.505")
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), bad, ligne(3, provider.numbers[2])])
    report = await submit(provider, data)
    assert codes(report) == ["F05"]
    message = report.anomalies[0].message
    bad_line = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    assert f"ligne {bad_line}," in message and "nb-heures" in message
    assert await nothing_stored(provider)


async def test_duplicate_record_numbers_are_refused_f05(provider):
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(1, provider.numbers[1])])
    report = await submit(provider, data)
    assert codes(report) == ["F05"]


# The XSD is checked chunk by chunk (billing_ingest.parse_workers): small chunks here put the
# edges of chunks under test; the whole-document rules must still hold.


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(parse_workers, "BATCH_SIZE", 2)


async def test_duplicate_record_in_another_chunk_is_refused_with_its_lines(provider, small_chunks):
    lines = [ligne(n, provider.numbers[n - 1]) for n in (1, 2, 3)] + [ligne(2, provider.numbers[3])]
    report = await submit(provider, billing_xml(provider, lines))
    assert codes(report) == ["F05"]
    assert "2" in report.anomalies[0].message and "ligne" in report.anomalies[0].message
    assert await nothing_stored(provider)


async def test_schema_violation_in_a_later_chunk_gives_its_line(provider, small_chunks):
    bad = ligne(5, provider.numbers[4]).replace("<nb-heures>12.50", "<nb-heures>12.505")
    lines = [ligne(n, provider.numbers[n - 1]) for n in (1, 2, 3, 4)] + [bad]
    data = billing_xml(provider, lines)
    report = await submit(provider, data)
    assert codes(report) == ["F05"]
    bad_line = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    assert f"ligne {bad_line}," in report.anomalies[0].message
    assert await nothing_stored(provider)


@pytest.mark.parametrize("damage", [
    ("<nb-heures>12.50", "<nb-heures>12.505"),
    ("<nb-heures>12.50", "<nb-heures>douze"),
    ("-01</debut-periode>", "-32</debut-periode>"),
    ("<n-enregistrement>5<", "<n-enregistrement>05<"),
], ids=["three-decimals", "not-a-number", "no-such-date", "leading-zero"])
async def test_a_violation_early_in_a_long_file_gives_its_line(provider, damage):
    # Far more lines than a batch holds after the bad one: libxml2 keeps parsing after a
    # validity error, the ingest must still stop there and cite the right line.
    old, new = damage
    lines = [ligne(n, provider.numbers[n % 6]) for n in range(1, 6001)]
    lines[4] = lines[4].replace(old, new, 1)
    data = billing_xml(provider, lines)
    report = await submit(provider, data)
    assert codes(report) == ["F05"], report.anomalies
    assert "ligne 9," in report.anomalies[0].message, report.anomalies[0].message
    assert await nothing_stored(provider)


async def test_a_duplicate_far_from_its_first_use_gives_both_lines(provider):
    lines = [ligne(n, provider.numbers[n % 6]) for n in range(1, 6001)]
    lines[5999] = ligne(3, provider.numbers[0])
    report = await submit(provider, billing_xml(provider, lines))
    assert codes(report) == ["F05"], report.anomalies
    message = report.anomalies[0].message
    assert "numéro d'enregistrement 3 figure déjà ligne 7 " in message, message
    assert "ligne 6004," in message, message
    assert await nothing_stored(provider)


@pytest.mark.parametrize("damage", [
    lambda xml: xml.replace('version="1"', 'version="2"'),
    lambda xml: xml.replace("</lignes>", "</lignes><extra>1</extra>"),
    lambda xml: xml.replace("<lignes>", "<lignes>texte libre"),
    lambda xml: xml.replace("</ligne>\n<ligne>", "</ligne>texte<ligne>", 1),
], ids=["root-version", "element-after-lignes", "text-in-lignes", "text-between-lines"])
async def test_structure_outside_the_lines_is_still_checked(provider, small_chunks, damage):
    lines = [ligne(n, provider.numbers[n - 1]) for n in (1, 2, 3)]
    data = damage(billing_xml(provider, lines).decode()).encode()
    report = await submit(provider, data)
    assert codes(report) == ["F05"], report.anomalies
    assert await nothing_stored(provider)


async def test_a_file_without_lines_is_refused(provider):
    data = billing_xml(provider, [], nb=0, total="0.00").replace(b"<lignes>\n</lignes>",
                                                                b"<lignes></lignes>")
    report = await submit(provider, data)
    assert report.status == "refused" and codes(report)[0] in {"F05", "F08"}
    assert await nothing_stored(provider)


async def test_no_active_convention_is_refused_f07(provider):
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                convention="C03-0001"))
    assert codes(report) == ["F07"] and "C03-0001" in report.anomalies[0].message
    await Convention.filter(id=provider.convention.id).update(status=ConventionStatus.SUSPENDED)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])]))
    assert codes(report) == ["F07"] and "n'est pas en cours" in report.anomalies[0].message


async def test_header_totals_must_match_the_lines_f08(provider):
    lines = [ligne(1, provider.numbers[0]), ligne(2, provider.numbers[1])]
    report = await submit(provider, billing_xml(provider, lines, nb=3))
    assert codes(report) == ["F08"] and "annonce 3 lignes, le fichier en contient 2" in report.anomalies[0].message
    report = await submit(provider, billing_xml(provider, lines, total="999.99"))
    assert codes(report) == ["F08"] and "montant total" in report.anomalies[0].message
    report = await submit(provider, b"")
    assert codes(report) == ["F08"] and "vide" in report.anomalies[0].message
    assert await nothing_stored(provider)


# --------------------------------------------------------------------------- hostile files


HOSTILE = {
    "external entity": (
        '<?xml version="1.0"?>\n<!DOCTYPE facturation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<facturation xmlns="urn:ppas:facturation:1" version="1">&xxe;</facturation>', "DOCTYPE"),
    "billion laughs": (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
        '<facturation xmlns="urn:ppas:facturation:1" version="1">&lol3;</facturation>', "DOCTYPE"),
    "doctype after a comment": (
        '<?xml version="1.0"?>\n<!-- x --><!DOCTYPE facturation SYSTEM "http://example.invalid/x.dtd">\n'
        '<facturation xmlns="urn:ppas:facturation:1" version="1"/>', "DOCTYPE"),
    "undeclared entity": (
        '<?xml version="1.0"?>\n<facturation xmlns="urn:ppas:facturation:1" version="1">'
        '&xxe;</facturation>', "entité"),
    "not xml": ("Nom;Prénom;Heures\nDUPONT;Jeanne;12,5\n", "n'est pas du XML"),
}


@pytest.mark.parametrize("label", sorted(HOSTILE))
async def test_hostile_files_are_refused_f04_and_nothing_is_stored(provider, label):
    text, expected = HOSTILE[label]
    report = await submit(provider, text.encode())
    assert report.status == "refused" and codes(report) == ["F04"], report.anomalies
    assert expected in report.anomalies[0].message
    assert await nothing_stored(provider)


async def test_truncated_file_is_refused_f04(provider):
    data = billing_xml(provider, [ligne(i, provider.numbers[i % 6]) for i in range(1, 5)])
    report = await submit(provider, data[: len(data) // 2])
    assert codes(report) == ["F04"] and "tronqué" in report.anomalies[0].message
    assert await nothing_stored(provider)


async def test_wrong_encoding_is_refused_f04(provider):
    latin = billing_xml(provider, [ligne(1, provider.numbers[0])]).replace(
        b"Jeanne", "Hélène".encode("latin-1"))
    report = await submit(provider, latin)
    assert codes(report) == ["F04"] and "UTF-8" in report.anomalies[0].message
    declared = latin.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    report = await submit(provider, declared)
    assert codes(report) == ["F04"] and "ISO-8859-1" in report.anomalies[0].message
    utf16 = billing_xml(provider, [ligne(1, provider.numbers[0])]).decode().encode("utf-16")
    report = await submit(provider, utf16)
    assert codes(report) == ["F04"]
    assert await nothing_stored(provider)


async def test_200_mb_of_garbage_is_refused_f08_without_reading_it_into_memory(provider):
    with tempfile.TemporaryFile() as garbage:
        chunk = os.urandom(1024 * 1024)
        for _ in range(200):
            garbage.write(chunk)
        garbage.seek(0)
        report = await billing_ingest.submit_file(provider.user, garbage, provider.amd_name(),
                                                  now=now(), max_bytes=CAP)
    assert codes(report) == ["F08"] and "200,0 Mo" in report.anomalies[0].message
    assert report.size == 200 * 1024 * 1024
    assert await nothing_stored(provider)


async def test_garbage_under_the_cap_is_refused_f04(provider):
    report = await submit(provider, os.urandom(256 * 1024))
    assert codes(report) == ["F04"]


# --------------------------------------------------------------------------- L codes


async def line_codes(provider, lines, **kwargs) -> dict[int, list[str]]:
    report = await submit(provider, billing_xml(provider, lines, **kwargs))
    assert report.status == "accepted", report.anomalies
    found: dict[int, list[str]] = {}
    for item in report.anomalies:
        found.setdefault(item.record_number, []).append(item.code)
    stored = await Anomaly.filter(file_id=report.file_id).values_list("record_number", "code",
                                                                      "line_id")
    assert sorted((r, c) for r, c, _ in stored) == sorted(
        (r, c) for r, cs in found.items() for c in cs)
    assert all(line_id is not None for _, _, line_id in stored)
    return found


async def test_every_line_anomaly_is_found_and_cited_by_record_number(provider):
    month = last_month()
    old = Period.of(today()).plus_months(-13)
    p = provider.numbers
    await CarePlan.filter(id=provider.plans[3].id).update(notified_at=None)
    await CarePlan.filter(id=provider.plans[4].id).update(closed_at=now() - timedelta(days=400))
    lines = [
        ligne(1, p[0]),                                       # accepted
        ligne(2, "0999999999"),                               # L01 unknown beneficiary
        ligne(3, "0300020001"),                               # L01 known, plan of another partner
        ligne(4, p[3]),                                       # L02 plan not notified
        ligne(5, p[1], hours="25.00"),                        # L03 above 20 h
        ligne(6, p[2], old),                                  # L04 older than 12 months
        ligne(7, p[0]),                                       # L05 same month earlier in the file
        ligne(8, p[5], rate="22.00"),                         # L06 rate is not the plan's
        ligne(9, p[5], Period.of(today()).plus_months(-2), amount="100.00"),  # L06 amount
        ligne(10, p[2], start=month.last_day.isoformat(),
              end=month.first_day.isoformat()),               # L07 end before start
        ligne(11, p[4]),                                      # L08 closed plan
    ]
    found = await line_codes(provider, lines)
    assert found == {2: ["L01"], 3: ["L01"], 4: ["L02"], 5: ["L03"], 6: ["L04"], 7: ["L05"],
                     8: ["L06"], 9: ["L06"], 10: ["L07"], 11: ["L08"]}
    report = (await billing_file_reports.list_files(provider.user, 0, 1))[0][0]
    assert (report.line_count, report.accepted_count) == (11, 1)
    stored = await Anomaly.filter(file_id=report.id, code="L05").first()
    assert "enregistrement n°1)" in stored.message


async def test_period_in_the_future_is_l07(provider):
    current = Period.of(today())
    name = provider.amd_name(current)
    report = await submit(provider, billing_xml(
        provider, [ligne(1, provider.numbers[0], current)], name=name,
        echeance=str(current)), name)
    if current.last_day > today():
        assert codes(report) == ["L07"] and "après la date du jour" in report.anomalies[0].message


async def test_duplicate_across_files_cites_the_earlier_record(provider):
    first = await submit(provider, billing_xml(provider, [ligne(41, provider.numbers[0])]))
    assert first.accepted_count == 1
    previous = last_month().previous()
    name = provider.amd_name(previous)
    # a later send for another échéance repeats last month: already billed by file
    current = Period.of(today())
    name = provider.amd_name(current)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])],
                                                name=name, echeance=str(current)), name)
    assert codes(report) == ["L05"]
    assert "enregistrement n°41)" in report.anomalies[0].message
    assert provider.amd_name() in report.anomalies[0].message


async def test_month_billed_by_the_online_form_then_by_file_is_l05(provider):
    month = last_month()
    form = await BillingForm.create(convention=provider.convention, period=str(month),
                                    status=FormStatus.VALIDATED, validated_at=now())
    await FormLine.create(form=form, care_plan=provider.plans[0], position=3,
                          hours=Decimal("10.00"), amount=Decimal("181.00"))
    await FormLine.create(form=form, care_plan=provider.plans[1], position=4, crossed_out=True)
    found = await line_codes(provider, [ligne(1, provider.numbers[0]),
                                        ligne(2, provider.numbers[1]),
                                        ligne(3, provider.numbers[2])])
    assert found == {1: ["L05"], 2: ["L08"]}
    message = await Anomaly.filter(code="L05", record_number=1,
                                   line__file__partner_id=provider.partner.id).first()
    assert "enregistrement n°3 du formulaire en ligne" in message.message


async def test_an_open_form_does_not_count_as_billed(provider):
    form = await BillingForm.create(convention=provider.convention, period=str(last_month()))
    await FormLine.create(form=form, care_plan=provider.plans[0], position=1,
                          hours=Decimal("10.00"), amount=Decimal("181.00"))
    assert await line_codes(provider, [ligne(1, provider.numbers[0])]) == {}


async def test_a_dry_run_tells_nothing_of_another_partners_beneficiaries(provider):
    """A file number with no plan of the uploader gets the same answer, known to the caisse or not.

    Told apart, any partner could probe which file numbers exist at the caisse with dry runs.
    """
    other = await make_provider(plan_count=1)
    orphan = await Beneficiary.create(caisse_id=provider.partner.caisse_id,
                                      file_number=f"07{provider.structure_id}", last_name="SEUL",
                                      first_name="Sans-Prise")
    unknown = "0999999990"
    numbers = [other.numbers[0], orphan.file_number, unknown]
    data = billing_xml(provider, [ligne(i + 1, n) for i, n in enumerate(numbers)])
    report = await submit(provider, data, dry_run=True)
    answers = {(a.code, a.message.replace(n, "N"), a.title)
               for a, n in zip(sorted(report.anomalies, key=lambda a: a.record_number), numbers,
                               strict=True)}
    assert len(answers) == 1 and next(iter(answers))[0] == "L01", answers


# --------------------------------------------------------------------------- storage rules


async def test_dry_run_checks_everything_and_stores_nothing(provider):
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), ligne(2, "0999999999")])
    report = await submit(provider, data, dry_run=True)
    assert report.dry_run and report.status == "accepted" and report.file_id is None
    assert codes(report) == ["L01"] and report.accepted_count == 1
    assert not await BillingFile.filter(partner_id=provider.partner.id).exists()
    assert (await submit(provider, data)).status == "accepted"  # the name stayed free


async def test_idempotency_key_returns_the_first_result(provider):
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    first = await submit(provider, data, idempotency_key="retry-123")
    second = await submit(provider, data, idempotency_key="retry-123")
    assert second.replayed and second.file_id == first.file_id and second.status == "accepted"
    assert await BillingFile.filter(partner_id=provider.partner.id).count() == 1


async def test_a_crash_halfway_leaves_nothing_and_the_name_free(provider, monkeypatch):
    monkeypatch.setattr(parse_workers, "BATCH_SIZE", 2)
    calls = {"n": 0}
    real = storing.check_batch

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(storing, "check_batch", crashing)
    data = billing_xml(provider, [ligne(i, provider.numbers[i - 1]) for i in range(1, 6)])
    with pytest.raises(RuntimeError):
        await submit(provider, data)
    assert not await BillingFile.filter(partner_id=provider.partner.id).exists()
    assert not await BillingLine.filter(file__partner_id=provider.partner.id).exists()
    monkeypatch.setattr(storing, "check_batch", real)
    report = await submit(provider, data)
    assert report.status == "accepted" and report.accepted_count == 5


def recorded_workers(monkeypatch) -> list:
    """The parse workers the ingest starts, to look at them afterwards."""
    workers = []
    real = storing._worker_for

    def recording(*args, **kwargs):
        workers.append(real(*args, **kwargs))
        return workers[-1]

    monkeypatch.setattr(storing, "_worker_for", recording)
    return workers


def stopped(worker) -> bool:
    """No thread left running and, for a parse process, reaped with its pipes closed."""
    if worker.alive():
        return False
    process = getattr(worker, "process", None)
    return process is None or (process.returncode is not None and process.stdout.closed
                               and process.stdin.closed)


async def wait_stopped(worker, seconds: float = 10) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not stopped(worker) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return stopped(worker)


async def test_a_stuck_parse_worker_ends_the_upload_instead_of_hanging(provider, monkeypatch):
    monkeypatch.setattr(storing, "STALL_SECONDS", 1)
    workers = recorded_workers(monkeypatch)
    if parse_workers.PROCESS_FROM_BYTES == 0:  # a parse process that stops answering
        real_start = parse_workers._ParseProcess.start

        def start_then_freeze(worker):
            real_start(worker)
            os.kill(worker.process.pid, signal.SIGSTOP)

        monkeypatch.setattr(parse_workers._ParseProcess, "start", start_then_freeze)
    else:  # a parse thread that never hands anything over (until told to stop)
        monkeypatch.setattr(parse_workers.billing_file_stream, "run",
                            lambda reader, size, put: workers[-1].stop.wait())
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    with pytest.raises(RuntimeError, match="stuck"):
        # wait_for: without the watchdog the upload would wait for ever.
        await asyncio.wait_for(submit(provider, data), 30)
    (worker,) = workers
    assert await wait_stopped(worker)  # the frozen process is killed and reaped
    assert await nothing_stored(provider)


async def test_a_cancelled_upload_stops_its_parsing_and_reaps_the_process(provider, monkeypatch):
    # Starlette and anyio cancel a request's task again at every await of its cleanup: the
    # parse process must still be killed and reaped, and its threads end.
    monkeypatch.setattr(parse_workers, "BATCH_SIZE", 100)  # more batches than the queue holds
    workers = recorded_workers(monkeypatch)
    waiting = asyncio.Event()
    real_facts = storing.batch_facts

    async def slow_database(*args, **kwargs):
        waiting.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(storing, "batch_facts", slow_database)
    data = billing_xml(provider, [ligne(n, provider.numbers[n % 6]) for n in range(1, 3001)])
    # A busy server: the threads of asyncio.to_thread are all taken when the request ends.
    busy = ThreadPoolExecutor(1)
    monkeypatch.setattr(asyncio.get_running_loop(), "_default_executor", busy)
    async with anyio.create_task_group() as group:
        group.start_soon(submit, provider, data)
        await waiting.wait()
        await asyncio.sleep(0.2)  # the parsing fills the queue and blocks handing over
        busy.submit(time.sleep, 0.5)
        group.cancel_scope.cancel()
    (worker,) = workers
    assert await wait_stopped(worker)  # threads ended; a process killed, reaped (no zombie)
    assert await nothing_stored(provider)
    monkeypatch.setattr(storing, "batch_facts", real_facts)
    assert (await submit(provider, data)).status == "accepted"  # the name stayed free
    busy.shutdown()


async def test_a_parse_that_cannot_start_its_threads_leaves_no_process_behind(provider,
                                                                               monkeypatch):
    workers = recorded_workers(monkeypatch)
    real_thread = parse_workers._Worker._thread

    def last_thread_fails(worker, target, name):
        if name in ("ingest relay", "ingest parse"):  # the last one each kind of worker starts
            raise RuntimeError("can't start new thread")
        real_thread(worker, target, name)

    monkeypatch.setattr(parse_workers._Worker, "_thread", last_thread_fails)
    data = billing_xml(provider, [ligne(1, provider.numbers[0])])
    with pytest.raises(RuntimeError, match="can't start new thread"):
        await submit(provider, data)
    (worker,) = workers
    assert await wait_stopped(worker)  # a parse process spawned first is killed and reaped
    assert await nothing_stored(provider)


CALLED: list = []


def _side_effect(*args):
    CALLED.append(args)
    return "done"


class _Loaded:
    """What a hostile stream would make the web process build: here, a harmless side effect."""

    def __reduce__(self):
        return (_side_effect, ("unpickled",))


class _FakeChild:
    def __init__(self, stdout: bytes) -> None:
        self.stdout = io.BytesIO(stdout)
        self.returncode = None

    def poll(self):
        return self.returncode

    def kill(self):
        self.returncode = -9

    def wait(self):
        return self.returncode if self.returncode is not None else 0


@pytest.mark.parametrize("stream", [
    pickle.dumps(("header", _Loaded())),
    pickle.dumps(("crash", _Loaded())),
    pickle.dumps(("lines", [("1",)]))[:-3],  # cut short: the child was killed while writing
    pickle.dumps(["header", {}]),
    pickle.dumps(("run", "/bin/sh")),
    b"not a pickle at all",
], ids=["global-in-header", "global-in-crash", "truncated", "not-a-tuple", "unknown-kind",
        "garbage"])
def test_the_web_process_reads_nothing_but_plain_items_from_the_parse_process(stream):
    CALLED.clear()
    worker = parse_workers._ParseProcess(io.BytesIO(b""), keep_content=False)
    worker.process = _FakeChild(stream)
    worker._relay()
    assert CALLED == []  # nothing built or called from the stream
    kind, error = worker.out.get_nowait()
    assert kind == "crash" and isinstance(error, RuntimeError), (kind, error)
    assert "parse process" in str(error)


def test_the_parse_process_items_still_come_through():
    items = [("header", {"rf-borfact": "x.xml"}), ("lines", [("1", "0300012345")] * 3),
             ("end", 3, 12.5)]
    worker = parse_workers._ParseProcess(io.BytesIO(b""), keep_content=False)
    worker.process = _FakeChild(b"".join(pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
                                         for item in items))
    worker.out = parse_workers.queue.Queue()
    worker._relay()
    assert [worker.out.get_nowait() for _ in items] == items


async def test_the_parse_process_gets_none_of_the_web_process_secrets(provider, monkeypatch):
    monkeypatch.setenv("PPAS_SECRET_KEY", "the-signing-key")
    monkeypatch.setenv("DATABASE_URL", "postgres://ppas:password@db/ppas")
    started = []
    real_popen = subprocess.Popen

    def recording(args, **kwargs):
        started.append(kwargs.get("env"))
        return real_popen(args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])]))
    assert report.status == "accepted", report.anomalies
    for env in started:
        assert env is not None and "PPAS_SECRET_KEY" not in env and "DATABASE_URL" not in env
        assert not any("the-signing-key" in value or "password" in value
                       for value in env.values())


async def test_modules_in_the_working_directory_do_not_shadow_the_parse_process(
        provider, monkeypatch, tmp_path):
    marker = tmp_path / "imported"
    fake = tmp_path / "lxml"
    fake.mkdir()
    (fake / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                      "raise ImportError('not the real lxml')\n")
    monkeypatch.chdir(tmp_path)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])]))
    assert not marker.exists()
    assert report.status == "accepted", report.anomalies


async def test_lines_are_written_in_batches(provider, monkeypatch):
    monkeypatch.setattr(parse_workers, "BATCH_SIZE", 2)
    lines = [ligne(i, provider.numbers[(i - 1) % 6], Period.of(today()).plus_months(-1 - i // 6))
             for i in range(1, 13)]
    report = await submit(provider, billing_xml(provider, lines))
    assert report.line_count == 12 and report.accepted_count == 12, report.anomalies


async def test_only_partner_accounts_upload_and_see_their_files(provider, make_user, db):
    from ppas.models import User

    agent = await User.get(login="caisseagent")
    with pytest.raises(AccessDenied):
        await billing_ingest.submit_file(agent, as_file(b"x"), "x.xml", now=now(), max_bytes=CAP)
    report = await submit(provider, billing_xml(provider, [ligne(1, provider.numbers[0])]))
    stranger = await make_user(role="partner_admin")
    assert await billing_file_reports.file_report(stranger, report.file_id) is None
    assert (await billing_file_reports.file_report(provider.user, report.file_id)).line_count == 1


# --------------------------------------------------------------------------- where, in French


def column_of(data: bytes, line_number: int, needle: str, occurrence: int = 0) -> int:
    """The 1-based column (in characters) of the `occurrence`-th `needle` on a line of `data`."""
    line = data.decode().split("\n")[line_number - 1]
    position = -1
    for _ in range(occurrence + 1):
        position = line.index(needle, position + 1)
    return position + 1


async def test_an_indented_bad_element_gets_its_real_column_and_a_french_detail(provider):
    # Indented, in the middle of its line, after a comment quoting the same tag.
    bad = ("    " + ligne(2, provider.numbers[1])
           .replace("<nom>", "<!-- ancienne <nb-heures>é --><nom>")
           .replace("<nb-heures>12.50", "<nb-heures>12.505"))
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), bad])
    report = await submit(provider, data)
    assert codes(report) == ["F05"], report.anomalies
    line_number = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    column = column_of(data, line_number, "<nb-heures>", occurrence=1)
    assert column > 100
    assert report.anomalies[0].message == (
        f"Fichier non conforme au cahier des charges (ligne {line_number}, colonne {column}) : "
        "l'élément <nb-heures> contient « 12.505 », qui a plus de 2 décimales ; attendu : un "
        "nombre d'heures positif ou nul avec au plus 2 décimales et un point comme séparateur, "
        "ex. 12.50 (moins de 10000)")
    assert report.anomalies[0].title == "Fichier non conforme au cahier des charges"


async def test_a_missing_element_points_at_the_one_found_in_its_place(provider):
    bad = "\t" + ligne(2, provider.numbers[1]).replace("<nom>DUPONT</nom>", "")
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), bad])
    report = await submit(provider, data)
    message = report.anomalies[0].message
    line_number = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    assert f"(ligne {line_number}, colonne {column_of(data, line_number, '<prenom>')}) : " \
           "l'élément <prenom> n'est pas à sa place : l'élément attendu à cet endroit est <nom>" \
           in message, message


async def test_a_file_on_one_line_counts_the_tags_before_the_bad_one(provider):
    # 1,200 lines on one line of the file: the locating pass validates 1,000 at a time and
    # drops them; the bad <nb-heures> is the 1,150th of its line.
    lines = [ligne(n, provider.numbers[n % 6]) for n in range(1, 1201)]
    lines[1149] = lines[1149].replace("<nb-heures>12.50", "<nb-heures>douze")
    data = billing_xml(provider, lines).replace(b"\n", b"")
    report = await submit(provider, data)
    assert codes(report) == ["F05"], report.anomalies
    column = column_of(data, 1, "<nb-heures>", occurrence=1149)
    assert report.anomalies[0].message.startswith(
        f"Fichier non conforme au cahier des charges (ligne 1, colonne {column}) : "
        "l'élément <nb-heures> contient « douze »"), report.anomalies[0].message


async def test_without_a_real_column_the_line_alone_is_given(provider, monkeypatch):
    monkeypatch.setattr(reading, "_COLUMN_LINE_CAP", 100)  # the bad line is longer
    bad = ligne(2, provider.numbers[1]).replace("<nb-heures>12.50", "<nb-heures>12.505")
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), bad])
    report = await submit(provider, data)
    line_number = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    message = report.anomalies[0].message
    assert message.startswith(f"Fichier non conforme au cahier des charges (ligne {line_number}) "
                              ": l'élément <nb-heures>"), message
    assert "colonne" not in message


async def test_a_duplicate_record_points_at_its_number(provider):
    second = "  " + ligne(1, provider.numbers[1])
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), second])
    report = await submit(provider, data)
    line_number = data.decode().splitlines().index(second.rstrip("\n")) + 1
    column = column_of(data, line_number, "<n-enregistrement>")
    assert column == 10
    assert report.anomalies[0].message.startswith(
        f"Fichier non conforme au cahier des charges (ligne {line_number}, colonne {column}) : "
        "le numéro d'enregistrement 1 figure déjà ligne"), report.anomalies[0].message


async def test_a_syntax_error_is_said_in_french_with_its_column(provider):
    bad = "  " + ligne(2, provider.numbers[1]).replace("</prenom>", "</prenon>")
    data = billing_xml(provider, [ligne(1, provider.numbers[0]), bad])
    report = await submit(provider, data)
    assert codes(report) == ["F04"], report.anomalies
    line_number = data.decode().splitlines().index(bad.rstrip("\n")) + 1
    message = report.anomalies[0].message
    assert f"ligne {line_number}, colonne " in message and "colonne 0" not in message
    assert message.endswith(f"la balise <prenom> ouverte ligne {line_number} est fermée par "
                            "</prenon> ; chaque balise doit être fermée par la balise de même nom")
    assert "mismatch" not in message
