"""Queries of the online billing form: the worklist and one form with its lines."""
from __future__ import annotations

import strawberry

from ppas.schema.permissions import PARTNER
from ppas.domain.periods import online_billable_periods
from ppas.schema.billing_forms.types import (BillablePeriod, BillingForm, BillingWorklist, FormLine,
                                             WorklistEntry)
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.services import billing_forms


@strawberry.type
class BillingFormQueries:
    @strawberry.field(description="« Facturation » : les formulaires à remplir, puis ceux validés récemment.",
                      permission_classes=PARTNER)
    async def billing_forms(self, info: Info) -> BillingWorklist:
        work = await billing_forms.worklist(info.context.user, info.context.now())
        periods = online_billable_periods(info.context.now())
        return BillingWorklist(to_fill=[WorklistEntry.from_entry(e) for e in work.to_fill],
                               validated=[WorklistEntry.from_entry(e) for e in work.validated],
                               billable_periods=[BillablePeriod(period=str(p), label=p.label_fr)
                                                 for p in periods])

    @strawberry.field(description="Un formulaire du partenaire ; null s'il n'est pas le sien.",
                      permission_classes=PARTNER)
    async def billing_form(self, info: Info, id: strawberry.ID) -> BillingForm | None:
        form_id = parse_id(id)
        if form_id is None:
            return None
        row = await billing_forms.get_form(info.context.user, form_id)
        if row is None:
            return None
        info.context.loaders.prime(row.convention, row.validated_by)  # get_form read them
        return BillingForm.from_model(row)

    @strawberry.field(description="Une ligne d'un formulaire du partenaire ; null sinon.",
                      permission_classes=PARTNER)
    async def billing_form_line(self, info: Info, id: strawberry.ID) -> FormLine | None:
        line_id = parse_id(id)
        if line_id is None:
            return None
        row = await billing_forms.get_line(info.context.user, line_id)
        if row is None:
            return None
        info.context.loaders.prime(row.form, row.form.convention)  # get_line read them
        return FormLine.from_model(row)
