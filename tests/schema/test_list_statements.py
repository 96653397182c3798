"""No list of the schema costs statements per item: every list field, at two lengths.

Each case below runs one document, with its nested relations, as the role that can run it,
on data of its own built at SMALL and at LARGE items, and asserts that the two runs send
the same number of SQL statements (counted by tests/sql_statements.py, on both backends).
The table must name every list field of the schema: a new list without its case fails
test_every_list_field_has_a_case.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from ppas.domain.anomalies import CATALOG
from ppas.domain.periods import current_period
from ppas.models import (
    Anomaly,
    ApiToken,
    AuditEvent,
    BillingFile,
    BillingForm,
    BillingLine,
    Caisse,
    ContactMessage,
    Convention,
    ConventionStatus,
    FormStatus,
    OutboxMessage,
    Partner,
    Registration,
    Role,
    User,
)
from ppas.models.billing_file import AnomalyPhase, FileStatus, LineStatus
from ppas.schema import build_schema
from ppas.schema.context import Context
from ppas.services import billing_forms
from tests.billing_form_support import make_provider
from tests.sql_statements import Statements, count_statements

SMALL, LARGE = 2, 7  # LARGE stays under the caps of unfilledLines (10) and of line codes (8)
LINE_CODES = sorted(code for code, kind in CATALOG.items() if kind.level == "line")


@dataclass
class Built:
    """What a case's builder made: who runs the document, with which variables."""

    user: User
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass
class ListCase:
    name: str
    covers: tuple[str, ...]  # the list fields ("Type.field") the document selects
    document: str
    build: Callable[[int], Awaitable[Built]]  # n items → the data of this case
    lengths: Callable[[dict], list[int]]  # the lengths of the lists that must be n


# --------------------------------------------------------------------------- builders

async def _partner_admin(n: int):
    provider = await make_provider(n)
    return provider, await User.get(id=provider.user.id)


async def _care_plans(n: int) -> Built:
    _, user = await _partner_admin(n)
    return Built(user)


async def _conventions(n: int) -> Built:
    provider, user = await _partner_admin(1)
    for i in range(n - 1):
        await Convention.create(partner=provider.partner, number=f"{provider.convention.number}-{i}",
                                prestation_code="001", hourly_rate=Decimal("21.30"),
                                valid_from=date(2020, 1, 1))
    return Built(user)


async def _worklist(n: int) -> Built:
    """n conventions: each to open this month, open last month, validated two months ago."""
    provider, user = await _partner_admin(1)
    now = datetime.now(timezone.utc)
    this_month = current_period(now)
    conventions = [provider.convention] + [
        await Convention.create(partner=provider.partner, number=f"{provider.convention.number}-{i}",
                                prestation_code="001", hourly_rate=Decimal("21.30"),
                                valid_from=date(2000, 1, 1))
        for i in range(n - 1)]
    for convention in conventions:
        await BillingForm.create(convention=convention, period=str(this_month.previous()))
        await BillingForm.create(convention=convention, period=str(this_month.plus_months(-2)),
                                 status=FormStatus.VALIDATED, validated_at=now, validated_by=user)
    return Built(user)


async def _form_lines(n: int) -> Built:
    provider, user = await _partner_admin(n)
    now = datetime.now(timezone.utc)
    form = await billing_forms.open_form(user, provider.convention.id,
                                         str(current_period(now).previous()), now)
    return Built(user, {"id": str(form.id)})


async def _files(n: int) -> Built:
    provider, user = await _partner_admin(1)
    for i in range(n):
        await _billing_file(provider, user, f"03_{provider.partner.structure_id}_{i:06d}.xml",
                            anomalies=1)
    return Built(user)


async def _billing_file(provider, user, name: str, *, anomalies: int) -> tuple[BillingFile, BillingLine]:
    content = name.encode()
    file = await BillingFile.create(
        partner=provider.partner, convention=provider.convention, uploaded_by=user, name=name,
        sha256=hashlib.sha256(content).hexdigest(), content=content, status=FileStatus.ACCEPTED,
        period="2025-01", line_count=1, accepted_count=0, total_amount=Decimal("10.00"))
    line = await BillingLine.create(
        file=file, record_number=1, file_number="0000000001", last_name="NOM", first_name="Prénom",
        period_start=date(2025, 1, 1), period_end=date(2025, 1, 31), hours=Decimal("1.00"),
        hourly_rate=Decimal("21.30"), participation=Decimal("1.00"), amount=Decimal("20.30"),
        status=LineStatus.ANOMALY)
    for code in LINE_CODES[:anomalies]:
        await Anomaly.create(code=code, phase=AnomalyPhase.BILLING, file=file, line=line,
                             record_number=1, message=f"Anomalie {code}")
    return file, line


