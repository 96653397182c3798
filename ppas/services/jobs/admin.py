"""The caisse's view of the background jobs: list them, retry a failed one.

The portal's own work (mail, integration…) has no caisse: every caisse's agents and admins
see it. A caisse's work (a payment run…) carries its caisse: only that caisse's agents see or
retry it; another caisse's job is NOT_FOUND, like a missing one. Partners never see jobs.
"""
from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from ppas.domain.ids import parse_id
from ppas.models import Job, JobState, User
from ppas.services import audit
from ppas.services.access import caisse_id_of
from ppas.services.errors import ErrorCode, NotFound, ServiceError

CAISSE_ONLY = "Les tâches de fond sont réservées aux agents de la caisse."
NOT_FOUND = "Cette tâche de fond n'existe pas (ou plus)."
STATE_WORDS = {JobState.QUEUED: "en attente", JobState.RUNNING: "en cours",
               JobState.DONE: "terminée"}


def _visible(caisse_id: int) -> Q:
    """The portal's jobs (no caisse) and the caisse's own."""
    return Q(caisse_id=None) | Q(caisse_id=caisse_id)


async def list_jobs(user: User | None, offset: int, limit: int, *,
                    state: JobState | None = None, kind: str | None = None
                    ) -> tuple[list[Job], int]:
    """One window of the jobs the user's caisse sees (the portal's and its own), by run time
    (next or last run, latest first), and the total."""
    query = Job.filter(_visible(caisse_id_of(user, CAISSE_ONLY)))
    if state is not None:
        query = query.filter(state=state)
    if kind:
        query = query.filter(kind=kind)
    total = await query.count()
    rows = await query.order_by("-run_at", "-id").offset(offset).limit(limit)
    return rows, total


async def retry_job(user: User | None, job_id: str | int, *, now: datetime,
                    ip: str = "") -> Job:
    """Queue a failed job again, due now, with a fresh series of tries."""
    caisse_id = caisse_id_of(user, CAISSE_ONLY)
    key = parse_id(str(job_id))
    async with in_transaction():
        job = (await Job.filter(_visible(caisse_id), id=key).first()
               if key is not None else None)
        if job is None:
            raise NotFound(NOT_FOUND)
        changed = await Job.filter(id=job.id, state=JobState.FAILED).update(
            state=JobState.QUEUED, run_at=now, attempts=0, finished_at=None, locked_by=None,
            locked_at=None)
        if changed != 1:
            raise ServiceError(f"Seule une tâche en échec se relance : celle-ci est "
                               f"{STATE_WORDS.get(job.state, job.state)}.",
                               code=ErrorCode.JOB_NOT_FAILED)
        await audit.record("job_retried", actor=user, object_type="job", object_id=job.id,
                           ip=ip, kind=job.kind, last_error=job.last_error[:200])
        await job.refresh_from_db()
    return job


async def queue_figures() -> dict[str, int]:
    """How many jobs are in each state, for the operators' /metrics (no caller check: the
    metrics route has its own access rule and shows no job's content)."""
    rows = await Job.annotate(count=Count("id")).group_by("state").values_list("state", "count")
    figures = {str(state): 0 for state in JobState}
    figures.update({str(state): int(count) for state, count in rows})
    return figures
