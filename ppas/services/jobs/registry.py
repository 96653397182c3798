"""Job handlers by kind: `@job_handler("kind", label="…")` on `async def handler(payload, context)`."""
from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ppas.domain.clock import Clock
from ppas.settings import Settings

Handler = Callable[[dict[str, Any], "JobContext"], Awaitable[Any]]


@dataclass(frozen=True)
class JobContext:
    """What a handler gets beside its payload: the clock, the settings, which job and try."""

    settings: Settings
    clock: Clock
    job_id: int
    kind: str
    attempt: int  # 1 on the first try
    worker: str = ""  # the id of the worker running it (host:pid:random)

    def now(self) -> datetime:
        """The current instant from the application's one clock (tests move it)."""
        return self.clock.now()


@dataclass(frozen=True)
class HandlerEntry:
    kind: str
    label: str  # in French, for the caisse's « Tâches de fond » page
    run: Handler


HANDLERS: dict[str, HandlerEntry] = {}


def job_handler(kind: str, *, label: str | None = None) -> Callable[[Handler], Handler]:
    """Register `async def handler(payload, context)` for the jobs of `kind`.

    A handler MUST be idempotent: a job may run again after a crash (the worker died after
    the work but before marking it done) or after a failure halfway. Do the work in one
    transaction, or make each step safe to repeat (unique constraints, « only what is still
    to do » queries). Raise to fail the try: the job is retried with backoff.
    """
    def register(function: Handler) -> Handler:
        existing = HANDLERS.get(kind)
        if existing is not None and existing.run.__qualname__ != function.__qualname__:
            raise RuntimeError(f"two handlers for the job kind {kind!r}")
        HANDLERS[kind] = HandlerEntry(kind, label or kind, function)
        return function

    return register


def load_handlers() -> dict[str, HandlerEntry]:
    """Import every module that declares handlers (listed in schedule.py) and return them."""
    from ppas.services.jobs.schedule import handler_modules

    for module in handler_modules():
        importlib.import_module(module)
    return HANDLERS


def kind_label(kind: str) -> str:
    """The French name of a job kind (its code when no handler declares one)."""
    entry = load_handlers().get(kind)
    return entry.label if entry is not None else kind