async def _file_report(n: int) -> Built:
    provider, user = await _partner_admin(1)
    file, _ = await _billing_file(provider, user, f"03_{provider.partner.structure_id}_201001.xml",
                                  anomalies=n)
    return Built(user, {"id": str(file.id)})


async def _file_line(n: int) -> Built:
    provider, user = await _partner_admin(1)
    _, line = await _billing_file(provider, user, f"03_{provider.partner.structure_id}_201001.xml",
                                  anomalies=n)
    return Built(user, {"id": str(line.id)})


async def _partner_users(n: int) -> Built:
    provider, user = await _partner_admin(1)
    for i in range(n - 1):
        await User.create(login=f"{provider.login}u{i}", password_hash="!", role=Role.PARTNER_USER,
                          caisse_id=user.caisse_id, partner=provider.partner, last_name=f"N{i}")
    return Built(user)


async def _api_tokens(n: int) -> Built:
    provider, user = await _partner_admin(1)
    for i in range(n):
        await ApiToken.create(partner=provider.partner, created_by=user, name=f"jeton {i}",
                              token_hash=secrets.token_hex(32))
    return Built(user)


async def _fresh_caisse() -> Caisse:
    """A caisse of this test alone: its agents see only what the test puts in it."""
    used = set(await Caisse.all().values_list("code", flat=True))
    code = next(f"{i:02d}" for i in range(98, 0, -1) if f"{i:02d}" not in used)
    return await Caisse.create(code=code, name=f"Caisse d'essai {code}")


async def _caisse_staff(role: Role = Role.CAISSE_AGENT) -> tuple[Caisse, User]:
    caisse = await _fresh_caisse()
    user = await User.create(login=f"ag{secrets.token_hex(4)}", password_hash="!", role=role,
                             caisse=caisse, email=f"{secrets.token_hex(4)}@caisse.invalid")
    return caisse, user


async def _partner_of(caisse: Caisse, i: int) -> Partner:
    return await Partner.create(caisse=caisse, structure_id=f"{secrets.randbelow(10**8):08d}",
                                name=f"Structure {caisse.code}-{i}")


async def _convention_requests(n: int) -> Built:
    caisse, agent = await _caisse_staff()
    for i in range(n):
        partner = await _partner_of(caisse, i)
        convention = await Convention.create(
            partner=partner, number=f"R{caisse.code}-{i}-{secrets.token_hex(2)}", prestation_code="001",
            hourly_rate=Decimal("21.30"), valid_from=date(2025, 1, 1),
            status=ConventionStatus.REQUESTED, requested_at=datetime.now(timezone.utc))
        await AuditEvent.create(action="convention_requested", object_type="convention",
                                object_id=str(convention.id), actor_login=f"adm{i}",
                                details={"comment": f"demande {i}"})
    return Built(agent)


async def _pending_registrations(n: int) -> Built:
    """n pre-registrations, each claiming a convention of the caisse whose partner already
    has an administrator: every comparison (convention, administrators, others, login) runs."""
    caisse, agent = await _caisse_staff()
    for i in range(n):
        partner = await _partner_of(caisse, i)
        convention = await Convention.create(
            partner=partner, number=f"P{caisse.code}-{i}-{secrets.token_hex(2)}", prestation_code="001",
            hourly_rate=Decimal("21.30"), valid_from=date(2025, 1, 1))
        await User.create(login=f"adm{secrets.token_hex(4)}", password_hash="!",
                          role=Role.PARTNER_ADMIN, caisse=caisse, partner=partner)
        await Registration.create(
            caisse=caisse, convention_number=convention.number.lower(), structure_id=partner.structure_id,
            partner_name=f"Autre nom {i}", admin_last_name="NOM", admin_first_name="Prénom",
            admin_email=f"{secrets.token_hex(4)}@structure.invalid", admin_phone="0102030405",
            admin_login=f"pre{secrets.token_hex(4)}", address_line="1 rue", postal_code="13001",
            city="Marseille")
    return Built(agent)


