"""Background jobs' pure rules: the retry delay after a failure."""
from __future__ import annotations

from datetime import timedelta

__all__ = ["retry_delay"]


def retry_delay(attempts: int, base_seconds: int, max_seconds: int) -> timedelta:
    """The wait before the next try after `attempts` failed tries: base, 2×base, 4×base…

    Never below one second (a retry is never due at the instant it fails), never above
    `max_seconds`.
    """
    if attempts < 1:
        raise ValueError("attempts counts the failed tries, from 1")
    exponent = min(attempts - 1, 40)  # 2**40 × base is beyond any sensible ceiling
    seconds = min(max(base_seconds, 1) * 2 ** exponent, max(max_seconds, 1))
    return timedelta(seconds=seconds)
