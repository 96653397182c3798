"""A job worker process for the concurrency tests: `python -m tests.jobs_support URL DIR NAME`.

It registers the test handlers below, writes DIR/NAME.ready, waits for DIR/go (so that the
workers start together), then runs the `test_workers.*` jobs until none is left, and prints
how many it ran. The test imports it too, for the same handlers.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tortoise import connections

from ppas.services.jobs import job_handler

KINDS = {"test_workers.record", "test_workers.block"}
EXECUTIONS_TABLE = ("CREATE TABLE IF NOT EXISTS test_job_execution (run VARCHAR(40) NOT NULL, "
                    "n INTEGER NOT NULL, worker VARCHAR(100) NOT NULL, attempt INTEGER NOT NULL, "
                    "UNIQUE (run, n))")


async def record_execution(run: str, n: int, worker: str, attempt: int) -> None:
    """One row per execution; a job taken twice breaks the unique (run, n)."""
    client = connections.get("default")
    marks = ("$1", "$2", "$3", "$4") if client.capabilities.dialect == "postgres" else "????"
    await client.execute_query(
        f"INSERT INTO test_job_execution (run, n, worker, attempt) VALUES "
        f"({', '.join(marks)})", [run, n, worker, attempt])


@job_handler("test_workers.record", label="Essai : exécution enregistrée")
async def record(payload, context):
    await record_execution(payload["run"], payload["n"], context.worker,
                           context.attempt)
    await asyncio.sleep(0.005)  # long enough for the workers to interleave


@job_handler("test_workers.block", label="Essai : travail long")
async def block(payload, context):
    """The first try never ends (its process gets killed); a later one finishes."""
    if context.attempt == 1:
        await record_execution(payload["run"], 0, "started", context.attempt)
        await asyncio.sleep(3600)
    await record_execution(payload["run"], 1, "finished", context.attempt)


async def main(database_url: str, folder: Path, name: str) -> None:
    from ppas.db import close_database, open_database
    from ppas.domain.clock import SystemClock
    from ppas.models import Job, JobState
    from ppas.services.jobs import Worker
    from ppas.settings import Settings

    await open_database(database_url)
    worker = Worker(Settings(database_url=database_url), SystemClock(), name, kinds=KINDS)
    (folder / f"{name}.ready").touch()
    while not (folder / "go").exists():
        await asyncio.sleep(0.02)
    ran = 0
    try:
        while True:
            ran += await worker.run_due()
            if not await Job.filter(kind__in=sorted(KINDS), state=JobState.QUEUED).exists():
                break
            await asyncio.sleep(0.02)
    finally:
        await close_database()
    print(ran, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
