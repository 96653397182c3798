"""GraphQL types of the background jobs (caisse back office)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from ppas.models import Job, JobState
from ppas.schema.enums import _described
from ppas.schema.errors import JobErrorCode, UserError
from ppas.services.jobs import kind_label
from ppas.services.jobs.schedule import periodic_key

JobStateEnum = _described(JobState, "JobState", "État d'une tâche de fond.", {
    "QUEUED": "En attente de son heure (ou d'une nouvelle tentative après un échec).",
    "RUNNING": "En cours d'exécution par un processus.",
    "DONE": "Terminée.",
    "FAILED": "En échec après toutes ses tentatives : un agent peut la relancer."})


@strawberry.type(description="Une tâche de fond du portail (courriels, intégration, paiements…).")
class BackgroundJob:
    id: strawberry.ID
    kind: str = strawberry.field(description="Code stable du type de tâche.")
    kind_label: str = strawberry.field(description="Le type de tâche, en clair.")
    state: JobStateEnum
    attempts: int = strawberry.field(description="Essais faits (remis à 0 après un succès "
                                                 "d'une tâche périodique ou une relance).")
    max_attempts: int
    last_error: str = strawberry.field(description="Erreur du dernier essai raté ; vide sinon.")
    run_at: datetime = strawberry.field(description="Prochain passage (tâche en attente) ; "
                                                    "sinon l'heure prévue du dernier.")
    created_at: datetime
    finished_at: datetime | None
    periodic: bool = strawberry.field(description="Tâche périodique : elle se replanifie "
                                                  "après chaque passage et ne s'abandonne pas.")
    retryable: bool = strawberry.field(description="Vrai si `retryJob` peut la relancer.")

    @classmethod
    def from_model(cls, job: Job) -> BackgroundJob:
        return cls(id=strawberry.ID(str(job.id)), kind=job.kind, kind_label=kind_label(job.kind),
                   state=job.state, attempts=job.attempts, max_attempts=job.max_attempts,
                   last_error=job.last_error, run_at=job.run_at, created_at=job.created_at,
                   finished_at=job.finished_at, periodic=job.key == periodic_key(job.kind),
                   retryable=job.state == JobState.FAILED)


@strawberry.type(description="Tâche relancée : elle repart au prochain passage des processus.")
class RetryJobSuccess:
    message: str
    job: BackgroundJob


@strawberry.type(description="Relance impossible : le message dit pourquoi.")
class RetryJobError(UserError):
    code_enum = JobErrorCode
    code: JobErrorCode = strawberry.field(description="Code stable du refus.")


RetryJobResult = Annotated[RetryJobSuccess | RetryJobError, strawberry.union("RetryJobResult")]
