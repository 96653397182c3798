"""GraphQL types of the online billing form."""
from __future__ import annotations

import asyncio

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from ppas import models
from ppas.schema.enums import WorklistStatus
from ppas.domain.billing_form import LISTED_UNFILLED
from ppas.domain.periods import Period, last_online_billing_day
from ppas.schema.beneficiaries.types import CarePlan
from ppas.schema.context import Info
from ppas.schema.errors import BillingFormErrorCode, UserError, field_arguments
from ppas.schema.ids import parse_id
from ppas.services.errors import NotFound, ServiceError
from ppas.schema.extensions.document_cost import cost
from ppas.schema.loaders import BillingFormById, CarePlanById, ConventionById, UserById
from ppas.schema.pagination import Page, checked_window
from ppas.schema.partners.types import Convention
from ppas.services import billing_forms


# The cost of one PDF recap in a document's budget (see document_cost): half the default
# budget, so a request lays out one at most.
PDF_WEIGHT = 5000


@strawberry.type(description="Comptes et totaux d'un formulaire ou d'une page (montants en euros).")
class FormTotals:
    line_count: int
    filled_count: int
    crossed_out_count: int
    remaining_count: int = strawberry.field(description="Lignes ni remplies ni barrées.")
    hours: Decimal = strawberry.field(
        description="Heures en semaine (hors dimanches et jours fériés).")
    sunday_hours: Decimal = strawberry.field(
        description="Heures des dimanches et jours fériés, en plus des heures en semaine.")
    total_hours: Decimal = strawberry.field(
        description="Total des heures : heures en semaine + heures dimanches et fériés.")
    amount: Decimal
    last_saved_at: datetime | None
    first_remaining_position: int | None = strawberry.field(
        description="Position de la première ligne ni remplie ni barrée (reprise de saisie).")

    @classmethod
    def from_summary(cls, s: billing_forms.Summary) -> FormTotals:
        return cls(line_count=s.line_count, filled_count=s.filled_count,
                   crossed_out_count=s.crossed_out_count, remaining_count=s.remaining_count,
                   hours=s.hours, sunday_hours=s.sunday_hours, total_hours=s.total_hours,
                   amount=s.amount, last_saved_at=s.last_saved_at,
                   first_remaining_position=s.first_remaining_position)


@strawberry.type(description="Ligne du formulaire : une prise en charge, ses heures du mois, ou barrée.")
class FormLine:
    id: strawberry.ID
    position: int
    hours: Decimal | None = strawberry.field(
        description="Heures en semaine (hors dimanches et jours fériés) ; vide : pas encore remplie.")
    sunday_hours: Decimal | None = strawberry.field(
        description="Heures des dimanches et jours fériés, en plus des heures en semaine (jamais "
                    "comprises dedans) ; seulement si la convention a un tarif du dimanche.")
    amount: Decimal | None = strawberry.field(
        description="heures en semaine × (taux − participation), plus heures dimanches et fériés "
                    "× (tarif du dimanche − participation).")
    crossed_out: bool
    version: int = strawberry.field(description="À renvoyer à l'enregistrement (concurrence optimiste).")
    saved_at: datetime | None
    form_id: strawberry.Private[int]
    care_plan_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.FormLine) -> FormLine:
        return cls(id=strawberry.ID(str(row.id)), position=row.position, hours=row.hours,
                   sunday_hours=row.sunday_hours, amount=row.amount, crossed_out=row.crossed_out,
                   version=row.version, saved_at=row.saved_at, form_id=row.form_id,
                   care_plan_id=row.care_plan_id)

    @classmethod
    async def list_of(cls, rows: list[models.FormLine], info: Info) -> list[FormLine]:
        """Lines whose care plans, and the plans' beneficiaries and conventions, are loaded
        in one batch each (the convention is the form's, already known: no query)."""
        plans = await info.context.loaders.get(CarePlanById).load_many(
            [r.care_plan_id for r in rows])
        await CarePlan.load_relations(plans, info)
        return [cls.from_model(r) for r in rows]

    # Outside lists only: under `lines` it is the form the list was read from, and it let
    # billingForm → lines → form → lines … multiply the rows at every level.
    @strawberry.field(description="Le formulaire de la ligne (hors d'une liste de lignes).",
                      metadata=cost(outside_lists=True))
    def form(self, info: Info) -> BillingForm:
        return info.context.loaders.get(BillingFormById).resolve(self.form_id,
                                                                 BillingForm.from_model)

    @strawberry.field(description="La prise en charge facturée (taux, participation, heures prévues).")
    def care_plan(self, info: Info) -> CarePlan:
        return info.context.loaders.get(CarePlanById).resolve(self.care_plan_id,
                                                              CarePlan.from_model)


