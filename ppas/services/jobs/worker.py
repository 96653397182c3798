"""The worker: claims due jobs, runs their handler, marks them done or retries them.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` then an UPDATE in one transaction,
so several workers (CLI processes, app instances) never take the same job; on SQLite a
conditional `UPDATE job SET state='running' … WHERE id=? AND <still claimable>`: the claim
wins only when it changed one row. A job is claimable when queued and due, or when running
with a lease (`locked_at`, renewed while the handler runs) older than PPAS_JOBS_LEASE_SECONDS:
its worker died, another takes it again. Every claim counts a try (`attempts`), so a job that
kills its worker is given up after `max_attempts` like one that raises.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from ppas.domain.clock import Clock
from ppas.domain.jobs import retry_delay
from ppas.models import Job, JobState, WorkerHeartbeat
from ppas.services.jobs.queue import enqueue
from ppas.services.jobs.registry import JobContext, load_handlers
from ppas.services.jobs.schedule import PERIODIC, periodic_key, periodic_named
from ppas.settings import Settings

log = logging.getLogger("ppas.jobs")

ERROR_CHARS = 2000
CANDIDATES = 8  # SQLite: rows tried by one claim when others win the first ones
SCHEDULE_EVERY = timedelta(seconds=60)  # re-arm the periodic rows (a deleted one comes back)
HEARTBEAT_RETENTION = timedelta(days=1)  # rows of workers stopped longer ago are removed
CLOCK_SKEW = timedelta(minutes=5)  # what two instances' clocks may differ by
HEARTBEAT_DURING_JOB = 30  # seconds between a busy worker's heartbeats (and lease renewals)


def new_worker_id() -> str:
    """host:pid:random — unique per worker, readable on the jobs page."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text[:ERROR_CHARS]


