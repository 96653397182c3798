"""Mutations of the online billing form: the same rules and messages for the UI and vendors."""
from __future__ import annotations

import strawberry

from ppas.schema.ids import parse_id
from ppas.schema.billing_forms.types import (
    BillingForm,
    BillingFormResult,
    BillingFormSuccess,
    FormLine,
    FormLineConflict,
    FormLineResult,
    FormLineSuccess,
    SaveFormLineResult,
)
from ppas.schema.context import Info
from ppas.services import billing_forms
from ppas.schema.permissions import PARTNER
from ppas.services.errors import NotFound

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


def _key(value: strawberry.ID, unknown: str, field: str | None = None) -> int:
    """The database id of an opaque id; a malformed one is NOT_FOUND, like someone else's."""
    key = parse_id(value)
    if key is None:
        raise NotFound(unknown, field=field)
    return key


# Refusals (ServiceError) become BillingFormError or FormLineError through the schema's
# exception handlers (ppas/schema/errors.py): no resolver catches them.
@strawberry.type
class BillingFormMutations:
    @strawberry.mutation(description="Ouvrir le formulaire d'une convention pour une échéance "
                                     "(AAAA-MM) ; il est créé à la première ouverture.",
                         permission_classes=PARTNER)
    async def open_billing_form(self, info: Info, convention_id: strawberry.ID,
                                period: str) -> BillingFormResult:
        convention = _key(convention_id, "Convention inconnue.", "conventionId")
        form = await billing_forms.open_form(info.context.user, convention, period,
                                             info.context.now())
        return BillingFormSuccess(form=_form(info, form))

    @strawberry.mutation(description="Enregistrer les heures d'une ligne (texte saisi, ex. « 12,5 ») "
                                     "avec la version lue : une version dépassée rend un conflit. "
                                     "`hours` : heures en semaine ; `sundayHours` : heures des "
                                     "dimanches et jours fériés, qui s'ajoutent aux heures en semaine.",
                         permission_classes=PARTNER)
    async def save_form_line(self, info: Info, line_id: strawberry.ID, hours: str | None,
                             version: int, sunday_hours: str | None = None) -> SaveFormLineResult:
        line = _key(line_id, UNKNOWN_LINE)
        outcome = await billing_forms.save_line(info.context.user, line, hours, sunday_hours,
                                                version, info.context.now())
        if isinstance(outcome, billing_forms.Conflict):
            return FormLineConflict(message=outcome.message, line=_line(info, outcome.line),
                                    typed_hours=outcome.typed_hours,
                                    typed_sunday_hours=outcome.typed_sunday_hours)
        return _line_success(info, outcome)

    @strawberry.mutation(description="Barrer une ligne : aucune heure ce mois-ci, et la ligne ne "
                                     "sera plus proposée les mois suivants.",
                         permission_classes=PARTNER)
    async def cross_out_form_line(self, info: Info, line_id: strawberry.ID) -> FormLineResult:
        return await _set_crossed_out(info, line_id, True)

    @strawberry.mutation(description="Rétablir une ligne barrée (possible jusqu'à la validation).",
                         permission_classes=PARTNER)
    async def restore_form_line(self, info: Info, line_id: strawberry.ID) -> FormLineResult:
        return await _set_crossed_out(info, line_id, False)

    @strawberry.mutation(description="Valider le formulaire : chaque ligne doit être remplie ou "
                                     "barrée ; il part au prochain paiement.",
                         permission_classes=PARTNER)
    async def validate_billing_form(self, info: Info, id: strawberry.ID) -> BillingFormResult:
        return await _form_action(info, id, billing_forms.validate_form)

    @strawberry.mutation(description="Annuler la validation : le jour même (heure de Paris) et "
                                     "tant qu'aucun paiement ne l'a prise.",
                         permission_classes=PARTNER)
    async def cancel_billing_form_validation(self, info: Info,
                                             id: strawberry.ID) -> BillingFormResult:
        return await _form_action(info, id, billing_forms.cancel_validation)


async def _set_crossed_out(info: Info, line_id: strawberry.ID, crossed_out: bool) -> FormLineResult:
    row = await billing_forms.set_crossed_out(info.context.user, _key(line_id, UNKNOWN_LINE),
                                              crossed_out, info.context.now())
    return _line_success(info, row)


async def _form_action(info: Info, id: strawberry.ID, action) -> BillingFormResult:
    form = await action(info.context.user, _key(id, UNKNOWN_FORM), info.context.now())
    return BillingFormSuccess(form=_form(info, form))
