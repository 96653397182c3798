"""The caisse's back office: beneficiaries, care plans, CSV import, suspending conventions."""
from __future__ import annotations

import io
import secrets
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ppas.domain.beneficiary_import import IMPORT_COLUMNS, import_template
from ppas.domain.periods import Period
from ppas.models import (
    AuditEvent,
    Beneficiary,
    Caisse,
    CarePlan,
    Convention,
    ConventionStatus,
    FormLine,
    Partner,
    Role,
    User,
)
from ppas.services import back_office, billing_forms
from ppas.services.back_office import BeneficiaryInput, CarePlanInput, ImportRefused
from ppas.services.errors import AccessDenied, ErrorCode, FieldsRefused, NotFound, ServiceError

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)
MAX = 1 << 20


async def _agent(code: str = "03", role: Role = Role.CAISSE_AGENT) -> User:
    caisse, _ = await Caisse.get_or_create(code=code, defaults={"name": f"Caisse {code}"})
    return await User.create(login=f"bo{secrets.token_hex(5)}", password_hash="x", role=role,
                             caisse=caisse)


async def _convention(code: str = "03", rate: str = "21.30") -> Convention:
    caisse, _ = await Caisse.get_or_create(code=code, defaults={"name": f"Caisse {code}"})
    partner = await Partner.create(caisse=caisse, structure_id=f"{secrets.randbelow(10**8):08d}",
                                   name=f"Aide essai {secrets.token_hex(3)}")
    return await Convention.create(partner=partner, number=f"T{code}-{secrets.token_hex(4).upper()}",
                                   prestation_code="001", hourly_rate=Decimal(rate),
                                   valid_from=date(2025, 1, 1))


def _number(code: str = "03") -> str:
    return f"{code}{secrets.randbelow(10**8):08d}"


def _person(number: str, **changes) -> BeneficiaryInput:
    values = {"file_number": number, "last_name": "Martin", "first_name": "Jeanne",
              "birth_date": "14/02/1941", "deceased_on": ""} | changes
    return BeneficiaryInput(**values)


def _plan(convention: Convention, **changes) -> CarePlanInput:
    values = {"convention": str(convention.id), "hours_per_month": "12,5", "hourly_rate": "",
              "participation": "3,20", "start_date": "01/01/2026", "end_date": ""} | changes
    return CarePlanInput(**values)


# --------------------------------------------------------------------------- beneficiaries

async def test_an_agent_creates_searches_and_edits_a_beneficiary(db):
    agent = await _agent()
    number = _number()
    row = await back_office.create_beneficiary(agent, _person(number, last_name=" martin "),
                                               now=NOW)
    assert (row.file_number, row.last_name, row.birth_date) == (number, "MARTIN",
                                                                date(1941, 2, 14))
    found = await back_office.list_beneficiaries(agent, search=number[:7], limit=500)
    assert row.id in [b.id for b in found.items]
    by_name = await back_office.list_beneficiaries(agent, search=number, limit=5)
    assert [b.id for b in by_name.items] == [row.id] and by_name.total == 1
    edited = await back_office.update_beneficiary(
        agent, row.id, _person(number, deceased_on="2026-03-01"), now=NOW)
    assert edited.deceased_on == date(2026, 3, 1)
    assert await AuditEvent.filter(action="beneficiary_updated", object_id=str(row.id)).exists()


async def test_each_wrong_field_gets_its_french_message(db):
    agent = await _agent()
    with pytest.raises(FieldsRefused) as refused:
        await back_office.create_beneficiary(agent, BeneficiaryInput(
            file_number="12345", last_name="", first_name="Jo", birth_date="31/02/1941",
            deceased_on="01/01/2030"), now=NOW)
    problems = refused.value.problems
    assert set(problems) == {"fileNumber", "lastName", "birthDate", "deceasedOn"}
    assert "10 chiffres" in problems["fileNumber"]
    assert "jj/mm/aaaa" in problems["birthDate"]
    assert "futur" in problems["deceasedOn"]


async def test_a_dossier_number_is_unique_within_the_caisse(db):
    agent = await _agent()
    number = _number()
    await back_office.create_beneficiary(agent, _person(number), now=NOW)
    with pytest.raises(ServiceError) as refused:
        await back_office.create_beneficiary(agent, _person(number), now=NOW)
    assert refused.value.code == ErrorCode.ALREADY_EXISTS
    assert refused.value.field == "fileNumber"


