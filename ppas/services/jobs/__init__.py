"""Background jobs: rows in the `job` table, run by workers (`ppas jobs run`, `ppas serve`).

The API other services use:

* `await enqueue(kind, payload, *, run_at=None, key=None, max_attempts=5, now=None,
  caisse_id=None)` inside the use case's transaction; a job with the same `key` already
  there: nothing is written. `caisse_id`: the caisse whose work it is (only its agents see
  and retry it); None for the portal's own work, seen by every caisse.
* `@job_handler("kind", label="Libellé en français")` on
  `async def handler(payload: dict, context: JobContext)`; `context.now()`,
  `context.settings`, `context.attempt`. Handlers must be idempotent (they may run again).
  List the handler's module in `schedule.py` (PERIODIC or HANDLER_MODULES).
* Periodic tasks: one line in `schedule.PERIODIC`.
* `await last_worker_heartbeat()`: when a worker last showed it was alive (for /readyz);
  `await queue_figures()`: jobs per state (for /metrics).
* `await run_due(settings, clock)`: run what is due now (tests move the clock, then call it).
"""
from ppas.services.jobs.admin import queue_figures
from ppas.services.jobs.queue import DEFAULT_MAX_ATTEMPTS, enqueue
from ppas.services.jobs.registry import JobContext, job_handler, kind_label, load_handlers
from ppas.services.jobs.schedule import PERIODIC, Periodic
from ppas.services.jobs.worker import Worker, last_worker_heartbeat, run_due, run_forever

__all__ = [
    "DEFAULT_MAX_ATTEMPTS", "JobContext", "PERIODIC", "Periodic", "Worker", "enqueue",
    "job_handler", "kind_label", "last_worker_heartbeat", "load_handlers", "queue_figures", "run_due",
    "run_forever",
]
