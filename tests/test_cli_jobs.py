"""`ppas jobs run --once` runs what is due and prints how many; `ppas jobs send-mail` still
works; `ppas serve`'s app runs a worker in its lifespan unless PPAS_JOBS=off."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ppas.models import Job, JobState, WorkerHeartbeat
from ppas.services.jobs import enqueue

ROOT = Path(__file__).resolve().parent.parent


def ppas(database_url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PPAS_DEVELOPMENT": "1", **extra_env}
    return subprocess.run([sys.executable, "-m", "ppas", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


async def test_jobs_run_once_runs_the_due_jobs_prints_their_number_and_exits(database_url, db):
    kind = f"essai_cli_{uuid.uuid4().hex[:8]}"  # no handler: each try fails, recorded
    now = datetime.now(timezone.utc)
    jobs = [await enqueue(kind, {"n": n}, max_attempts=1, now=now) for n in range(3)]
    later = await enqueue(kind, {"n": 9}, run_at=now + timedelta(hours=1), now=now)

    result = ppas(database_url, "jobs", "run", "--once", "--kind", kind)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Tâches exécutées : 3"
    for job in jobs:
        await job.refresh_from_db()
        assert job.state == JobState.FAILED and f"« {kind} »" in job.last_error
    await later.refresh_from_db()
    assert later.state == JobState.QUEUED and later.attempts == 0


def test_jobs_send_mail_still_says_when_no_smtp_server_is_set(database_url, db):
    result = ppas(database_url, "jobs", "send-mail", PPAS_SMTP_HOST="")
    assert result.returncode == 0, result.stderr
    assert "aucun courriel envoyé" in result.stdout


async def test_the_app_runs_a_job_worker_unless_jobs_are_off(settings, db):
    from ppas.app import create_app

    async def serve_briefly(jobs: bool) -> set[str]:
        before = set(await WorkerHeartbeat.all().values_list("worker", flat=True))
        app = create_app(replace(settings, jobs=jobs, jobs_poll_seconds=0.05),
                         manage_database=False)
        async with app.router.lifespan_context(app):
            for _ in range(60):
                await asyncio.sleep(0.05)
                if set(await WorkerHeartbeat.all().values_list("worker", flat=True)) - before:
                    break
        return set(await WorkerHeartbeat.all().values_list("worker", flat=True)) - before

    [worker] = await serve_briefly(True)
    assert worker.split(":")[1] == str(os.getpid())
    assert await Job.filter(key="periodic:send_mail").exists()
    assert await serve_briefly(False) == set()
