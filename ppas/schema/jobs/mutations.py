"""Retry a failed background job (caisse agents)."""
from __future__ import annotations

import strawberry

from ppas.schema.context import Info
from ppas.schema.jobs.types import BackgroundJob, RetryJobResult, RetryJobSuccess
from ppas.schema.permissions import JOB_DESK
from ppas.services.jobs import admin, kind_label


@strawberry.type
class JobMutations:
    @strawberry.mutation(description="Relancer une tâche de fond en échec : elle repart au "
                                     "prochain passage, avec une nouvelle série d'essais.",
                         permission_classes=JOB_DESK)
    async def retry_job(self, info: Info, id: strawberry.ID) -> RetryJobResult:
        context = info.context
        job = await admin.retry_job(context.user, id, now=context.now(), ip=context.client_ip)
        return RetryJobSuccess(
            message=f"Tâche n° {job.id} « {kind_label(job.kind)} » relancée : elle repart au "
                    "prochain passage des processus de fond.",
            job=BackgroundJob.from_model(job))
