"""Where jobs are declared: periodic tasks (ONE list) and the modules holding handlers.

To add a periodic task: write `@job_handler("my_kind", label="…")` in your service module,
then add ONE line to PERIODIC: `Periodic("my_kind", 60, "ppas.services.my_module")` (every 60
seconds), or with a setting's name instead of a number: `Periodic("my_kind",
"my_interval_seconds", …)`. A module whose handlers only run enqueued one-off jobs goes to
HANDLER_MODULES.

A periodic task is one job row (key `periodic:<kind>`): after each run it is queued again
`interval` later; after a failure it is retried with backoff and never given up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ppas.settings import Settings


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: int | str  # seconds, or the name of a Settings field giving them
    module: str  # the module whose @job_handler(kind) runs it

    def interval(self, settings: Settings) -> timedelta:
        seconds = getattr(settings, self.every) if isinstance(self.every, str) else self.every
        return timedelta(seconds=max(int(seconds), 1))

    @property
    def key(self) -> str:
        return periodic_key(self.kind)


def periodic_key(kind: str) -> str:
    """The unique key of a periodic task's job row."""
    return f"periodic:{kind}"


PERIODIC: list[Periodic] = [
    Periodic("send_mail", "mail_interval_seconds", "ppas.services.mail_sender"),
    Periodic("integrate_due_lines", 60, "ppas.services.integration"),
    Periodic("publish_due_slips", 60, "ppas.services.payment_slips"),
    Periodic("deliver_webhooks", 30, "ppas.services.webhooks"),
]

# Modules with handlers of one-off jobs (enqueued by a use case), not listed above.
HANDLER_MODULES: list[str] = [
    "ppas.services.payments",  # execute_payment_run: a run's safety net
]


def handler_modules() -> list[str]:
    """Every module to import so that all handlers are registered."""
    return list(dict.fromkeys([*(p.module for p in PERIODIC), *HANDLER_MODULES]))


def periodic_named(kind: str) -> Periodic | None:
    """The periodic task of this kind, if any."""
    return next((p for p in PERIODIC if p.kind == kind), None)