async def _outbox(n: int) -> Built:
    caisse, admin = await _caisse_staff(Role.CAISSE_ADMIN)
    for i in range(n):
        person = await User.create(login=f"ob{secrets.token_hex(4)}", password_hash="!",
                                   role=Role.CAISSE_AGENT, caisse=caisse,
                                   email=f"{secrets.token_hex(5)}@caisse.invalid")
        await OutboxMessage.create(recipient=person.email, subject=f"Message {i}", body="…")
    return Built(admin)


async def _contact_messages(n: int) -> Built:
    caisse, agent = await _caisse_staff()
    for i in range(n):
        await ContactMessage.create(caisse=caisse, sender_name=f"Expéditeur {i}",
                                    sender_email=f"{secrets.token_hex(4)}@structure.invalid",
                                    subject=f"Question {i}", body="…",
                                    attachment_name="note.txt" if i % 2 else "")
    return Built(agent)


_DESK_TAG = f"Guichet {secrets.token_hex(3)}"


async def _assistance_desks(n: int) -> Built:
    """n caisses more, each with its desk; the list holds every caisse of the database, so
    only this call's are counted (by name)."""
    await Caisse.filter(name__startswith=_DESK_TAG).delete()
    for _ in range(n):
        caisse = await _fresh_caisse()
        await Caisse.filter(id=caisse.id).update(name=f"{_DESK_TAG} {caisse.code}",
                                                 assistance_phone="01 02 03 04 05")
    return Built(None)


async def _evaluation_world(n: int):
    """A fresh caisse with an evaluation structure, its evaluator, its agent, and n orders,
    half of them reserved by the evaluator."""
    from ppas.models import Beneficiary, EvaluationOrder, OrderStatus, PartnerKind
    caisse, agent = await _caisse_staff()
    partner = await Partner.create(caisse=caisse, structure_id=f"{secrets.randbelow(10**8):08d}",
                                   name=f"Évaluation {caisse.code}", kind=PartnerKind.EVALUATOR)
    evaluator = await User.create(login=f"ev{secrets.token_hex(4)}", password_hash="!",
                                  role=Role.EVALUATOR, caisse=caisse, partner=partner)
    orders = []
    for i in range(n):
        person = await Beneficiary.create(caisse=caisse, file_number=f"{i:010d}",
                                          last_name=f"NOM{i}", first_name="Prénom")
        held = i % 2 == 0
        orders.append(await EvaluationOrder.create(
            partner=partner, beneficiary=person, due_date=date(2027, 1, 1), reference=None,
            status=OrderStatus.RESERVED if held else OrderStatus.OPEN,
            reserved_by=evaluator if held else None,
            reserved_until=datetime(2099, 1, 1, tzinfo=timezone.utc) if held else None))
    return agent, evaluator, orders


async def _evaluation_orders(n: int) -> Built:
    _, evaluator, _ = await _evaluation_world(n)
    return Built(evaluator)


async def _received_evaluations(n: int) -> Built:
    from ppas.models import Evaluation, EvaluationConflict
    agent, evaluator, orders = await _evaluation_world(n)
    for i, order in enumerate(orders):
        await Evaluation.create(order=order, evaluator=evaluator, answers={"COH": "A"}, gir=6)
        await EvaluationConflict.create(
            client_id=f"{i:08d}-0000-4000-8000-{secrets.token_hex(6)}", order=order,
            evaluator=evaluator, order_version=1, answers={"COH": "B"}, content_digest="d",
            gir=5, reason="essai", received_at=datetime.now(timezone.utc))
    return Built(agent)


async def _offline_packages(n: int) -> Built:
    from ppas.models import OfflinePackage
    _, evaluator, orders = await _evaluation_world(n)
    now = datetime.now(timezone.utc)
    for i in range(n):
        await OfflinePackage.create(user=evaluator, browser_id=f"nav-{i}", created_at=now,
                                    orders=[{"orderId": o.id, "version": 1} for o in orders])
    return Built(evaluator)