async def test_another_caisse_s_beneficiary_is_not_found(db):
    mine, theirs = await _agent("03"), await _agent("04")
    row = await back_office.create_beneficiary(theirs, _person(_number("04")), now=NOW)
    assert await back_office.get_beneficiary(mine, row.id) is None
    with pytest.raises(NotFound):
        await back_office.update_beneficiary(mine, row.id, _person("0300000001"), now=NOW)
    with pytest.raises(NotFound):
        await back_office.create_care_plan(mine, row.id, _plan(await _convention("03")), now=NOW)
    assert row.id not in [b.id for b in (await back_office.list_beneficiaries(
        mine, search=row.file_number)).items]


async def test_a_partner_or_anonymous_may_not_use_the_back_office(db):
    caisse = await Caisse.get(code="03")
    partner = await Partner.get(structure_id="21231300")
    user = await User.create(login=f"bop{secrets.token_hex(4)}", password_hash="x",
                             role=Role.PARTNER_ADMIN, caisse=caisse, partner=partner)
    for actor in (None, user):
        with pytest.raises(AccessDenied):
            await back_office.list_beneficiaries(actor)


# --------------------------------------------------------------------------- care plans

async def test_a_plan_is_created_edited_notified_then_frozen_and_closed(db):
    agent = await _agent()
    convention = await _convention()
    person = await back_office.create_beneficiary(agent, _person(_number()), now=NOW)
    plan = await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)
    assert plan.hourly_rate == Decimal("21.30") and plan.notified_at is None
    plan = await back_office.update_care_plan(agent, plan.id,
                                              _plan(convention, hours_per_month="20"), now=NOW)
    assert plan.hours_per_month == Decimal("20.00")
    plan = await back_office.notify_care_plan(agent, plan.id, now=NOW)
    assert plan.notified_at == NOW
    with pytest.raises(ServiceError) as refused:
        await back_office.update_care_plan(agent, plan.id, _plan(convention), now=NOW)
    assert refused.value.code == ErrorCode.PLAN_NOTIFIED
    with pytest.raises(ServiceError) as again:
        await back_office.notify_care_plan(agent, plan.id, now=NOW)
    assert again.value.code == ErrorCode.ALREADY_DONE
    closed = await back_office.close_care_plan(agent, plan.id, "31/03/2026", now=NOW)
    assert closed.end_date == date(2026, 3, 31) and closed.closed_at == NOW
    listed = await back_office.list_care_plans(agent, convention_id=convention.id)
    assert [p.id for p in listed.items] == [plan.id]
    by_partner = await back_office.list_care_plans(agent, partner_id=convention.partner_id)
    assert by_partner.total == 1


async def test_plan_rules_rate_participation_dates_and_convention(db):
    agent = await _agent()
    convention = await _convention()
    person = await back_office.create_beneficiary(agent, _person(_number()), now=NOW)
    with pytest.raises(FieldsRefused) as refused:
        await back_office.create_care_plan(agent, person.id, _plan(
            convention, hourly_rate="25,00", participation="30", start_date="01/06/2026",
            end_date="01/01/2026", hours_per_month="0"), now=NOW)
    problems = refused.value.problems
    assert set(problems) == {"hourlyRate", "participation", "endDate", "hoursPerMonth"}
    assert "21,30" in problems["hourlyRate"]
    with pytest.raises(FieldsRefused) as early:
        await back_office.create_care_plan(agent, person.id,
                                           _plan(convention, start_date="01/12/2024"), now=NOW)
    assert "01/01/2025" in early.value.problems["startDate"]
    convention.status = ConventionStatus.SUSPENDED
    await convention.save()
    with pytest.raises(FieldsRefused) as suspended:
        await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)
    assert "n'est pas active" in suspended.value.problems["conventionId"]
    other = await _convention("04")
    with pytest.raises(FieldsRefused) as foreign:
        await back_office.create_care_plan(agent, person.id, _plan(other), now=NOW)
    assert "conventionId" in foreign.value.problems


async def test_the_same_plan_twice_is_refused(db):
    agent = await _agent()
    convention = await _convention()
    person = await back_office.create_beneficiary(agent, _person(_number()), now=NOW)
    await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)
    with pytest.raises(ServiceError) as refused:
        await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)
    assert refused.value.code == ErrorCode.ALREADY_EXISTS


