"""Submit a pre-registration; validate or reject it (caisse agents)."""
from __future__ import annotations

import strawberry

from ppas.domain.references import registration_reference

from ppas.schema.context import Info
from ppas.schema.registrations.types import (
    RegistrationInput,
    RejectRegistrationResult,
    RejectRegistrationSuccess,
    SubmitRegistrationResult,
    SubmitRegistrationSuccess,
    ValidateRegistrationResult,
    ValidateRegistrationSuccess,
)
from ppas.services import registration
from ppas.schema.permissions import REGISTRATION_DESK
from ppas.services.rate_limits import REGISTRATION

SUBMITTED = ("Votre préinscription est terminée. La caisse va vérifier vos informations ; "
             "vous recevrez un courriel dès qu'elle l'aura validée, avec votre identifiant "
             "et un mot de passe provisoire.")


@strawberry.type
class RegistrationMutations:
    @strawberry.mutation(description="Se préinscrire (public) ; `captcha` est la preuve de travail ALTCHA.")
    async def submit_registration(self, info: Info, input: RegistrationInput,
                                  captcha: str) -> SubmitRegistrationResult:
        context = info.context
        await context.limit(REGISTRATION)  # a GraphQL error (429), not a refusal as data
        row = await registration.submit_registration(
            input.to_form(), captcha, settings=context.settings, now=context.now(),
            ip=context.client_ip)
        caisse = await row.caisse
        return SubmitRegistrationSuccess(
            message=SUBMITTED, reference=registration_reference(caisse.code, row.id),
            processing_days=context.settings.registration_processing_days,
            convention_number=row.convention_number, partner_name=row.partner_name,
            structure_id=row.structure_id,
            admin_name=f"{row.admin_first_name} {row.admin_last_name}",
            admin_email=row.admin_email, admin_login=row.admin_login,
            submitted_at=row.created_at)

    @strawberry.mutation(description="Valider une préinscription : crée l'administrateur du partenaire.",
                         permission_classes=REGISTRATION_DESK)
    async def validate_registration(self, info: Info, id: strawberry.ID) -> ValidateRegistrationResult:
        context = info.context
        done = await registration.validate_registration(
            context.user, id, settings=context.settings, now=context.now(),
            ip=context.client_ip)
        return ValidateRegistrationSuccess(
            id=strawberry.ID(str(done.registration.id)), login=done.user.login,
            message=(f"Préinscription validée : le compte « {done.user.login} » est créé et "
                     f"un mot de passe provisoire est envoyé à {done.user.email}."))

    @strawberry.mutation(description="Refuser une préinscription ; la raison est envoyée par courriel.",
                         permission_classes=REGISTRATION_DESK)
    async def reject_registration(self, info: Info, id: strawberry.ID,
                                  reason: str) -> RejectRegistrationResult:
        context = info.context
        row = await registration.reject_registration(
            context.user, id, reason, now=context.now(), ip=context.client_ip)
        return RejectRegistrationSuccess(
            id=strawberry.ID(str(row.id)),
            message=(f"Préinscription refusée : la raison est envoyée à {row.admin_email}."))
