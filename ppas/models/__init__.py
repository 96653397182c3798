"""Tortoise models, one module per aggregate."""
from ppas.models.account import (
    ApiToken,
    PasswordHistory,
    Registration,
    RegistrationStatus,
    Role,
    Session,
    User,
)
from ppas.models.audit import AuditEvent
from ppas.models.beneficiary import Beneficiary, CarePlan
from ppas.models.billing_file import Anomaly, BillingFile, BillingLine
from ppas.models.billing_form import BillingForm, FormLine, FormStatus
from ppas.models.caisse import Caisse
from ppas.models.captcha import SpentCaptcha
from ppas.models.contact import ContactMessage
from ppas.models.evaluation import (
    ConflictStatus,
    Evaluation,
    EvaluationConflict,
    EvaluationOrder,
    OfflinePackage,
    OrderStatus,
)
from ppas.models.integration import IntegratedLine, IntegrationStatus
from ppas.models.job import Job, JobState, WorkerHeartbeat
from ppas.models.outbox import OutboxMessage
from ppas.models.partner import Convention, ConventionStatus, Partner, PartnerKind
from ppas.models.payment import PaymentRun, PaymentSlip
from ppas.models.webhook import DeliveryStatus, WebhookDelivery, WebhookSubscription

__all__ = [
    "Anomaly", "ApiToken", "AuditEvent", "Beneficiary", "BillingFile", "BillingForm",
    "BillingLine", "Caisse", "CarePlan", "ContactMessage", "Convention", "ConventionStatus", "Evaluation",
    "EvaluationOrder", "FormLine", "FormStatus", "IntegratedLine", "IntegrationStatus", "OrderStatus", "OutboxMessage", "Partner",
    "PartnerKind", "PasswordHistory", "PaymentRun", "PaymentSlip", "Registration",
    "RegistrationStatus", "Role", "Session", "SpentCaptcha", "User",
    "Job", "JobState", "WorkerHeartbeat",
    "DeliveryStatus", "WebhookDelivery", "WebhookSubscription",
    "ConflictStatus", "EvaluationConflict", "OfflinePackage",
]
