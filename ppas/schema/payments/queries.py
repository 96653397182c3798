"""Queries of payment slips (the partner's, published only) and payment runs (the caisse's)."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.pagination import Page, checked_window
from ppas.schema.payments.types import PaymentRun, PaymentSlip, PendingPaymentSlips
from ppas.schema.permissions import PARTNER, PAYMENT_DESK
from ppas.services import payment_slips, payments


@strawberry.type
class PaymentQueries:
    @strawberry.field(description="Les bordereaux de paiement publiés du partenaire, du plus "
                                  "récent paiement au plus ancien.",
                      permission_classes=PARTNER)
    async def payment_slips(self, info: Info, offset: int = 0,
                            limit: int = 20) -> Page[PaymentSlip]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await payment_slips.list_slips(info.context.user, offset, limit)
        url = info.context.settings.public_url
        return Page(items=[PaymentSlip.of(r, url) for r in rows], total_count=total,
                    offset=offset, limit=limit)

    @strawberry.field(description="Un bordereau publié du partenaire ; null sinon (inconnu, "
                                  "pas encore en ligne, ou d'un autre partenaire : NOT_FOUND).",
                      permission_classes=PARTNER)
    async def payment_slip(self, info: Info, id: strawberry.ID) -> PaymentSlip | None:
        key = parse_id(id)
        if key is None:
            return None
        row = await payment_slips.own_slip(info.context.user, key)
        return PaymentSlip.of(row, info.context.settings.public_url) if row else None

    @strawberry.field(description="Les paiements dont le bordereau n'est pas encore en ligne : "
                                  "combien, et quand ils le seront.",
                      permission_classes=PARTNER)
    async def pending_payment_slips(self, info: Info) -> list[PendingPaymentSlips]:
        found = await payment_slips.pending_slips(info.context.user)
        return [PendingPaymentSlips(available_at=p.available_at.isoformat(),
                                    paid_on=p.paid_on.isoformat() if p.paid_on else None,
                                    count=p.count) for p in found]

    @strawberry.field(description="Les paiements de la caisse, du plus récent au plus ancien.",
                      permission_classes=PAYMENT_DESK)
    async def payment_runs(self, info: Info, offset: int = 0,
                           limit: int = 20) -> Page[PaymentRun]:
        offset, limit = checked_window(offset, limit, info.context.settings.max_page_size)
        rows, total = await payments.list_runs(info.context.user, offset, limit)
        return Page(items=[PaymentRun.of(r) for r in rows], total_count=total,
                    offset=offset, limit=limit)

    @strawberry.field(description="Un paiement de la caisse ; null sinon.",
                      permission_classes=PAYMENT_DESK)
    async def payment_run(self, info: Info, id: strawberry.ID) -> PaymentRun | None:
        key = parse_id(id)
        if key is None:
            return None
        row = await payments.own_run(info.context.user, key)
        return PaymentRun.of(row) if row else None