class Worker:
    """One worker; `run_due()` for one round, `run_forever()` for a loop."""

    def __init__(self, settings: Settings, clock: Clock, worker_id: str | None = None, *,
                 kinds: Collection[str] | None = None) -> None:
        self.settings = settings
        # Only these kinds (a dedicated worker, or a test's own jobs); None: every kind.
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.clock = clock
        self.id = worker_id or new_worker_id()
        self.lease = timedelta(seconds=settings.jobs_lease_seconds)
        self._scheduled_at: datetime | None = None
        self.handlers = load_handlers()

    # -- scheduling -------------------------------------------------------------------------
    async def schedule_periodic(self) -> None:
        """Make sure each periodic task has its job row (idempotent, keyed)."""
        now = self.clock.now()
        for periodic in PERIODIC:
            if self.kinds is not None and periodic.kind not in self.kinds:
                continue
            await enqueue(periodic.kind, {}, run_at=now, key=periodic.key, now=now)
            # Last run after `now` or planned beyond one interval (more than a clock skew
            # between instances explains): the clock moved back, as a test's does. Due at
            # once rather than stuck that long.
            horizon = now + CLOCK_SKEW
            await Job.filter(Q(finished_at__gt=horizon)
                             | Q(run_at__gt=horizon + periodic.interval(self.settings)),
                             key=periodic.key, state=JobState.QUEUED).update(run_at=now)
        self._scheduled_at = now

    async def _schedule_if_due(self) -> None:
        now = self.clock.now()
        if self._scheduled_at is None or not (now - SCHEDULE_EVERY < self._scheduled_at <= now):
            await self.schedule_periodic()

    # -- claiming ---------------------------------------------------------------------------
    def _claimable(self, now: datetime) -> Q:
        due = (Q(state=JobState.QUEUED, run_at__lte=now)
               | Q(state=JobState.RUNNING, locked_at__lt=now - self.lease))
        return due if self.kinds is None else due & Q(kind__in=sorted(self.kinds))

    async def claim(self) -> Job | None:
        """Take one due job (or one whose worker died), or None when nothing is due."""
        while (job_id := await self._take()) is not None:
            job = await Job.get(id=job_id)
            if job.attempts > job.max_attempts and job.key != periodic_key(job.kind):
                await self._give_up(job)  # taken back from a dead worker after its last try
                continue
            return job
        return None

    async def _take(self) -> int | None:
        now = self.clock.now()
        claimable = self._claimable(now)
        taken = {"state": JobState.RUNNING, "locked_by": self.id, "locked_at": now,
                 "attempts": F("attempts") + 1}
        if connections.get("default").capabilities.dialect == "postgres":
            async with in_transaction() as connection:
                # (a model query: Tortoise drops FOR UPDATE from values()/values_list())
                row = await (Job.filter(claimable).order_by("run_at", "id").only("id")
                             .select_for_update(skip_locked=True).using_db(connection).first())
                if row is None:
                    return None
                await Job.filter(id=row.id).using_db(connection).update(**taken)
                return row.id
        # SQLite: one conditional UPDATE per candidate; the first that changes a row wins.
        candidates = await (Job.filter(claimable).order_by("run_at", "id")
                            .limit(CANDIDATES).values_list("id", flat=True))
        for job_id in candidates:
            if await Job.filter(claimable, id=job_id).update(**taken) == 1:
                return job_id
        return None

    async def _give_up(self, job: Job) -> None:
        log.warning("job %s (%s) given up: its worker stopped during each of its %s tries",
                    job.id, job.kind, job.max_attempts)
        await self._mine(job).update(
            state=JobState.FAILED, finished_at=self.clock.now(), locked_by=None,
            last_error=job.last_error or "Traitement interrompu à chaque essai (le processus "
                                         "qui l'exécutait s'est arrêté avant la fin).")

    # -- running ----------------------------------------------------------------------------
    async def run(self, job: Job) -> bool:
        """Run one claimed job's handler; True when it succeeded."""
        entry = self.handlers.get(job.kind)
        context = JobContext(settings=self.settings, clock=self.clock, job_id=job.id,
                             kind=job.kind, attempt=job.attempts, worker=self.id)
        renewer = asyncio.create_task(self._renew_lease(job.id))
        try:
            if entry is None:
                raise LookupError(f"aucun traitement n'est déclaré pour « {job.kind} »")
            await entry.run(dict(job.payload or {}), context)
        except asyncio.CancelledError:
            renewer.cancel()
            # Stopped (server shutting down): the job goes back to the queue, due now.
            await asyncio.shield(self._release(job))
            raise
        except Exception as error:  # noqa: BLE001 - any failure of a handler is a failed try
            renewer.cancel()
            log.warning("job %s (%s) failed: %s", job.id, job.kind, _error_text(error))
            await self._failed(job, _error_text(error))
            return False
        renewer.cancel()
        await self._done(job)
        return True

    async def _renew_lease(self, job_id: int) -> None:
        """While a handler runs: renew its lease, and beat (a long job is not a dead worker)."""
        pause = min(max(self.lease.total_seconds() / 3, 0.5), HEARTBEAT_DURING_JOB)
        while True:
            await asyncio.sleep(pause)
            try:
                await Job.filter(id=job_id, state=JobState.RUNNING, locked_by=self.id).update(
                    locked_at=self.clock.now())
                await self.beat()
            except Exception:  # noqa: BLE001 - a missed renewal is retried at the next pause
                log.exception("lease renewal of job %s failed", job_id)

    def _mine(self, job: Job):
        return Job.filter(id=job.id, state=JobState.RUNNING, locked_by=self.id)

    async def _done(self, job: Job) -> None:
        now = self.clock.now()
        periodic = periodic_named(job.kind) if job.key == periodic_key(job.kind) else None
        if periodic is not None:
            changed = await self._mine(job).update(
                state=JobState.QUEUED, run_at=now + periodic.interval(self.settings),
                attempts=0, last_error="", locked_by=None, locked_at=None, finished_at=now)
        else:
            changed = await self._mine(job).update(state=JobState.DONE, finished_at=now,
                                                   locked_by=None, last_error="")
        if changed != 1:
            log.warning("job %s finished after its lease was taken by another worker", job.id)

    async def _failed(self, job: Job, error: str) -> None:
        now = self.clock.now()
        delay = retry_delay(job.attempts, self.settings.jobs_backoff_seconds,
                            self.settings.jobs_backoff_max_seconds)
        periodic = job.key == periodic_key(job.kind)
        if periodic or job.attempts < job.max_attempts:
            changes = {"state": JobState.QUEUED, "run_at": now + delay}
        else:
            changes = {"state": JobState.FAILED, "finished_at": now}
        await self._mine(job).update(last_error=error, locked_by=None, locked_at=None, **changes)

    async def _release(self, job: Job) -> None:
        try:
            await self._mine(job).update(state=JobState.QUEUED, run_at=self.clock.now(),
                                         locked_by=None, locked_at=None,
                                         attempts=F("attempts") - 1)
        except Exception:  # noqa: BLE001 - the lease expiry takes it back anyway
            log.exception("could not release job %s", job.id)

    # -- heartbeat --------------------------------------------------------------------------
    async def beat(self) -> None:
        """Record that this worker is alive (for /readyz)."""
        now = self.clock.now()
        if await WorkerHeartbeat.filter(worker=self.id).update(beat_at=now) == 0:
            await WorkerHeartbeat.filter(beat_at__lt=now - HEARTBEAT_RETENTION).delete()
            await WorkerHeartbeat.create(worker=self.id, started_at=now, beat_at=now)

    # -- loops ------------------------------------------------------------------------------
    async def run_due(self, limit: int | None = None) -> int:
        """Run every job due now (periodic ones included), one after another; how many ran."""
        await self.beat()
        await self._schedule_if_due()
        ran = 0
        while limit is None or ran < limit:
            job = await self.claim()
            if job is None:
                break
            await self.run(job)
            ran += 1
            await self.beat()
        return ran

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Poll every PPAS_JOBS_POLL_SECONDS until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        log.info("job worker %s started", self.id)
        while not stop.is_set():
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed round (database away) must not end the loop
                log.exception("job round failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.jobs_poll_seconds)
            except asyncio.TimeoutError:
                pass


async def run_due(settings: Settings, clock: Clock, *,
                  kinds: Collection[str] | None = None) -> int:
    """Run what is due now and return how many jobs ran (`ppas jobs run --once`; tests move
    the clock and call it, with `kinds` to run only their own jobs)."""
    return await Worker(settings, clock, kinds=kinds).run_due()


async def run_forever(settings: Settings, clock: Clock, stop: asyncio.Event | None = None,
                      *, kinds: Collection[str] | None = None) -> None:
    """The worker loop of `ppas jobs run` and of `ppas serve` (PPAS_JOBS=on)."""
    await Worker(settings, clock, kinds=kinds).run_forever(stop)


async def last_worker_heartbeat() -> datetime | None:
    """When a worker last showed it was alive (None: never), for /readyz."""
    latest = await WorkerHeartbeat.all().order_by("-beat_at").first()
    return latest.beat_at if latest is not None else None
