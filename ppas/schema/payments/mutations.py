"""The caisse starts a payment run."""
from __future__ import annotations

from datetime import date

import strawberry

from ppas.schema.context import Info
from ppas.schema.payments.types import PaymentRun, StartPaymentRunResult, StartPaymentRunSuccess
from ppas.schema.permissions import PAYMENT_DESK
from ppas.services import payments
from ppas.services.errors import ErrorCode, ServiceError


def _date(text: str) -> date:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ServiceError("Indiquez la date de paiement.", field="paidOn",
                           code=ErrorCode.REQUIRED)
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise ServiceError(f"« {cleaned} » n'est pas une date : écrivez-la AAAA-MM-JJ "
                           "(par exemple 2026-11-03).", field="paidOn",
                           code=ErrorCode.INVALID) from None


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="Lancer un paiement de la caisse pour une date de "
                                      "paiement : chaque ligne payable de la caisse, un "
                                      "bordereau par partenaire (publié 48 h après).",
                         permission_classes=PAYMENT_DESK)
    async def start_payment_run(self, info: Info, paid_on: str) -> StartPaymentRunResult:
        context = info.context
        summary = await payments.start_run_for(
            context.user, _date(paid_on), context.now(),
            slip_delay_hours=context.settings.slip_delay_hours)
        run = await payments.own_run(context.user, summary.run_id)
        return StartPaymentRunSuccess(run=PaymentRun.of(run))