@strawberry.type(description="Formulaire de facturation en ligne d'une convention pour une échéance.")
class BillingForm:
    id: strawberry.ID
    period: str
    period_label: str
    status: models.FormStatus = strawberry.field(description="OPEN, VALIDATED (en attente de paiement) ou PAID.")
    version: int
    validated_at: datetime | None
    row: strawberry.Private[models.BillingForm]
    # The form's totals, counted once for this object whichever fields ask (a save
    # returns both the form's and the page's): one query instead of two on every autosave.
    form_summary: strawberry.Private[asyncio.Future | None] = None
    cancel_check: strawberry.Private[asyncio.Future | None] = None

    def _form_summary(self) -> asyncio.Future:
        if self.form_summary is None:
            self.form_summary = asyncio.ensure_future(billing_forms.form_summary(self.row.id))
        return self.form_summary

    @classmethod
    def from_model(cls, row: models.BillingForm) -> BillingForm:
        return cls(id=strawberry.ID(str(row.id)), period=row.period,
                   period_label=Period.parse(row.period).label_fr, status=models.FormStatus(row.status),
                   version=row.version, validated_at=row.validated_at, row=row)

    @strawberry.field(description="La convention facturée.")
    def convention(self, info: Info) -> Convention:
        return info.context.loaders.get(ConventionById).resolve(self.row.convention_id,
                                                                Convention.from_model)

    @strawberry.field(description="Vrai si la convention a un tarif pour les dimanches et jours fériés.")
    def sunday_hours_allowed(self, info: Info) -> bool:
        return info.context.loaders.get(ConventionById).resolve(
            self.row.convention_id, lambda convention: convention.sunday_hourly_rate is not None)

    @strawberry.field(description="Nom de la personne qui a validé le formulaire.")
    def validated_by(self, info: Info) -> str | None:
        if self.row.validated_by_id is None:
            return None
        return info.context.loaders.get(UserById).resolve(self.row.validated_by_id, _signature)

    @strawberry.field(description="Totaux du formulaire entier.")
    async def totals(self) -> FormTotals:
        return FormTotals.from_summary(await self._form_summary())

    @strawberry.field(description="Totaux des lignes d'une page (mêmes offset et limit que lines).")
    async def page_totals(self, info: Info, offset: int = 0, limit: int | None = None) -> FormTotals:
        offset, limit = _window(info, offset, limit)
        whole = await self._form_summary()
        if offset == 0 and limit >= whole.line_count:  # one page holds the whole form
            return FormTotals.from_summary(whole)
        return FormTotals.from_summary(await billing_forms.form_summary(
            self.row.id, offset + 1, offset + limit))

    @strawberry.field(description="Les lignes, dans l'ordre, page par page.")
    async def lines(self, info: Info, offset: int = 0, limit: int | None = None) -> Page[FormLine]:
        offset, limit = _window(info, offset, limit)
        rows = await billing_forms.form_lines(self.row, offset, limit)
        total = await models.FormLine.filter(form_id=self.row.id).count()
        return Page(items=await FormLine.list_of(rows, info), total_count=total,
                    offset=offset, limit=limit)

    def _cancel_problem(self, info: Info) -> asyncio.Future:
        # Asked by both fields below: the integration is looked up once for this object.
        if self.cancel_check is None:
            self.cancel_check = asyncio.ensure_future(
                billing_forms.cancel_problem_now(self.row, info.context.now()))
        return self.cancel_check

    @strawberry.field(description="Vrai si « Annuler » la validation est encore possible.")
    async def can_cancel(self, info: Info) -> bool:
        return self.row.status != models.FormStatus.OPEN and \
            await self._cancel_problem(info) is None

    @strawberry.field(description="Pourquoi la validation ne peut plus être annulée (sinon null).")
    async def cancel_problem(self, info: Info) -> str | None:
        return await self._cancel_problem(info)

    @strawberry.field(description="Les lignes ni remplies ni barrées, qui empêchent la validation "
                                  "(les 10 premières par position ; totals.remainingCount les compte).",
                      metadata=cost(size=LISTED_UNFILLED))
    async def unfilled_lines(self) -> list[UnfilledFormLine]:
        unfilled = await billing_forms.unfilled_of(self.row.id)
        return [UnfilledFormLine(line_id=strawberry.ID(str(u.line_id)), position=u.position,
                                 label=u.label) for u in unfilled[:LISTED_UNFILLED]]

    # A layout takes seconds of CPU: never one per row of a list, and a weight that lets a
    # request ask for a few at most (each is laid out in the PDF thread and kept per version).
    @strawberry.field(description="Le récapitulatif PDF en base64, une fois le formulaire validé "
                                  "(un formulaire à la fois, hors d'une liste).",
                      metadata=cost(outside_lists=True, weight=PDF_WEIGHT))
    async def recap_pdf(self, info: Info) -> str | None:
        if self.row.status == models.FormStatus.OPEN:
            return None
        pdf = await billing_forms.recap_pdf(info.context.user, self.row.id)
        return base64.b64encode(pdf).decode("ascii")


def _signature(user: models.User | None) -> str | None:
    return f"{user.display_name} ({user.login})" if user else None


def _window(info: Info, offset: int, limit: int | None) -> tuple[int, int]:
    settings = info.context.settings
    return checked_window(offset, limit or settings.page_size, settings.max_page_size)


