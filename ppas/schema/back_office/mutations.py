"""Mutations of the caisse's back office; refusals are BackOfficeError (ppas/schema/errors.py)."""
from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from ppas.schema.back_office.types import (
    BackOfficeError,
    BeneficiaryImportReport,
    BeneficiaryImportResult,
    BeneficiaryInput,
    BeneficiaryResult,
    BeneficiarySuccess,
    CaisseBeneficiary,
    CaisseCarePlan,
    CaisseConvention,
    CarePlanInput,
    CarePlanResult,
    CarePlanSuccess,
    ConventionStatusResult,
    ConventionStatusSuccess,
)
from ppas.schema.context import Info
from ppas.schema.ids import parse_id
from ppas.schema.permissions import BACK_OFFICE
from ppas.services import back_office
from ppas.services.errors import ErrorCode, NotFound


def _key(value: strawberry.ID, refusal: str) -> int:
    key = parse_id(value)
    if key is None:
        raise NotFound(refusal)
    return key


@strawberry.type
class BackOfficeMutations:
    @strawberry.mutation(description="Créer un bénéficiaire de la caisse (numéro de dossier "
                                     "de 10 chiffres, unique à la caisse).",
                         permission_classes=BACK_OFFICE)
    async def create_beneficiary(self, info: Info, input: BeneficiaryInput) -> BeneficiaryResult:
        c = info.context
        row = await back_office.create_beneficiary(c.user, input.to_service(), now=c.now(),
                                                   ip=c.client_ip)
        return BeneficiarySuccess(beneficiary=CaisseBeneficiary.from_model(row))

    @strawberry.mutation(description="Modifier un bénéficiaire de la caisse (dont sa date de décès).",
                         permission_classes=BACK_OFFICE)
    async def update_beneficiary(self, info: Info, id: strawberry.ID,
                                 input: BeneficiaryInput) -> BeneficiaryResult:
        c = info.context
        row = await back_office.update_beneficiary(
            c.user, _key(id, back_office.BENEFICIARY_NOT_FOUND), input.to_service(),
            now=c.now(), ip=c.client_ip)
        return BeneficiarySuccess(beneficiary=CaisseBeneficiary.from_model(row))

    @strawberry.mutation(description="Créer une prise en charge, non notifiée, pour un "
                                     "bénéficiaire de la caisse.",
                         permission_classes=BACK_OFFICE)
    async def create_care_plan(self, info: Info, beneficiary_id: strawberry.ID,
                               input: CarePlanInput) -> CarePlanResult:
        c = info.context
        row = await back_office.create_care_plan(
            c.user, _key(beneficiary_id, back_office.BENEFICIARY_NOT_FOUND), input.to_service(),
            now=c.now(), ip=c.client_ip)
        return CarePlanSuccess(care_plan=CaisseCarePlan.from_model(row))

    @strawberry.mutation(description="Modifier une prise en charge tant qu'elle n'est pas notifiée.",
                         permission_classes=BACK_OFFICE)
    async def update_care_plan(self, info: Info, id: strawberry.ID,
                               input: CarePlanInput) -> CarePlanResult:
        c = info.context
        row = await back_office.update_care_plan(
            c.user, _key(id, back_office.PLAN_NOT_FOUND), input.to_service(), now=c.now(),
            ip=c.client_ip)
        return CarePlanSuccess(care_plan=CaisseCarePlan.from_model(row))

    @strawberry.mutation(description="Notifier une prise en charge : elle figure dès lors sur "
                                     "les formulaires du partenaire et dans les contrôles de "
                                     "fichier.",
                         permission_classes=BACK_OFFICE)
    async def notify_care_plan(self, info: Info, id: strawberry.ID) -> CarePlanResult:
        c = info.context
        row = await back_office.notify_care_plan(c.user, _key(id, back_office.PLAN_NOT_FOUND),
                                                 now=c.now(), ip=c.client_ip)
        return CarePlanSuccess(care_plan=CaisseCarePlan.from_model(row))

    @strawberry.mutation(description="Clôturer une prise en charge ; `endDate` vide : aujourd'hui.",
                         permission_classes=BACK_OFFICE)
    async def close_care_plan(self, info: Info, id: strawberry.ID,
                              end_date: str = "") -> CarePlanResult:
        c = info.context
        row = await back_office.close_care_plan(c.user, _key(id, back_office.PLAN_NOT_FOUND),
                                                end_date, now=c.now(), ip=c.client_ip)
        return CarePlanSuccess(care_plan=CaisseCarePlan.from_model(row))

    @strawberry.mutation(description="Suspendre une convention active (motif obligatoire, "
                                     "journalisé) : plus de nouveau formulaire, R02 à "
                                     "l'intégration.",
                         permission_classes=BACK_OFFICE)
    async def suspend_convention(self, info: Info, id: strawberry.ID,
                                 reason: str) -> ConventionStatusResult:
        c = info.context
        row = await back_office.suspend_convention(
            c.user, _key(id, back_office.CONVENTION_NOT_FOUND), reason, now=c.now(),
            ip=c.client_ip)
        return ConventionStatusSuccess(convention=CaisseConvention.from_model(row))

    @strawberry.mutation(description="Reprendre une convention suspendue (motif obligatoire, "
                                     "journalisé).",
                         permission_classes=BACK_OFFICE)
    async def resume_convention(self, info: Info, id: strawberry.ID,
                                reason: str) -> ConventionStatusResult:
        c = info.context
        row = await back_office.resume_convention(
            c.user, _key(id, back_office.CONVENTION_NOT_FOUND), reason, now=c.now(),
            ip=c.client_ip)
        return ConventionStatusSuccess(convention=CaisseConvention.from_model(row))

    @strawberry.mutation(description=(
        "Importer des bénéficiaires et des prises en charge depuis le modèle CSV (requête "
        "multipart GraphQL ; « ; », UTF-8 avec ou sans BOM, virgule décimale). Chaque ligne "
        "est traitée à part ; réimporter le même fichier ne change rien."),
        permission_classes=BACK_OFFICE)
    async def import_beneficiaries(self, info: Info, file: Upload) -> BeneficiaryImportResult:
        c = info.context
        source = getattr(file, "file", None)
        if source is None:
            return BackOfficeError.of(ErrorCode.FILE_MISSING, "Joignez le fichier CSV à importer.",
                                      field="file")
        report = await back_office.import_csv(
            c.user, source, getattr(file, "filename", None) or "", now=c.now(),
            max_bytes=c.settings.back_office_import_max_bytes, ip=c.client_ip)
        return BeneficiaryImportReport.from_report(report)
