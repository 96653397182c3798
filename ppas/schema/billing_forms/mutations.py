"""Mutations of the online billing form: the same rules and messages for the UI and vendors."""
from __future__ import annotations

import strawberry

from ppas.schema.ids import parse_id
from ppas.schema.billing_forms.types import (
    BillingForm,
    BillingFormError,
    BillingFormResult,
    BillingFormSuccess,
    FormLine,
    FormLineConflict,
    FormLineError,
    FormLineResult,
    FormLineSuccess,
    SaveFormLineResult,
    UnfilledFormLine,
)
from ppas.schema.context import Info
from ppas.services import billing_forms
from ppas.services.errors import AccessDenied, ServiceError

UNKNOWN_LINE = billing_forms.LINE_NOT_YOURS
UNKNOWN_FORM = billing_forms.NOT_YOURS


def _line(info: Info, row) -> FormLine:
    """A line as the line use cases return it: read with its form and the form's convention,
    its care plan and the plan's beneficiary, which the fields below then find loaded."""
    info.context.loaders.prime(row.form, row.form.convention, row.care_plan,
                               row.care_plan.beneficiary)
    return FormLine.from_model(row)


def _form(info: Info, row) -> BillingForm:
    """A form as the form use cases return it: read with its convention."""
    info.context.loaders.prime(row.convention)
    return BillingForm.from_model(row)


def _line_success(info: Info, row) -> FormLineSuccess:
    return FormLineSuccess(line=_line(info, row), form=_form(info, row.form))


def _form_error(error: ServiceError) -> BillingFormError:
    lines = [UnfilledFormLine(line_id=strawberry.ID(str(u.line_id)), position=u.position,
                              label=u.label) for u in getattr(error, "lines", [])]
    return BillingFormError(message=error.message, field=error.field, lines=lines)


async def _stored_line(info: Info, line_id: int) -> FormLine | None:
    try:
        row = await billing_forms.get_line(info.context.user, line_id)
    except ServiceError:
        return None
    if row is None:
        return None
    info.context.loaders.prime(row.form, row.form.convention)  # get_line read them
    return FormLine.from_model(row)


@strawberry.type
class BillingFormMutations:
    @strawberry.mutation(description="Ouvrir le formulaire d'une convention pour une échéance "
                                     "(AAAA-MM) ; il est créé à la première ouverture.")
    async def open_billing_form(self, info: Info, convention_id: strawberry.ID,
                                period: str) -> BillingFormResult:
        convention = parse_id(convention_id)
        if convention is None:
            return BillingFormError(message="Convention inconnue.", field="conventionId")
        try:
            form = await billing_forms.open_form(info.context.user, convention, period,
                                                 info.context.now())
        except ServiceError as error:
            return _form_error(error)
        return BillingFormSuccess(form=_form(info, form))

    @strawberry.mutation(description="Enregistrer les heures d'une ligne (texte saisi, ex. « 12,5 ») "
                                     "avec la version lue : une version dépassée rend un conflit. "
                                     "`hours` : heures en semaine ; `sundayHours` : heures des "
                                     "dimanches et jours fériés, qui s'ajoutent aux heures en semaine.")
    async def save_form_line(self, info: Info, line_id: strawberry.ID, hours: str | None,
                             version: int, sunday_hours: str | None = None) -> SaveFormLineResult:
        line = parse_id(line_id)
        if line is None:
            return FormLineError(message=UNKNOWN_LINE, typed_hours=hours,
                                 typed_sunday_hours=sunday_hours)
        try:
            outcome = await billing_forms.save_line(info.context.user, line, hours, sunday_hours,
                                                    version, info.context.now())
        except AccessDenied as error:
            return FormLineError(message=error.message, typed_hours=hours,
                                 typed_sunday_hours=sunday_hours)
        except ServiceError as error:
            return FormLineError(message=error.message, field=error.field,
                                 line=await _stored_line(info, line), typed_hours=hours,
                                 typed_sunday_hours=sunday_hours)
        if isinstance(outcome, billing_forms.Conflict):
            return FormLineConflict(message=outcome.message, line=_line(info, outcome.line),
                                    typed_hours=outcome.typed_hours,
                                    typed_sunday_hours=outcome.typed_sunday_hours)
        return _line_success(info, outcome)

    @strawberry.mutation(description="Barrer une ligne : aucune heure ce mois-ci, et la ligne ne "
                                     "sera plus proposée les mois suivants.")
    async def cross_out_form_line(self, info: Info, line_id: strawberry.ID) -> FormLineResult:
        return await _set_crossed_out(info, line_id, True)

    @strawberry.mutation(description="Rétablir une ligne barrée (possible jusqu'à la validation).")
    async def restore_form_line(self, info: Info, line_id: strawberry.ID) -> FormLineResult:
        return await _set_crossed_out(info, line_id, False)

    @strawberry.mutation(description="Valider le formulaire : chaque ligne doit être remplie ou "
                                     "barrée ; il part au prochain paiement.")
    async def validate_billing_form(self, info: Info, id: strawberry.ID) -> BillingFormResult:
        return await _form_action(info, id, billing_forms.validate_form)

    @strawberry.mutation(description="Annuler la validation : le jour même (heure de Paris) et "
                                     "tant qu'aucun paiement ne l'a prise.")
    async def cancel_billing_form_validation(self, info: Info,
                                             id: strawberry.ID) -> BillingFormResult:
        return await _form_action(info, id, billing_forms.cancel_validation)


async def _set_crossed_out(info: Info, line_id: strawberry.ID, crossed_out: bool) -> FormLineResult:
    line = parse_id(line_id)
    if line is None:
        return FormLineError(message=UNKNOWN_LINE)
    try:
        row = await billing_forms.set_crossed_out(info.context.user, line, crossed_out,
                                                  info.context.now())
    except ServiceError as error:
        return FormLineError(message=error.message, field=error.field)
    return _line_success(info, row)


async def _form_action(info: Info, id: strawberry.ID, action) -> BillingFormResult:
    form_id = parse_id(id)
    if form_id is None:
        return BillingFormError(message=UNKNOWN_FORM)
    try:
        form = await action(info.context.user, form_id, info.context.now())
    except ServiceError as error:
        return _form_error(error)
    return BillingFormSuccess(form=_form(info, form))