@strawberry.type(description="Un formulaire à remplir, à ouvrir, ou validé récemment.")
class WorklistEntry:
    convention_id: strawberry.ID
    convention_number: str
    period: str
    period_label: str
    status: WorklistStatus = strawberry.field(description="TO_OPEN, OPEN, VALIDATED ou PAID.")
    form_id: strawberry.ID | None
    line_count: int
    done_count: int = strawberry.field(description="Lignes remplies ou barrées.")
    last_saved_at: datetime | None
    validated_at: datetime | None

    @strawberry.field(description="Dernier jour (heure de Paris) pour facturer cette échéance en "
                                  "ligne ; ensuite, seule une facture individuelle à la caisse.")
    def last_billable_day(self) -> date:
        return last_online_billing_day(Period.parse(self.period))

    @classmethod
    def from_entry(cls, e: billing_forms.WorklistEntry) -> WorklistEntry:
        return cls(convention_id=strawberry.ID(str(e.convention_id)),
                   convention_number=e.convention_number, period=e.period,
                   period_label=Period.parse(e.period).label_fr, status=WorklistStatus(e.status),
                   form_id=strawberry.ID(str(e.form_id)) if e.form_id else None,
                   line_count=e.line_count, done_count=e.done_count,
                   last_saved_at=e.last_saved_at, validated_at=e.validated_at)


@strawberry.type(description="Un mois facturable en ligne.")
class BillablePeriod:
    period: str = strawberry.field(description="AAAA-MM")
    label: str = strawberry.field(description="En toutes lettres, ex. « mars 2026 ».")


@strawberry.type(description="La liste de travail « Facturation ».")
class BillingWorklist:
    to_fill: list[WorklistEntry]
    validated: list[WorklistEntry]
    billable_periods: list[BillablePeriod] = strawberry.field(
        description="Les mois que le formulaire en ligne accepte aujourd'hui, du plus récent au "
                    "plus ancien (le mois en cours et les 12 précédents).")


# --------------------------------------------------------------------------- results


@strawberry.type(description="Action réussie sur un formulaire.")
class BillingFormSuccess:
    form: BillingForm


@strawberry.type(description="Ligne qui bloque la validation : ni remplie ni barrée.")
class UnfilledFormLine:
    line_id: strawberry.ID
    position: int
    label: str


@strawberry.type(description="Action refusée sur un formulaire ; lines liste les lignes à terminer.")
class BillingFormError(UserError):
    code_enum = BillingFormErrorCode
    code: BillingFormErrorCode = strawberry.field(description="Code stable du refus.")
    lines: list[UnfilledFormLine] = strawberry.field(default_factory=list)

    @classmethod
    def from_service(cls, error: ServiceError, info=None) -> BillingFormError:
        lines = [UnfilledFormLine(line_id=strawberry.ID(str(u.line_id)), position=u.position,
                                  label=u.label) for u in getattr(error, "lines", [])]
        return cls(code=BillingFormErrorCode[error.code.name], message=error.message,
                   field=error.field, lines=lines)


BillingFormResult = Annotated[BillingFormSuccess | BillingFormError,
                              strawberry.union("BillingFormResult")]


@strawberry.type(description="Ligne enregistrée (ou inchangée).")
class FormLineSuccess:
    line: FormLine
    form: BillingForm


@strawberry.type(description="Ligne modifiée entre-temps : rien n'est écrasé, les deux valeurs sont rendues.")
class FormLineConflict:
    message: str
    line: FormLine = strawberry.field(description="La ligne telle qu'enregistrée (et sa version).")
    typed_hours: str
    typed_sunday_hours: str


@strawberry.type(description="Saisie refusée ; la ligne enregistrée et la saisie sont rendues.")
class FormLineError(UserError):
    code_enum = BillingFormErrorCode
    code: BillingFormErrorCode = strawberry.field(description="Code stable du refus.")
    line: FormLine | None = None
    typed_hours: str | None = None
    typed_sunday_hours: str | None = None

    @classmethod
    async def from_service(cls, error: ServiceError, info=None) -> FormLineError:
        """The refusal with what was typed and, unless the line is not the caller's, the line
        as stored: the page shows both side by side."""
        arguments = field_arguments(info) if info is not None else {}
        line = None
        line_id = parse_id(arguments.get("lineId"))
        if line_id is not None and not isinstance(error, NotFound):
            try:
                row = await billing_forms.get_line(info.context.user, line_id)
            except ServiceError:
                row = None
            if row is not None:
                info.context.loaders.prime(row.form, row.form.convention)  # get_line read them
            line = FormLine.from_model(row) if row else None
        return cls(code=BillingFormErrorCode[error.code.name], message=error.message,
                   field=error.field, line=line, typed_hours=arguments.get("hours"),
                   typed_sunday_hours=arguments.get("sundayHours"))


SaveFormLineResult = Annotated[FormLineSuccess | FormLineConflict | FormLineError,
                               strawberry.union("SaveFormLineResult")]
FormLineResult = Annotated[FormLineSuccess | FormLineError, strawberry.union("FormLineResult")]
