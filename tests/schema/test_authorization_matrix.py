"""Every named operation, run by every kind of user, against objects that belong to others.

The table below must hold every operation of graphql/operations/: an operation added
without a row fails this test, so nobody ships an operation whose authorisation was
never exercised. For each row the "foreign" objects belong to provider B (13004512) or
to another caisse (04); everybody but their owner must be refused, or get a result
that shows none of them, and the foreign rows must be unchanged afterwards.
"""
from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import pytest

from ppas.domain.password_hashing import hash_password
from ppas.domain.periods import current_period
from ppas.models import (
    ApiToken,
    Beneficiary,
    BillingFile,
    BillingForm,
    BillingLine,
    Caisse,
    ContactMessage,
    Convention,
    ConventionStatus,
    FormLine,
    Partner,
    Registration,
    Role,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from ppas.schema.context import Context
from ppas.services import billing_forms
from ppas.web.operations import OperationFailed
from starlette.datastructures import UploadFile

_serial = itertools.count(1)


@dataclass
class World:
    """Actors and the foreign objects they must not reach."""

    actors: dict[str, User | None] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    upload_b: tuple[str, bytes] = ("", b"")  # a file in B's name, for SubmitBillingFile


async def _user(login: str, role: Role, caisse: Caisse, partner: Partner | None) -> User:
    return await User.create(login=login, password_hash=hash_password("Secret2026"), role=role,
                             caisse=caisse, partner=partner, email=f"{login}@example.org",
                             password_changed_at=datetime.now(timezone.utc))


@pytest.fixture(scope="module")
async def world(db) -> World:
    n = next(_serial)
    caisse03 = await Caisse.get(code="03")
    caisse04, _ = await Caisse.get_or_create(code="04", defaults={"name": "Carsat Autre Région"})
    provider_a = await Partner.get(structure_id="21231300")
    provider_b = await Partner.get(structure_id="13004512")
    partner_04, _ = await Partner.get_or_create(
        caisse=caisse04, structure_id="44000001", defaults={"name": "Aide Loire Océan"})
    convention_04, _ = await Convention.get_or_create(
        number="C04-0001", defaults={"partner": partner_04, "prestation_code": "001",
                                     "hourly_rate": Decimal("20.00"), "valid_from": date(2025, 1, 1)})
    w = World()
    w.actors = {
        "anonymous": None,
        "admin_a": await _user(f"mxadmina{n}", Role.PARTNER_ADMIN, caisse03, provider_a),
        "user_a": await _user(f"mxusera{n}", Role.PARTNER_USER, caisse03, provider_a),
        "admin_b": await _user(f"mxadminb{n}", Role.PARTNER_ADMIN, caisse03, provider_b),
        "agent_03": await _user(f"mxagent03n{n}", Role.CAISSE_AGENT, caisse03, None),
        "agent_04": await _user(f"mxagent04n{n}", Role.CAISSE_AGENT, caisse04, None),
        "caisse_admin_04": await _user(f"mxcadmin04n{n}", Role.CAISSE_ADMIN, caisse04, None),
    }
    staff_b = await _user(f"mxstaffb{n}", Role.PARTNER_USER, caisse03, provider_b)
    token_b = await ApiToken.create(partner=provider_b, created_by=w.actors["admin_b"],
                                    name=f"Logiciel B {n}", token_hash=f"{n:064d}")
    registration_04 = await Registration.create(
        caisse=caisse04, convention_number="C04-0001", structure_id="44000001",
        partner_name="Aide Loire Océan", admin_last_name="LEROUX", admin_first_name="Anne",
        admin_email="anne@example.org", admin_phone="0240000000", admin_login=f"mxreg04n{n}",
        address_line="1 quai", postal_code="44000", city="Nantes")
    request_04 = await Convention.create(
        partner=partner_04, number=f"DEM-MX{n}", prestation_code="014", hourly_rate=Decimal("0"),
        valid_from=date(2026, 1, 1), status=ConventionStatus.REQUESTED)
    beneficiary_b = await Beneficiary.get(file_number="0300020001")
    convention_b = await Convention.get(number="C03-0002")
    now = datetime.now(timezone.utc)
    period = str(current_period(now).previous())
    form_b = await billing_forms.open_form(w.actors["admin_b"], convention_b.id, period, now)
    line_b = await FormLine.filter(form_id=form_b.id).order_by("position").first()
    # A billing file of B with one refused line (L01), uploaded by B's admin.
    from ppas.models import BillingLine
    from ppas.services import billing_ingest
    from tests.billing_file_support import Provider, billing_xml, ligne
    files_b = Provider(provider_b, convention_b, w.actors["admin_b"], "", "13004512")
    month_b = current_period(now).plus_months(-2)
    report_b = await billing_ingest.submit_file(
        w.actors["admin_b"], io.BytesIO(billing_xml(files_b, [ligne(1, "0999999999", month_b)],
                                                    name=files_b.amd_name(month_b),
                                                    echeance=str(month_b))),
        files_b.amd_name(month_b), now=now, max_bytes=1 << 20)
    assert report_b.status == "accepted", report_b.anomalies
    file_line_b = await BillingLine.get(file_id=report_b.file_id)
    month_up = current_period(now).plus_months(-3)
    w.upload_b = (files_b.amd_name(month_up), billing_xml(
        files_b, [ligne(1, "0999999999", month_up)], name=files_b.amd_name(month_up),
        echeance=str(month_up)))
    webhook_b = await WebhookSubscription.create(
        partner=provider_b, created_by=w.actors["admin_b"], events="billing_file.checked",
        url=f"https://b{n}.example.org/notifications", secret="whsec_b")
    delivery_b = await WebhookDelivery.create(
        subscription=webhook_b, partner=provider_b, event_id=f"evt_b{n}",
        event="billing_file.checked", payload="{}", status="failed", created_at=now)
    message_04 = await ContactMessage.create(
        caisse=caisse04, sender_name="Anne LEROUX", sender_email="anne@example.org",
        subject=f"Message à la caisse 04 n{n}", body="Question", attachment_name="note.txt",
        attachment_type="text/plain", attachment_size=2, attachment=b"ok")
    from ppas.models import CarePlan
    beneficiary_04 = await Beneficiary.create(
        caisse=caisse04, file_number=f"04{n:08d}", last_name=f"MXQUATRE{n}", first_name="Zoé")
    plan_04 = await CarePlan.create(
        beneficiary=beneficiary_04, partner=partner_04, convention=convention_04,
        hours_per_month=Decimal("8"), hourly_rate=Decimal("20.00"), participation=Decimal("1"),
        start_date=date(2026, 1, 1))
    w.ids |= {"beneficiary_04": str(beneficiary_04.id), "plan_04": str(plan_04.id),
              "convention_04": str(convention_04.id)}
    from ppas.models import Job, JobState
    job_04 = await Job.create(kind=f"mxjob04n{n}", payload={}, state=JobState.FAILED,
                              run_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                              created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                              attempts=5, last_error=f"mxjoberror04n{n}", caisse=caisse04)
    w.ids |= {"job_04": str(job_04.id)}
    w.ids |= {"message_04": str(message_04.id), "file_b": str(report_b.file_id), "file_line_b": str(file_line_b.id),
             "staff_b": str(staff_b.id), "token_b": str(token_b.id),
             "registration_04": str(registration_04.id), "request_04": str(request_04.id),
             "beneficiary_b": str(beneficiary_b.id), "form_b": str(form_b.id),
             "line_b": str(line_b.id), "convention_b": str(convention_b.id), "period": period,
             "webhook_b": str(webhook_b.id), "delivery_b": str(delivery_b.id)}
    # An evaluation structure of caisse 04 with an open order, a reserved one, an accepted
    # evaluation and a conflict (issue 11): only caisse 04's agents reach them.
    from tests.evaluation_support import answers as evaluation_answers
    from ppas.models import Evaluation, EvaluationConflict, EvaluationOrder, OrderStatus, PartnerKind
    evaluators_04, _ = await Partner.get_or_create(
        caisse=caisse04, structure_id="44000009",
        defaults={"name": "Évaluations Loire", "kind": PartnerKind.EVALUATOR})
    evaluator_04 = await _user(f"mxeval04n{n}", Role.EVALUATOR, caisse04, evaluators_04)
    person_04 = await Beneficiary.create(caisse=caisse04, file_number=f"049{n:07d}",
                                         last_name="EVALMX", first_name="Rose", city="Nantes")
    order_04 = await EvaluationOrder.create(partner=evaluators_04, beneficiary=person_04,
                                            due_date=date(2027, 1, 15), reference=f"EV-MX-{n}")
    held_04 = await EvaluationOrder.create(
        partner=evaluators_04, beneficiary=person_04, due_date=date(2027, 1, 15),
        reference=f"EV-MXR-{n}", status=OrderStatus.RESERVED, reserved_by=evaluator_04,
        reserved_until=datetime(2099, 1, 1, tzinfo=timezone.utc))
    done_04 = await EvaluationOrder.create(partner=evaluators_04, beneficiary=person_04,
                                           due_date=date(2027, 1, 15), reference=f"EV-MXD-{n}",
                                           status=OrderStatus.EVALUATED)
    evaluation_04 = await Evaluation.create(order=done_04, evaluator=evaluator_04,
                                            answers=evaluation_answers(), gir=4)
    conflict_04 = await EvaluationConflict.create(
        client_id=f"{n:08d}-0000-4000-8000-000000000004", order=done_04, evaluator=evaluator_04,
        order_version=1, answers=evaluation_answers(), content_digest="mx", gir=4,
        reason="matrice", received_at=now)
    await Convention.get_or_create(number=f"E04-MX{n}", defaults={
        "partner": evaluators_04, "prestation_code": "900", "hourly_rate": Decimal("0"),
        "valid_from": date(2025, 1, 1)})
    w.ids |= {"evaluators_04": str(evaluators_04.id), "person_04": person_04.file_number}
    w.ids |= {"order_04": str(order_04.id), "held_04": str(held_04.id),
              "evaluation_04": str(evaluation_04.id), "conflict_04": str(conflict_04.id)}
    w.markers = [staff_b.login, token_b.name, registration_04.admin_login, request_04.number,
                 beneficiary_b.file_number, provider_b.name, "C03-0002",
                 files_b.amd_name(month_b), message_04.subject,
                 beneficiary_04.file_number, beneficiary_04.last_name,
                 person_04.last_name, order_04.reference, held_04.reference, done_04.reference]
    # A published slip of B (caisse 03) and a payment run of caisse 04 with a slip.
    from ppas.models import PaymentRun, PaymentSlip
    run_03 = await PaymentRun.create(caisse=caisse03, status="done", paid_on=date(2026, 1, 5))
    slip_b = await PaymentSlip.create(
        run=run_03, partner=provider_b, caisse=caisse03, number=f"03-MXB-{n:06d}",
        amount=Decimal("12.00"), paid_on=date(2026, 1, 5), available_at=now, published_at=now,
        pdf=b"%PDF-1.4 matrice")
    run_04 = await PaymentRun.create(caisse=caisse04, status="done", paid_on=date(2026, 1, 5),
                                     slip_count=1)
    await PaymentSlip.create(run=run_04, partner=partner_04, caisse=caisse04,
                             number=f"04-MXC-{n:06d}", amount=Decimal("13.00"),
                             paid_on=date(2026, 1, 5), available_at=now)
    w.ids.update(slip_b=str(slip_b.id), run_04=str(run_04.id))
    w.markers += [slip_b.number, f"04-MXC-{n:06d}", partner_04.name, webhook_b.url,
                  delivery_b.event_id]
    w.markers += [job_04.kind, job_04.last_error]
    return w


async def _snapshot(w: World) -> dict[str, Any]:
    """What a foreign write would change."""
    return {
        "staff_b": await User.filter(id=w.ids["staff_b"]).values(
            "active", "role", "email", "last_name", "password_hash", "must_change_password"),
        "token_b": await ApiToken.filter(id=w.ids["token_b"]).values("revoked_at", "name"),
        "registration_04": await Registration.filter(id=w.ids["registration_04"]).values("status"),
        "request_04": await Convention.filter(id=w.ids["request_04"]).values("status", "number"),
        "provider_b": await Partner.filter(structure_id="13004512").values(
            "name", "address_line", "phone", "email"),
        "form_b": await BillingForm.filter(id=w.ids["form_b"]).values("status", "version"),
        "lines_b": await FormLine.filter(form_id=w.ids["form_b"]).order_by("id").values(
            "hours", "sunday_hours", "crossed_out", "version"),
        "users_of_b": await User.filter(partner__structure_id="13004512").count(),
        "tokens_of_b": await ApiToken.filter(partner__structure_id="13004512").count(),
        "billing_files_of_b": await BillingFile.filter(partner__structure_id="13004512")
        .order_by("id").values("status", "accepted_count"),
        "billing_lines_b": await BillingLine.filter(file_id=w.ids["file_b"]).values("status"),
        "beneficiary_04": await Beneficiary.filter(id=w.ids["beneficiary_04"]).values(
            "file_number", "last_name", "deceased_on"),
        "plan_04": await _care_plans(w),
        "convention_04": await Convention.filter(id=w.ids["convention_04"]).values("status"),
        "payment_runs": await _payment_runs(),
        "webhooks_b": await WebhookSubscription.filter(partner__structure_id="13004512")
        .order_by("id").values("url", "deleted_at"),
        "deliveries_b": await WebhookDelivery.filter(partner__structure_id="13004512")
        .order_by("id").values("status", "attempts", "next_attempt_at"),
        "orders_04": await _evaluation_orders_04(w),
        "conflict_04": await _conflict_04(w),
        "job_04": await _job(w),
    }


async def _job(w: World) -> list[dict[str, Any]]:
    from ppas.models import Job
    return await Job.filter(id=w.ids["job_04"]).values("state", "attempts", "run_at")


async def _care_plans(w: World) -> list[dict[str, Any]]:
    from ppas.models import CarePlan
    return await CarePlan.filter(beneficiary_id=w.ids["beneficiary_04"]).order_by("id").values(
        "hours_per_month", "notified_at", "closed_at", "end_date")


async def _payment_runs() -> list[dict]:
    from ppas.models import PaymentRun

    return await PaymentRun.all().order_by("id").values("id", "status", "slip_count")


async def _evaluation_orders_04(w: World) -> list[dict[str, Any]]:
    from ppas.models import EvaluationOrder
    ids = [w.ids["order_04"], w.ids["held_04"]]
    return [await EvaluationOrder.filter(id__in=ids).order_by("id").values(
        "status", "version", "reserved_by_id", "reserved_until"),
        await EvaluationOrder.filter(partner_id=w.ids["evaluators_04"]).count()]


async def _conflict_04(w: World) -> list[dict[str, Any]]:
    from ppas.models import Evaluation, EvaluationConflict
    return [await EvaluationConflict.filter(id=w.ids["conflict_04"]).values("status"),
            await Evaluation.filter(order__beneficiary__caisse__code="04").count()]


Variables = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    """How to aim an operation at foreign objects, and who owns them."""

    variables: Variables
    owners: frozenset[str] = frozenset()  # the actors entitled to act on the foreign objects
    public: bool = False  # callable anonymously (sign-in, sign-up, password reset)


def _user_input(w: World) -> dict[str, Any]:
    n = next(_serial)
    return {"login": f"mxnew{n}", "lastName": "NOUVEAU", "firstName": "Nina",
            "email": f"mxnew{n}@example.org", "role": "PARTNER_USER", "phone": ""}


B = frozenset({"admin_b"})
CAISSE_04 = frozenset({"agent_04", "caisse_admin_04"})

TABLE: dict[str, Row] = {
    "AdminApiTokens": Row(lambda w: {}, owners=B),
    "AdminConventions": Row(lambda w: {}, owners=B),
    "AdminCreateApiToken": Row(lambda w: {"tokenName": f"mx {next(_serial)}"}, owners=B),
    "AdminCreateUser": Row(lambda w: {"input": _user_input(w)}, owners=B),
    "AdminDeactivateUser": Row(lambda w: {"id": w.ids["staff_b"]}, owners=B),
    "AdminPartner": Row(lambda w: {}, owners=B),
    "AdminReactivateUser": Row(lambda w: {"id": w.ids["staff_b"]}, owners=B),
    "AdminRequestConvention": Row(lambda w: {"prestationCode": "020", "comment": "matrice"}, owners=B),
    "AdminRevokeApiToken": Row(lambda w: {"id": w.ids["token_b"]}, owners=B),
    "AdminUpdatePartner": Row(lambda w: {"input": {
        "name": "Aide et Domicile Provence", "addressLine": "12 rue de la République",
        "postalCode": "13001", "city": "Marseille", "phone": "0491000000",
        "email": "contact@adp.demo.ppas.invalid"}}, owners=B),
    "AdminUpdateUser": Row(lambda w: {"id": w.ids["staff_b"], "input": {
        "lastName": "PIRATE", "firstName": "Pierre", "email": "pirate@example.org",
        "role": "PARTNER_ADMIN", "phone": ""}}, owners=B),
    "AdminUsers": Row(lambda w: {}, owners=B),
    "BillingFormLine": Row(lambda w: {"id": w.ids["line_b"], "offset": 0, "limit": 20},
                           owners=B),
    "BillingFormPage": Row(lambda w: {"id": w.ids["form_b"], "offset": 0, "limit": 20}, owners=B),
    "BillingFormRecap": Row(lambda w: {"id": w.ids["form_b"]}, owners=B),
    "BillingWorklist": Row(lambda w: {}, owners=B),
    "CancelBillingFormValidation": Row(lambda w: {"id": w.ids["form_b"]}, owners=B),
    "CrossOutFormLine": Row(lambda w: {"lineId": w.ids["line_b"], "offset": 0, "limit": 20},
                            owners=B),
    "OpenBillingForm": Row(lambda w: {"conventionId": w.ids["convention_b"],
                                      "period": w.ids["period"]}, owners=B),
    "RestoreFormLine": Row(lambda w: {"lineId": w.ids["line_b"], "offset": 0, "limit": 20},
                           owners=B),
    "SaveFormLine": Row(lambda w: {"lineId": w.ids["line_b"], "hours": "1,5", "sundayHours": None,
                                   "version": 1, "offset": 0, "limit": 20}, owners=B),
    "ValidateBillingForm": Row(lambda w: {"id": w.ids["form_b"]}, owners=B),
    "Beneficiaries": Row(lambda w: {"offset": 0, "limit": 100}, owners=B),
    "Beneficiary": Row(lambda w: {"id": w.ids["beneficiary_b"]}, owners=B),
    "BillingFile": Row(lambda w: {"id": w.ids["file_b"]}, owners=B),
    "BillingFiles": Row(lambda w: {"offset": 0, "limit": 100}, owners=B),
    "BillingFileAnomaliesCsv": Row(lambda w: {"id": w.ids["file_b"]}, owners=B),
    "BillingFileLine": Row(lambda w: {"id": w.ids["file_line_b"]}, owners=B),
    "RebillBillingLine": Row(lambda w: {"lineId": w.ids["file_line_b"], "input": {
        "fileNumber": "0300020001", "periodStart": "2026-01-01", "periodEnd": "2026-01-31",
        "hours": "1", "hourlyRate": "21,30", "participation": "3,20", "amount": "18,10",
        "sundayHours": ""}}, owners=B),
    "SubmitBillingFile": Row(lambda w: {"file": UploadFile(io.BytesIO(w.upload_b[1]),
                                                           filename=w.upload_b[0]),
                                        "dryRun": False}, owners=B),
    "CaisseConventionRequests": Row(lambda w: {}, owners=CAISSE_04),
    "CaisseDecideConventionRequest": Row(lambda w: {
        "id": w.ids["request_04"], "decision": "VALIDATE", "number": f"C04-9{next(_serial):03d}",
        "hourlyRate": "20,00", "reason": ""}, owners=CAISSE_04),
    "ChangePassword": Row(lambda w: {"login": w.actors["admin_b"].login, "oldPassword": "Wrong2026",
                                     "newPassword": "Nouveau2026", "confirmation": "Nouveau2026"},
                          public=True),
    "DevelopmentOutbox": Row(lambda w: {"limit": 50}, owners=frozenset({"caisse_admin_04"})),
    "PartnerHome": Row(lambda w: {"billing": True}, owners=B),
    "CaisseHome": Row(lambda w: {}, owners=CAISSE_04),
    "BillingFormConfirm": Row(lambda w: {"id": w.ids["form_b"]}, owners=B),
    "PendingRegistrations": Row(lambda w: {}, owners=CAISSE_04),
    "RejectRegistration": Row(lambda w: {"id": w.ids["registration_04"], "reason": "matrice"},
                              owners=CAISSE_04),
    "RequestPasswordReset": Row(lambda w: {"login": w.actors["admin_b"].login,
                                           "email": "not-theirs@example.org"}, public=True),
    "SignIn": Row(lambda w: {"login": w.actors["admin_b"].login, "password": "Wrong2026"},
                  public=True),
    "SignOut": Row(lambda w: {}, public=True),
    "SubmitRegistration": Row(lambda w: {"captcha": "forged", "input": {
        "caisseCode": "04", "conventionNumber": "C04-0001", "structureId": "44000001",
        "structureName": "Aide Loire Océan", "lastName": "X", "firstName": "Y",
        "email": "x@example.org", "phone": "0240000000", "login": f"mxsub{next(_serial)}",
        "addressLine": "1 quai", "postalCode": "44000", "city": "Nantes",
        "acceptConditions": True}}, public=True),
    "ValidateRegistration": Row(lambda w: {"id": w.ids["registration_04"]}, owners=CAISSE_04),
    "ContactPage": Row(lambda w: {}, public=True),
    "SendContactMessage": Row(lambda w: {"captcha": "forged", "attachment": None, "input": {
        "caisseCode": "04", "name": "X", "email": "x@example.org", "subject": "matrice",
        "message": "matrice"}}, public=True),
    "CaisseContactMessages": Row(lambda w: {"offset": 0, "limit": 100}, owners=CAISSE_04),
    "CaisseContactAttachment": Row(lambda w: {"id": w.ids["message_04"]}, owners=CAISSE_04),
    "Anomalies": Row(lambda w: {"filter": {"fileId": w.ids["file_b"]}, "offset": 0, "limit": 100},
                     owners=B),
    # Each caller reads and changes only their own account: nothing foreign to reach.
    "AccountPreferences": Row(lambda w: {}),
    "SetEventMail": Row(lambda w: {"enabled": False}),
    "AnomaliesCsv": Row(lambda w: {"filter": {"fileId": w.ids["file_b"]}}, owners=B),
    # The portal's jobs are seen by every caisse, a caisse's job only by its own: caisse 04's
    # failed job is neither listed nor retried by caisse 03; no partner sees any job.
    "CaisseJobs": Row(lambda w: {"offset": 0, "limit": 500, "state": "FAILED"},
                      owners=CAISSE_04),
    "CaisseRetryJob": Row(lambda w: {"id": w.ids["job_04"]}, owners=CAISSE_04),
    # The caisse's back office: caisse 04's beneficiary, plan and convention.
    "CaisseBeneficiaries": Row(lambda w: {"search": "MXQUATRE",
                                          "offset": 0, "limit": 500}, owners=CAISSE_04),
    "CaisseBeneficiary": Row(lambda w: {"id": w.ids["beneficiary_04"], "offset": 0, "limit": 50},
                             owners=CAISSE_04),
    "CaisseCarePlan": Row(lambda w: {"id": w.ids["plan_04"]}, owners=CAISSE_04),
    "CaisseConvention": Row(lambda w: {"id": w.ids["convention_04"]}, owners=CAISSE_04),
    "CaisseCarePlans": Row(lambda w: {"conventionId": w.ids["convention_04"], "partnerId": None,
                                      "offset": 0, "limit": 50}, owners=CAISSE_04),
    # No foreign argument: each caisse's agents list their own caisse's conventions (03's
    # hold provider B's, which agent_03 may see).
    "CaisseConventionChoices": Row(lambda w: {"offset": 0, "limit": 500},
                                   owners=CAISSE_04 | {"agent_03"}),
    "CaisseCreateBeneficiary": Row(lambda w: {"input": {
        "fileNumber": f"03{next(_serial) + 90000000:08d}", "lastName": "MATRICE",
        "firstName": "Max", "birthDate": "", "deceasedOn": ""}}, owners=CAISSE_04),
    "CaisseUpdateBeneficiary": Row(lambda w: {"id": w.ids["beneficiary_04"], "input": {
        "fileNumber": "0499999999", "lastName": "PIRATE", "firstName": "Pierre",
        "birthDate": "", "deceasedOn": "01/01/2026"}}, owners=CAISSE_04),
    "CaisseCreateCarePlan": Row(lambda w: {"beneficiaryId": w.ids["beneficiary_04"], "input": {
        "conventionId": w.ids["convention_04"], "hoursPerMonth": "9", "participation": "1",
        "startDate": "01/02/2026", "hourlyRate": "", "endDate": ""}}, owners=CAISSE_04),
    "CaisseUpdateCarePlan": Row(lambda w: {"id": w.ids["plan_04"], "input": {
        "conventionId": w.ids["convention_04"], "hoursPerMonth": "99", "participation": "1",
        "startDate": "01/01/2026", "hourlyRate": "", "endDate": ""}}, owners=CAISSE_04),
    "CaisseNotifyCarePlan": Row(lambda w: {"id": w.ids["plan_04"]}, owners=CAISSE_04),
    "CaisseCloseCarePlan": Row(lambda w: {"id": w.ids["plan_04"], "endDate": ""},
                               owners=CAISSE_04),
    "CaisseSuspendConvention": Row(lambda w: {"id": w.ids["convention_04"], "reason": "matrice"},
                                   owners=CAISSE_04),
    "CaisseResumeConvention": Row(lambda w: {"id": w.ids["convention_04"], "reason": "matrice"},
                                  owners=CAISSE_04),
    "CaisseImportBeneficiaries": Row(lambda w: {"file": UploadFile(io.BytesIO(
        ("numero_dossier;nom;prenom;convention;heures_mensuelles;participation;date_debut\r\n"
         f"03{next(_serial) + 80000000:08d};MATRICE;Max;C04-0001;5;1;01/03/2026\r\n").encode()),
        filename="matrice.csv")}, owners=CAISSE_04),
    "PaymentSlips": Row(lambda w: {"offset": 0, "limit": 100}, owners=B),
    "PaymentSlipPdf": Row(lambda w: {"id": w.ids["slip_b"]}, owners=B),
    "PaymentSlipCsv": Row(lambda w: {"id": w.ids["slip_b"]}, owners=B),
    "CaissePaymentRuns": Row(lambda w: {"offset": 0, "limit": 100}, owners=CAISSE_04),
    "CaissePaymentRun": Row(lambda w: {"id": w.ids["run_04"], "offset": 0, "limit": 100},
                            owners=CAISSE_04),
    # A past date: refused for everyone, so no actor pays caisse 03's lines from this table.
    "CaisseStartPaymentRun": Row(lambda w: {"paidOn": "2020-01-01"}, owners=CAISSE_04),
    "AdminWebhooks": Row(lambda w: {"offset": 0, "limit": 100}, owners=B),
    "AdminCreateWebhook": Row(lambda w: {"url": f"http://127.0.0.1:9/mx{next(_serial)}",
                                         "events": ["BILLING_FILE_CHECKED"]}, owners=B),
    "AdminDeleteWebhook": Row(lambda w: {"id": w.ids["webhook_b"]}, owners=B),
    "AdminRedeliverWebhook": Row(lambda w: {"id": w.ids["delivery_b"]}, owners=B),
    "EvaluationOrders": Row(lambda w: {"offset": 0, "limit": 100}, owners=CAISSE_04),
    "EvaluationOrder": Row(lambda w: {"id": w.ids["order_04"]}, owners=CAISSE_04),
    "ReserveEvaluationOrder": Row(lambda w: {"id": w.ids["order_04"]}),
    "ReleaseEvaluationOrder": Row(lambda w: {"id": w.ids["held_04"]}),
    "SubmitEvaluation": Row(lambda w: {"item": {
        "clientId": "00000000-0000-4000-8000-000000000404", "orderId": w.ids["held_04"],
        "orderVersion": 1, "visitDate": "2026-11-18",
        "discriminant": [{"code": c, "modality": "A"} for c in
                         ("COH", "ORI", "TOI", "HAB", "ALI", "ELI", "TRA", "DIN", "DEX", "COM")],
        "illustrative": [], "livingConditions": "x", "needs": "x",
        "recommendedHoursPerMonth": "1", "preventionActions": [], "comments": ""}}),
    "CaisseEvaluations": Row(lambda w: {"offset": 0, "limit": 100}, owners=CAISSE_04),
    "CaisseEvaluation": Row(lambda w: {"id": w.ids["evaluation_04"]}, owners=CAISSE_04),
    "CaisseEvaluationConflict": Row(lambda w: {"id": w.ids["conflict_04"]}, owners=CAISSE_04),
    "CaisseNewEvaluationOrder": Row(lambda w: {}, owners=CAISSE_04),
    "CreateEvaluationOrder": Row(lambda w: {"input": {
        "beneficiaryFileNumber": w.ids["person_04"], "partnerId": w.ids["evaluators_04"],
        "dueDate": "2099-01-01"}}, owners=CAISSE_04),
    "ResolveEvaluationConflict": Row(lambda w: {"id": w.ids["conflict_04"],
                                                "decision": "SET_ASIDE"}, owners=CAISSE_04),
}


def _operation_names(app) -> list[str]:
    return sorted(app.state.operations.operations)


def test_every_operation_has_a_row(app):
    missing = sorted(set(_operation_names(app)) - set(TABLE))
    stale = sorted(set(TABLE) - set(_operation_names(app)))
    assert missing == [], f"add these operations to the authorisation table: {missing}"
    assert stale == [], f"these rows name no operation any more: {stale}"


def _refused(data: dict[str, Any]) -> bool:
    values = list(data.values())
    return all(v is None or (isinstance(v, dict) and str(v.get("__typename", "")).endswith("Error"))
               for v in values)


ACTORS = ["anonymous", "admin_a", "user_a", "admin_b", "agent_03", "agent_04", "caisse_admin_04"]


@pytest.mark.parametrize("name", sorted(TABLE))
async def test_nobody_reads_or_changes_what_is_not_theirs(name, app, settings, world):
    row = TABLE[name]
    runner = app.state.operations
    if name not in runner.operations:
        pytest.skip("covered by test_every_operation_has_a_row")
    before = await _snapshot(world)
    for actor in ACTORS:
        if actor in row.owners:
            continue
        context = Context(request=None, user=world.actors[actor], settings=settings)
        try:
            data = await runner.run(name, context, **row.variables(world))
        except OperationFailed as failure:
            assert failure.messages, f"{name} as {actor}: refusal without a message"
            continue
        shown = json.dumps(data, ensure_ascii=False)
        leaked = [m for m in world.markers if m in shown]
        assert leaked == [], f"{name} as {actor} showed foreign data: {leaked}"
        if actor == "anonymous" and not row.public:
            assert _refused(data), f"{name} answered an anonymous caller: {shown[:300]}"
    assert await _snapshot(world) == before, f"{name} changed another partner's or caisse's data"


async def test_the_owner_does_reach_the_objects(app, settings, world):
    """The table's foreign ids are real: their owner gets them (so the refusals above mean something)."""
    runner = app.state.operations
    context = Context(request=None, user=world.actors["admin_b"], settings=settings)
    data = await runner.run("Beneficiary", context, id=world.ids["beneficiary_b"])
    assert data["beneficiary"]["fileNumber"] == "0300020001"
    users = json.dumps(await runner.run("AdminUsers", context), ensure_ascii=False)
    assert world.actors["admin_b"].login in users
    agent = Context(request=None, user=world.actors["agent_04"], settings=settings)
    pending = json.dumps(await runner.run("PendingRegistrations", agent), ensure_ascii=False)
    assert "mxreg04n" in pending
    inbox = json.dumps(await runner.run("CaisseContactMessages", agent, offset=0, limit=100),
                       ensure_ascii=False)
    assert "Message à la caisse 04" in inbox
    attachment = await runner.run("CaisseContactAttachment", agent, id=world.ids["message_04"])
    assert attachment["contactAttachment"]["name"] == "note.txt"
    own = await runner.run("CaisseBeneficiary", agent, id=world.ids["beneficiary_04"], offset=0,
                           limit=50)
    assert own["caisseBeneficiary"]["lastName"].startswith("MXQUATRE")
    assert own["caisseCarePlans"]["items"][0]["id"] == world.ids["plan_04"]
    slip = await runner.run("PaymentSlipCsv", context, id=world.ids["slip_b"])
    assert slip["paymentSlip"]["number"].startswith("03-MXB-")
    run = await runner.run("CaissePaymentRun", agent, id=world.ids["run_04"], offset=0, limit=10)
    assert run["paymentRun"]["slips"]["items"][0]["number"].startswith("04-MXC-")


async def test_the_caisse_reaches_its_evaluation_objects(app, settings, world):
    """The evaluation rows' foreign ids are real: caisse 04's agent gets them."""
    runner = app.state.operations
    agent = Context(request=None, user=world.actors["agent_04"], settings=settings)
    shown = json.dumps(await runner.run("CaisseEvaluations", agent, offset=0, limit=100),
                       ensure_ascii=False)
    assert "EVALMX" in shown and "matrice" in shown
    order = await runner.run("EvaluationOrder", agent, id=world.ids["held_04"])
    assert order["evaluationOrder"]["status"] == "reserved"
    jobs = json.dumps(await runner.run("CaisseJobs", agent, offset=0, limit=500, state="FAILED"),
                      ensure_ascii=False)
    assert world.markers[-1] in jobs