async def test_another_caisse_s_plan_is_neither_seen_nor_changed(db):
    theirs = await _agent("04")
    convention = await _convention("04")
    person = await back_office.create_beneficiary(theirs, _person(_number("04")), now=NOW)
    plan = await back_office.create_care_plan(theirs, person.id, _plan(convention), now=NOW)
    mine = await _agent("03")
    assert await back_office.get_care_plan(mine, plan.id) is None
    assert (await back_office.list_care_plans(mine, convention_id=convention.id)).total == 0
    for action in (back_office.notify_care_plan, back_office.close_care_plan):
        with pytest.raises(NotFound):
            await action(mine, plan.id, now=NOW)
    assert (await CarePlan.get(id=plan.id)).notified_at is None


async def test_only_a_notified_plan_appears_on_the_partner_s_form(db):
    agent = await _agent()
    convention = await _convention()
    partner = await Partner.get(id=convention.partner_id)
    biller = await User.create(login=f"bob{secrets.token_hex(4)}", password_hash="x",
                               role=Role.PARTNER_ADMIN, caisse_id=partner.caisse_id,
                               partner=partner)
    person = await back_office.create_beneficiary(agent, _person(_number()), now=NOW)
    plan = await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)
    form = await billing_forms.open_form(biller, convention.id, "2026-02", NOW)
    assert not await FormLine.filter(form_id=form.id, care_plan_id=plan.id).exists()
    await back_office.notify_care_plan(agent, plan.id, now=NOW)
    form = await billing_forms.open_form(biller, convention.id, "2026-02", NOW)
    assert await FormLine.filter(form_id=form.id, care_plan_id=plan.id).exists()
    assert str(Period.parse("2026-02")) == "2026-02"


# --------------------------------------------------------------------------- conventions

async def test_a_convention_is_suspended_and_resumed_with_a_reason_audited(db):
    agent = await _agent()
    convention = await _convention()
    with pytest.raises(FieldsRefused) as no_reason:
        await back_office.suspend_convention(agent, convention.id, "  ", now=NOW)
    assert "reason" in no_reason.value.problems
    row = await back_office.suspend_convention(agent, convention.id, "Contrôle en cours",
                                               now=NOW)
    assert row.status == ConventionStatus.SUSPENDED
    with pytest.raises(ServiceError) as twice:
        await back_office.suspend_convention(agent, convention.id, "encore", now=NOW)
    assert twice.value.code == ErrorCode.ALREADY_DONE
    row = await back_office.resume_convention(agent, convention.id, "Contrôle terminé", now=NOW)
    assert row.status == ConventionStatus.ACTIVE
    events = await AuditEvent.filter(object_type="convention", object_id=str(convention.id)) \
        .order_by("id").values_list("action", flat=True)
    assert list(events) == ["convention_suspended", "convention_resumed"]
    event = await AuditEvent.filter(action="convention_suspended",
                                    object_id=str(convention.id)).first()
    assert event.details["reason"] == "Contrôle en cours"


async def test_another_caisse_s_convention_is_not_suspended(db):
    convention = await _convention("04")
    with pytest.raises(NotFound):
        await back_office.suspend_convention(await _agent("03"), convention.id, "non", now=NOW)
    assert (await Convention.get(id=convention.id)).status == ConventionStatus.ACTIVE


# --------------------------------------------------------------------------- CSV import

def _csv(rows: list[str], *, bom: bool = False) -> io.BytesIO:
    text = ";".join(IMPORT_COLUMNS) + "\r\n" + "\r\n".join(rows) + "\r\n"
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


async def test_an_import_reports_each_row_and_a_reimport_changes_nothing(db):
    agent = await _agent()
    convention = await _convention()
    a, b, c = _number(), _number(), _number()
    rows = [
        f"{a};Durand;Léa;01/02/1940;;{convention.number};10,5;;2,50;01/01/2026;",
        f"{b};Petit;Luc;1938-05-06;;;;;;;",
        "12AB;Faux;Numéro;;;;;;;;",
        f"{c};Roux;Ana;;;{convention.number};8;99,00;2;01/01/2026;",
    ]
    report = await back_office.import_csv(agent, _csv(rows, bom=True), "pec.csv", now=NOW,
                                          max_bytes=MAX)
    assert [(r.number, r.status) for r in report.rows] == [
        (2, "created"), (3, "created"), (4, "refused"), (5, "refused")]
    assert "numero_dossier" in report.rows[2].reason and "10 chiffres" in report.rows[2].reason
    assert "taux_horaire" in report.rows[3].reason
    # The refused row 5 wrote nothing, not even its beneficiary.
    assert not await Beneficiary.filter(file_number=c).exists()
    plan = await CarePlan.get(beneficiary__file_number=a)
    assert (plan.hours_per_month, plan.hourly_rate, plan.participation) == (
        Decimal("10.50"), Decimal("21.30"), Decimal("2.50"))
    again = await back_office.import_csv(agent, _csv(rows), "pec.csv", now=NOW, max_bytes=MAX)
    assert [r.status for r in again.rows] == ["unchanged", "unchanged", "refused", "refused"]
    assert await CarePlan.filter(beneficiary__file_number=a).count() == 1
    changed = [rows[0].replace("10,5", "11")]
    third = await back_office.import_csv(agent, _csv(changed), "pec.csv", now=NOW,
                                         max_bytes=MAX)
    assert [r.status for r in third.rows] == ["updated"]
    await back_office.notify_care_plan(agent, plan.id, now=NOW)
    fourth = await back_office.import_csv(agent, _csv([rows[0]]), "pec.csv", now=NOW,
                                          max_bytes=MAX)
    assert fourth.rows[0].status == "refused" and "notifiée" in fourth.rows[0].reason


