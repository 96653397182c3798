"""The Strawberry schema: one way in for the UI and for vendors."""
from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)

from ppas.schema.accounts.mutations import AccountMutations
from ppas.schema.beneficiaries.queries import BeneficiaryQueries
from ppas.schema.billing_files.mutations import BillingFileMutations
from ppas.schema.billing_files.queries import BillingFileQueries
from ppas.schema.billing_forms.mutations import BillingFormMutations
from ppas.schema.billing_forms.queries import BillingFormQueries
from ppas.schema.extensions.document_cost import Limits, document_cost
from ppas.schema.contact.mutations import ContactMutations
from ppas.schema.contact.queries import ContactQueries
from ppas.schema.extensions.document_limits import document_limits
from ppas.schema.errors import refusal_handlers
from ppas.schema.evaluations.mutations import EvaluationMutations
from ppas.schema.evaluations.queries import EvaluationQueries
from ppas.schema.extensions.masking import masked_errors
from ppas.schema.partner_admin.mutations import PartnerAdminMutations
from ppas.schema.partner_admin.queries import PartnerAdminQueries
from ppas.schema.outbox.queries import OutboxQueries
from ppas.schema.partners.queries import PartnerQueries
from ppas.schema.registrations.mutations import RegistrationMutations
from ppas.schema.registrations.queries import RegistrationQueries
from ppas.schema.viewer import ViewerQueries
from ppas.settings import Settings


@strawberry.type
class Query(ViewerQueries, PartnerQueries, BeneficiaryQueries, BillingFormQueries, BillingFileQueries,
            PartnerAdminQueries,
            RegistrationQueries, OutboxQueries, ContactQueries, EvaluationQueries):
    """Every query of the portal."""


@strawberry.type
class Mutation(AccountMutations, BillingFormMutations, BillingFileMutations, PartnerAdminMutations,
               RegistrationMutations, ContactMutations, EvaluationMutations):
    """Every mutation of the portal; each returns a union of success and error types."""


def cost_limits(settings: Settings) -> Limits:
    """The budget and page sizes the cost of a document is estimated with."""
    return Limits(budget=settings.graphql_max_cost, page_size=settings.page_size,
                  max_page_size=settings.max_page_size)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its security extensions sized from the settings."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Factories: a fresh extension per request; the parse and validation LRU caches
        # live at module level in Strawberry, so they survive across requests.
        extensions=[
            document_limits(settings.graphql_max_depth, settings.graphql_max_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            document_cost(cost_limits(settings)),
            masked_errors,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        # A ServiceError raised by a mutation becomes its error type, with its code
        # (ppas/schema/errors.py); AccessDenied stays a top-level error.
        exception_handlers=refusal_handlers(),
    )


schema = build_schema(Settings())