async def _evaluation_structures(n: int) -> Built:
    from ppas.models import PartnerKind
    caisse, agent = await _caisse_staff()
    for i in range(n):
        partner = await Partner.create(caisse=caisse, name=f"Évaluation {i}",
                                       structure_id=f"{secrets.randbelow(10**8):08d}",
                                       kind=PartnerKind.EVALUATOR)
        await Convention.create(partner=partner, number=f"E{caisse.code}-{i}-{secrets.token_hex(2)}",
                                prestation_code="900", hourly_rate=Decimal("0"),
                                valid_from=date(2025, 1, 1))
    return Built(agent)


# --------------------------------------------------------------------------- the table

CASES = [
    ListCase(
        "carePlans", ("CarePlanPage.items",),
        """{ carePlans(limit: 50) { totalCount items {
              id beneficiary { fileNumber lastName } convention { number sundayHourlyRate } } } }""",
        _care_plans, lambda d: [len(d["carePlans"]["items"])]),
    ListCase(
        "beneficiaries", ("BeneficiaryPage.items", "Beneficiary.carePlans"),
        """{ beneficiaries(limit: 50) { totalCount items { fileNumber carePlans {
              id beneficiary { lastName } convention { number } } } } }""",
        _care_plans,
        lambda d: [len(d["beneficiaries"]["items"]),
                   sum(len(b["carePlans"]) for b in d["beneficiaries"]["items"])]),
    ListCase("conventions", ("Query.conventions",), "{ conventions { id number status } }",
             _conventions, lambda d: [len(d["conventions"])]),
    ListCase(
        "billingForms", ("BillingWorklist.toFill", "BillingWorklist.validated",
                         "BillingWorklist.billablePeriods"),
        """{ billingForms {
              toFill { conventionNumber period status formId lineCount doneCount lastBillableDay }
              validated { conventionNumber period status formId validatedAt }
              billablePeriods { period label } } }""",
        _worklist,
        # two to fill per convention (this month, last month's open form), one validated
        lambda d: [len(d["billingForms"]["toFill"]) // 2, len(d["billingForms"]["validated"])]),
    ListCase(
        "billingForm lines", ("FormLinePage.items", "BillingForm.unfilledLines"),
        """query($id: ID!) { billingForm(id: $id) {
              id validatedBy sundayHoursAllowed convention { number }
              totals { lineCount } unfilledLines { lineId position label }
              lines(limit: 50) { totalCount items { id position hours version
                carePlan { id hourlyRate beneficiary { fileNumber lastName }
                           convention { number } } } } } }""",
        _form_lines,
        lambda d: [len(d["billingForm"]["lines"]["items"]),
                   len(d["billingForm"]["unfilledLines"])]),
    ListCase(
        "billingFiles", ("BillingFileSummaryPage.items",),
        """{ billingFiles(limit: 50) { totalCount items {
              id name status anomalyCount acceptedAmount } } }""",
        _files, lambda d: [len(d["billingFiles"]["items"])]),
    ListCase(
        "billingFile report", ("BillingFileReport.anomalies", "BillingFileReport.anomalyGroups"),
        """query($id: ID!) { billingFile(id: $id) { name anomalyCount
              anomalies { code recordNumber message lineId }
              anomalyGroups { code title count rebillable } } }""",
        _file_report,
        lambda d: [len(d["billingFile"]["anomalies"]), len(d["billingFile"]["anomalyGroups"])]),
    ListCase(
        "billingFileLine", ("BillingFileLine.anomalies",),
        """query($id: ID!) { billingFileLine(id: $id) { fileName rebillable
              anomalies { code message title } } }""",
        _file_line, lambda d: [len(d["billingFileLine"]["anomalies"])]),
    ListCase("partnerUsers", ("Query.partnerUsers",),
             "{ partnerUsers { login displayName role active locked } }",
             _partner_users, lambda d: [len(d["partnerUsers"])]),
    ListCase("apiTokens", ("Query.apiTokens",), "{ apiTokens { name createdBy lastUsedAt } }",
             _api_tokens, lambda d: [len(d["apiTokens"])]),
    ListCase(
        "conventionRequests", ("Query.conventionRequests",),
        """{ conventionRequests { id comment requestedBy convention { number status }
              partner { name structureId } } }""",
        _convention_requests, lambda d: [len(d["conventionRequests"])]),
    ListCase(
        "pendingRegistrations", ("Query.pendingRegistrations", "PendingRegistration.mismatches"),
        """{ pendingRegistrations { reference partnerName loginTaken mismatches
              convention { number status partnerName structureId } } }""",
        _pending_registrations,
        lambda d: [len(d["pendingRegistrations"]),
                   sum(1 for r in d["pendingRegistrations"] if r["mismatches"])]),
    ListCase(
        "receivedContactMessages", ("ReceivedContactMessagePage.items",),
        """{ receivedContactMessages(limit: 50) { totalCount items {
              id subject senderName attachmentName attachmentSize } } }""",
        _contact_messages, lambda d: [len(d["receivedContactMessages"]["items"])]),
    ListCase(
        "assistanceDesks", ("Query.assistanceDesks",),
        "{ assistanceDesks { caisseCode caisseName phone hours address } }",
        _assistance_desks,
        lambda d: [sum(1 for desk in d["assistanceDesks"]
                       if desk["caisseName"].startswith(_DESK_TAG))]),
    ListCase(
        "evaluationOrders", ("EvaluationOrderPage.items",),
        """{ evaluationOrders(limit: 50) { totalCount items { id reference status version
              reservedByMe holder beneficiary { lastName fileNumber } } } }""",
        _evaluation_orders, lambda d: [len(d["evaluationOrders"]["items"])]),
    ListCase(
        "evaluations and conflicts", ("ReceivedEvaluationPage.items", "ReceivedEvaluation.answers",
                                      "EvaluationConflictPage.items", "EvaluationConflict.answers"),
        """{ evaluations(limit: 50) { totalCount items { id gir evaluatorName
              order { reference holder beneficiary { lastName } } answers { field value } } }
             evaluationConflicts(limit: 50) { totalCount items { id gir reason evaluatorName
              order { reference holder beneficiary { lastName } } answers { field value } } } }""",
        _received_evaluations,
        lambda d: [len(d["evaluations"]["items"]), len(d["evaluationConflicts"]["items"])]),
    ListCase(
        "offlinePackages", ("OfflinePackagePage.items", "OfflinePackage.orders",
                            "OfflinePackage.unsynchronisedOrderIds"),
        """{ offlinePackages(limit: 10) { totalCount items { id browserId holder
              orders { orderId version } unsynchronisedOrderIds mayHoldUnsynchronisedWork } } }""",
        _offline_packages,
        lambda d: [len(d["offlinePackages"]["items"]),
                   len(d["offlinePackages"]["items"][0]["orders"]),
                   len(d["offlinePackages"]["items"][0]["unsynchronisedOrderIds"])]),
    ListCase("evaluationStructures", ("Query.evaluationStructures",),
             "{ evaluationStructures { id name structureId city } }",
             _evaluation_structures, lambda d: [len(d["evaluationStructures"])]),
    ListCase("developmentOutbox", ("Query.developmentOutbox",),
             "{ developmentOutbox { recipient subject createdAt } }",
             _outbox, lambda d: [len(d["developmentOutbox"])]),
]

# List fields no query reaches: each is in a mutation's refusal, built from what the use case
# raised, with no statement of its own.
NOT_FROM_A_QUERY = {
    "AdminError.problems": "the fields an administration mutation refused",
    "BillingFormError.lines": "the lines a refused validation lists (read by the use case)",
    "ChangePasswordError.problems": "the password rules a change breaks",
    "SubmitRegistrationError.problems": "the fields a pre-registration must correct",
    "SendContactMessageError.problems": "the fields a message to the assistance must correct",
    "EvaluationError.problems": "the fields an evaluation order's creation refused",
    "EvaluationReceipt.problems": "the fields of one synchronised evaluation to correct",
    "Mutation.synchroniseEvaluations": "one receipt per item sent (tests/services/test_evaluations.py)",
    "OfflinePackageSuccess.orders": "the orders the package use case read in one query",
}


def _list_fields(schema) -> set[str]:
    found = set()
    for name, kind in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(kind, GraphQLObjectType):
            continue
        for field_name, definition in kind.fields.items():
            of = definition.type
            while isinstance(of, GraphQLNonNull):
                of = of.of_type
            if isinstance(of, GraphQLList):
                found.add(f"{name}.{field_name}")
    return found


@pytest.fixture(scope="module")
def schema(settings):
    return build_schema(settings)


def test_every_list_field_has_a_case(schema):
    covered = {f for case in CASES for f in case.covers}
    assert not covered & set(NOT_FROM_A_QUERY)
    missing = _list_fields(schema) - covered - set(NOT_FROM_A_QUERY)
    assert not missing, f"list fields with no statement-count case: {sorted(missing)}"
    unknown = (covered | set(NOT_FROM_A_QUERY)) - _list_fields(schema)
    assert not unknown, f"cases name fields that are not lists of the schema: {sorted(unknown)}"


async def run_counted(schema, settings, case: ListCase, n: int) -> tuple[dict, Statements]:
    built = await case.build(n)
    context = Context(request=None, user=built.user, settings=settings)
    async with count_statements() as statements:
        result = await schema.execute(case.document, variable_values=built.variables,
                                      context_value=context)
    assert result.errors is None, result.errors
    assert case.lengths(result.data) == [n] * len(case.lengths(result.data)), result.data
    return result.data, statements


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_statements_do_not_grow_with_the_list(schema, settings, db, case: ListCase):
    _, small = await run_counted(schema, settings, case, SMALL)
    _, large = await run_counted(schema, settings, case, LARGE)
    assert len(large) == len(small), (f"{case.name}: {len(small)} statements for {SMALL} items, "
                                      f"{len(large)} for {LARGE}\n{large.report()}")


# --------------------------------------------------------------------------- relations a use case read

async def _validated_form() -> tuple[User, BillingForm]:
    provider, user = await _partner_admin(1)
    now = datetime.now(timezone.utc)
    form = await BillingForm.create(convention=provider.convention,
                                    period=str(current_period(now).plus_months(-3)),
                                    status=FormStatus.VALIDATED, validated_at=now, validated_by=user)
    return user, form


async def test_validated_by_is_the_user_get_form_read(schema, settings, db):
    user, form = await _validated_form()
    async with count_statements() as statements:
        result = await schema.execute(
            "query($id: ID!) { billingForm(id: $id) { validatedBy sundayHoursAllowed "
            "convention { number } } }", variable_values={"id": str(form.id)},
            context_value=Context(request=None, user=user, settings=settings))
    assert result.errors is None, result.errors
    assert result.data["billingForm"]["validatedBy"] == f"{user.display_name} ({user.login})"
    # get_form's one statement read the form, its convention and the validating user.
    assert len(statements) == 1, statements.report()


async def test_a_lines_form_is_the_form_get_line_read(schema, settings, db):
    built = await _form_lines(SMALL)
    line = await billing_forms.form_lines(await BillingForm.get(id=int(built.variables["id"])), 0, 1)
    async with count_statements() as statements:
        result = await schema.execute(
            "query($id: ID!) { billingFormLine(id: $id) { id form { id sundayHoursAllowed "
            "convention { number } } } }", variable_values={"id": str(line[0].id)},
            context_value=Context(request=None, user=built.user, settings=settings))
    assert result.errors is None, result.errors
    assert result.data["billingFormLine"]["form"]["id"] == built.variables["id"]
    assert len(statements) == 1, statements.report()


async def test_a_saved_line_reads_nothing_the_save_read(schema, settings, db):
    """Autosave: the line, its plan, beneficiary, form and convention come with the save's own
    read; only the write and the form's totals follow."""
    built = await _form_lines(SMALL)
    line = (await billing_forms.form_lines(await BillingForm.get(id=int(built.variables["id"])),
                                           0, 1))[0]
    async with count_statements() as statements:
        result = await schema.execute(
            """mutation($id: ID!, $version: Int!) {
                 saveFormLine(lineId: $id, hours: "3", version: $version) {
                   ... on FormLineSuccess {
                     line { version carePlan { hourlyRate beneficiary { lastName } }
                            form { id convention { number } } }
                     form { status sundayHoursAllowed convention { number } totals { filledCount } } }
                   ... on FormLineError { message } } }""",
            variable_values={"id": str(line.id), "version": line.version},
            context_value=Context(request=None, user=built.user, settings=settings))
    assert result.errors is None, result.errors
    saved = result.data["saveFormLine"]
    assert saved["line"]["version"] == line.version + 1, saved
    assert saved["form"]["totals"]["filledCount"] == 1
    # The line with its relations, the write, the totals.
    assert [s.split()[0] for s in statements] == ["SELECT", "UPDATE", "SELECT"], statements.report()