async def test_an_import_never_touches_another_caisse(db):
    theirs = await _agent("04")
    number = _number("04")
    await back_office.create_beneficiary(theirs, _person(number, last_name="Autre"), now=NOW)
    other = await _convention("04")
    mine = await _agent("03")
    report = await back_office.import_csv(
        mine, _csv([f"{_number()};A;B;;;{other.number};5;;1;01/01/2026;"]), "x.csv", now=NOW,
        max_bytes=MAX)
    assert report.rows[0].status == "refused" and "convention" in report.rows[0].reason
    # The same dossier number in caisse 03 is another person: 04's row is untouched.
    await back_office.import_csv(mine, _csv([f"{number};Moi;Même;;;;;;;;"]), "x.csv",
                                 now=NOW, max_bytes=MAX)
    assert (await Beneficiary.get(caisse__code="04", file_number=number)).last_name == "AUTRE"


@pytest.mark.parametrize("content, name, words", [
    (b"%PDF-1.4 \x00\x01", "scan.pdf", "CSV"),
    (b"numero_dossier;nom;prenom\r\n" + "é".encode("latin-1") + b";x;y\r\n", "a.csv", "UTF-8"),
    (b"a;b;c\r\n1;2;3\r\n", "a.csv", "en-tête"),
    (b"", "a.csv", "vide"),
    (b"numero_dossier;nom;prenom\r\n" + b"x" * 3000, "a.csv", "Kio"),
])
async def test_an_unreadable_file_is_refused_whole(db, content, name, words):
    with pytest.raises(ImportRefused) as refused:
        await back_office.import_csv(await _agent(), io.BytesIO(content), name, now=NOW,
                                     max_bytes=2048)
    assert words in refused.value.message
    assert refused.value.code == ErrorCode.IMPORT_REFUSED


def test_the_template_is_the_header_and_an_example():
    lines = import_template().splitlines()
    assert lines[0].split(";") == list(IMPORT_COLUMNS)
    assert len(lines[1].split(";")) == len(IMPORT_COLUMNS)


async def test_a_key_written_meanwhile_is_refused_by_the_unique_index_not_a_crash(db, monkeypatch):
    """Two requests pass the existence check at once: the second insert meets the unique
    index (dossier number; beneficiary + convention + start date) and is told why."""
    agent = await _agent()
    convention = await _convention()
    number = _number()
    person = await back_office.create_beneficiary(agent, _person(number), now=NOW)
    await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)

    async def nobody_has_it(*args, **kwargs):
        return False

    monkeypatch.setattr(back_office, "_taken", nobody_has_it)
    monkeypatch.setattr(back_office, "_plan_taken", nobody_has_it)
    with pytest.raises(ServiceError) as beneficiary:
        await back_office.create_beneficiary(agent, _person(number), now=NOW)
    with pytest.raises(ServiceError) as plan:
        await back_office.create_care_plan(agent, person.id, _plan(convention), now=NOW)
    assert beneficiary.value.code == plan.value.code == ErrorCode.ALREADY_EXISTS
    assert await Beneficiary.filter(caisse__code="03", file_number=number).count() == 1
    assert await CarePlan.filter(beneficiary_id=person.id).count() == 1


