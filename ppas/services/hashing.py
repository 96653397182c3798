"""Argon2 off the event loop: every hash and verification runs in a small pool of threads.

One argon2id verification takes tens of milliseconds of CPU and 64 MiB; run on the event
loop, a dozen sign-ins with made-up logins froze every other request for seconds. argon2-cffi
releases the GIL while it works, so the loop keeps serving while the pool hashes. The pool is
bounded (settings.hash_workers): a burst queues here instead of taking every core and memory.
"""
from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from ppas.domain import password_hashing

DEFAULT_WORKERS = 2

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_workers = DEFAULT_WORKERS


def configure(workers: int) -> None:
    """Size the pool (create_app calls it with the settings); a resize replaces the pool."""
    global _pool, _workers
    with _lock:
        if workers == _workers and _pool is not None:
            return
        old, _pool, _workers = _pool, None, max(1, workers)
    if old is not None:
        old.shutdown(wait=False)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_workers, thread_name_prefix="ppas-argon2")
        return _pool


async def _run(function, *args):
    return await asyncio.get_running_loop().run_in_executor(
        _executor(), functools.partial(function, *args))


async def hash_password(password: str) -> str:
    """The argon2id hash of `password`, computed in the pool."""
    return await _run(password_hashing.hash_password, password)


async def verify_password(hash: str, password: str) -> bool:
    """Whether `password` matches `hash`, checked in the pool."""
    return await _run(password_hashing.verify_password, hash, password)


async def verify_against_dummy(password: str) -> bool:
    """The cost of one real verification, for a login that has no account; always False."""
    return await _run(password_hashing.verify_against_dummy, password)


async def spend_one_hash() -> None:
    """The cost of hashing a new password, where a real request would hash one."""
    await _run(password_hashing.hash_password, "ppas-timing-only")
