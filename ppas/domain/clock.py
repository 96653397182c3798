"""The one clock of the application: system time in production, movable time in tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SystemClock"]


def _as_utc(moment: datetime) -> datetime:
    """Return `moment` converted to UTC, refusing naive datetimes."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(timezone.utc)


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock; the only place in the domain allowed to read system time."""

    def now(self) -> datetime:
        """Return the system time, timezone-aware, in UTC."""
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        """Describe the clock."""
        return "SystemClock()"


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        """Start the clock at `now` (timezone-aware, stored in UTC)."""
        self._now = _as_utc(now)

    def now(self) -> datetime:
        """Return the frozen instant, in UTC."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock by `delta` (may be negative) and return the new instant."""
        if not isinstance(delta, timedelta):
            raise TypeError(f"expected a timedelta, got {type(delta).__name__}")
        self._now = self._now + delta
        return self._now

    def set(self, now: datetime) -> datetime:
        """Put the clock at `now` (timezone-aware) and return it in UTC."""
        self._now = _as_utc(now)
        return self._now

    def __repr__(self) -> str:
        """Describe the clock and its instant."""
        return f"FixedClock({self._now.isoformat()})"