async def test_a_reimport_with_empty_date_cells_keeps_the_stored_dates(db):
    agent = await _agent()
    number = _number()
    await back_office.import_csv(agent, _csv([f"{number};Durand;Léa;01/02/1940;;;;;;;"]),
                                 "a.csv", now=NOW, max_bytes=MAX)
    row = await Beneficiary.get(caisse__code="03", file_number=number)
    await back_office.update_beneficiary(
        agent, row.id, _person(number, last_name="Durand", first_name="Léa",
                               birth_date="01/02/1940", deceased_on="01/03/2026"), now=NOW)
    # The same person again with the date cells empty, then with the date columns absent.
    empty = await back_office.import_csv(agent, _csv([f"{number};Durand;Léa;;;;;;;;"]),
                                         "a.csv", now=NOW, max_bytes=MAX)
    absent = await back_office.import_csv(
        agent, io.BytesIO(f"numero_dossier;nom;prenom\r\n{number};Durand;Léa\r\n".encode()),
        "a.csv", now=NOW, max_bytes=MAX)
    assert [empty.rows[0].status, absent.rows[0].status] == ["unchanged", "unchanged"]
    kept = await Beneficiary.get(id=row.id)
    assert (kept.birth_date, kept.deceased_on) == (date(1940, 2, 1), date(2026, 3, 1))
    # A date in the file still updates; the death date is cleared on the page, audited.
    moved = await back_office.import_csv(
        agent, _csv([f"{number};Durand;Léa;02/02/1940;;;;;;;"]), "a.csv", now=NOW,
        max_bytes=MAX)
    assert moved.rows[0].status == "updated"
    assert (await Beneficiary.get(id=row.id)).birth_date == date(1940, 2, 2)
    await back_office.update_beneficiary(
        agent, row.id, _person(number, last_name="Durand", first_name="Léa",
                               birth_date="02/02/1940", deceased_on=""), now=NOW)
    assert (await Beneficiary.get(id=row.id)).deceased_on is None
    cleared = await AuditEvent.filter(action="beneficiary_updated",
                                      object_id=str(row.id)).order_by("-id").first()
    assert cleared.details["before"]["deceased_on"] == "2026-03-01"
    assert cleared.details["after"]["deceased_on"] == ""


@pytest.mark.parametrize("number", ["０３１２３４５６７８", "03١٢٣٤٥٦٧٨", "031234567²"])
async def test_a_dossier_number_is_written_with_ascii_digits_only(db, number):
    agent = await _agent()
    with pytest.raises(FieldsRefused) as refused:
        await back_office.create_beneficiary(agent, _person(number), now=NOW)
    assert set(refused.value.problems) == {"fileNumber"}
    report = await back_office.import_csv(agent, _csv([f"{number};Durand;Léa;;;;;;;;"]),
                                          "a.csv", now=NOW, max_bytes=MAX)
    assert report.rows[0].status == "refused"
    assert back_office.parse_decimal("１２,５") is None
    assert not await Beneficiary.filter(last_name="DURAND", file_number=number).exists()


async def test_a_reimport_after_the_plan_was_closed_is_unchanged(db):
    agent = await _agent()
    convention = await _convention()
    number = _number()
    for end in ("", "31/12/2026"):
        start = "01/01/2026" if not end else "01/02/2026"
        line = f"{number};Durand;Léa;;;{convention.number};10;;2;{start};{end}"
        await back_office.import_csv(agent, _csv([line]), "a.csv", now=NOW, max_bytes=MAX)
        plan = await CarePlan.get(beneficiary__file_number=number,
                                  start_date=back_office.parse_date(start))
        await back_office.notify_care_plan(agent, plan.id, now=NOW)
        await back_office.close_care_plan(agent, plan.id, "", now=NOW)
        again = await back_office.import_csv(agent, _csv([line]), "a.csv", now=NOW,
                                             max_bytes=MAX)
        assert again.rows[0].status == "unchanged", again.rows[0]
        closed = await CarePlan.get(id=plan.id)
        assert closed.end_date == date(2026, 3, 10) and closed.closed_at is not None
    # Anything else that differs on a notified plan is still refused.
    other = f"{number};Durand;Léa;;;{convention.number};11;;2;01/01/2026;"
    refused = await back_office.import_csv(agent, _csv([other]), "a.csv", now=NOW,
                                           max_bytes=MAX)
    assert refused.rows[0].status == "refused" and "notifiée" in refused.rows[0].reason
    earlier = f"{number};Durand;Léa;;;{convention.number};10;;2;01/01/2026;01/03/2026"
    refused = await back_office.import_csv(agent, _csv([earlier]), "a.csv", now=NOW,
                                           max_bytes=MAX)
    assert refused.rows[0].status == "refused"
