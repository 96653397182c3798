"""Background work as rows: a job waits (queued), runs, ends done or failed.

Workers claim due jobs (`ppas/services/jobs/worker.py`): on PostgreSQL with
`SELECT … FOR UPDATE SKIP LOCKED`, on SQLite by a conditional UPDATE. `key` makes enqueueing
idempotent (a second job with the same key is never written). A worker's heartbeat is one row
per worker process, for /readyz. `caisse`: the caisse whose work it is (a payment run…), shown
only to that caisse's agents; none for the portal's own work (mail, integration), shown to all.
"""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class JobState(StrEnum):
    """Waiting for its run time, taken by a worker, finished, given up after its attempts."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Model):
    """One piece of background work, run by the handler of its `kind`."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=64)
    payload = fields.JSONField(default=dict)
    state = fields.CharEnumField(JobState, default=JobState.QUEUED)
    run_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    max_attempts = fields.IntField(default=5)
    last_error = fields.TextField(default="")
    locked_by = fields.CharField(max_length=100, null=True)
    locked_at = fields.DatetimeField(null=True)
    # Idempotent enqueueing: at most one job per key (NULL: no key, no limit).
    key = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    # The caisse whose work it is (NULL: the portal's own work, every caisse sees it).
    caisse = fields.ForeignKeyField("ppas.Caisse", related_name="jobs", null=True,
                                    on_delete=fields.RESTRICT)

    class Meta:
        table = "job"
        # The claim: due queued jobs by run time; running ones whose lease ran out.
        indexes = (("state", "run_at"), ("state", "locked_at"))


class WorkerHeartbeat(Model):
    """The last sign of life of one worker process (for /readyz)."""

    id = fields.IntField(primary_key=True)
    worker = fields.CharField(max_length=100, unique=True)
    started_at = fields.DatetimeField()
    beat_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "worker_heartbeat"
