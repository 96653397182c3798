"""Real worker processes on one database: two share 200 jobs and none runs twice (FOR UPDATE
SKIP LOCKED on PostgreSQL, the conditional claim on SQLite); a worker killed in the middle of
a job leaves it running until its lease runs out, then another worker takes it again."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from tortoise import connections

from ppas.domain.clock import FixedClock
from ppas.models import Job, JobState
from ppas.services.jobs import Worker, enqueue
from tests.jobs_support import EXECUTIONS_TABLE, KINDS

ROOT = Path(__file__).resolve().parent.parent.parent


def start_worker(database_url: str, folder: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.jobs_support", database_url,
                             str(folder), name], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def wait_for(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def executions(run: str) -> list:
    client = connections.get("default")
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    _, rows = await client.execute_query(
        f"SELECT n, worker, attempt FROM test_job_execution WHERE run = {mark} ORDER BY n",
        [run])
    return [(row["n"], row["worker"], row["attempt"]) for row in rows]


async def test_two_worker_processes_share_200_jobs_and_never_run_one_twice(
        db, database_url, tmp_path):
    await connections.get("default").execute_script(EXECUTIONS_TABLE)
    run = uuid.uuid4().hex
    jobs = [await enqueue("test_workers.record", {"run": run, "n": n}) for n in range(200)]
    workers = [start_worker(database_url, tmp_path, name) for name in ("un", "deux")]

    async def both_ready():
        return all((tmp_path / f"{name}.ready").exists() for name in ("un", "deux"))

    await wait_for(both_ready, "the workers to start")
    (tmp_path / "go").touch()
    outputs = [await asyncio.to_thread(w.communicate, timeout=180) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
    counts = [int(out.split()[-1]) for out, _ in outputs]
    assert sum(counts) == 200
    assert min(counts) > 0, counts  # both really worked, side by side

    done = await executions(run)
    assert [n for n, _, _ in done] == list(range(200))  # each job once (unique run, n)
    assert {attempt for _, _, attempt in done} == {1}
    assert {worker for _, worker, _ in done} == {"un", "deux"}
    states = await Job.filter(id__in=[j.id for j in jobs]).values_list(
        "state", "attempts", "last_error")
    assert set(states) == {(JobState.DONE, 1, "")}


async def test_a_killed_worker_leaves_its_job_to_another_after_the_lease(
        db, database_url, tmp_path, settings):
    await connections.get("default").execute_script(EXECUTIONS_TABLE)
    run = uuid.uuid4().hex
    job = await enqueue("test_workers.block", {"run": run})
    doomed = start_worker(database_url, tmp_path, "condamne")
    await wait_for(lambda: asyncio.sleep(0, (tmp_path / "condamne.ready").exists()),
                   "the worker to start")
    (tmp_path / "go").touch()

    async def started():
        return bool(await executions(run))

    await wait_for(started, "the job to start")
    doomed.kill()  # SIGKILL in the middle of the job: no clean-up of any kind
    doomed.wait(timeout=30)
    await job.refresh_from_db()
    assert (job.state, job.locked_by, job.attempts) == (JobState.RUNNING, "condamne", 1)

    lease = timedelta(seconds=settings.jobs_lease_seconds)
    early = Worker(settings, FixedClock(job.locked_at + lease - timedelta(seconds=1)),
                   "trop-tot", kinds=KINDS)
    assert await early.run_due() == 0  # its lease still runs: nobody takes it
    rescuer = Worker(settings, FixedClock(job.locked_at + lease + timedelta(seconds=1)),
                     "secours", kinds=KINDS)
    assert await rescuer.run_due() == 1
    await job.refresh_from_db()
    assert (job.state, job.attempts, job.locked_by) == (JobState.DONE, 2, None)
    assert await executions(run) == [(0, "started", 1), (1, "finished", 2)]
