"""Enqueueing jobs, inside the caller's transaction."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ppas.models import Job, JobState

DEFAULT_MAX_ATTEMPTS = 5


async def enqueue(kind: str, payload: dict[str, Any] | None = None, *,
                  run_at: datetime | None = None, key: str | None = None,
                  max_attempts: int = DEFAULT_MAX_ATTEMPTS, now: datetime | None = None,
                  caisse_id: int | None = None) -> Job | None:
    """Queue a job of `kind`; call it inside the use case's transaction (it commits with it).

    `run_at`: not before this instant (default `now`, i.e. at the next worker round). `key`:
    at most one job per key, ever: when a job with this key exists (whatever its state),
    nothing is written and that job is returned. Without a key, a new job every call.
    `now`: the use case's instant (from its clock); the system time when absent.
    `max_attempts`: tries before a one-off job fails for good.
    `caisse_id`: the caisse whose work it is (a payment run): only its agents see the job;
    None for the portal's own work, seen by every caisse.
    Returns the job (None only if a key's job vanished in between).
    """
    now = now or datetime.now(timezone.utc)
    job = Job(kind=kind, payload=payload or {}, state=JobState.QUEUED, run_at=run_at or now,
              max_attempts=max_attempts, key=key, created_at=now, caisse_id=caisse_id)
    if key is None:
        await job.save()
        return job
    # INSERT … ON CONFLICT DO NOTHING: a duplicate key neither fails nor aborts the caller's
    # transaction (PostgreSQL would abort it on a unique violation).
    await Job.bulk_create([job], ignore_conflicts=True)
    return await Job.get_or_none(key=key)

