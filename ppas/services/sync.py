"""Incremental synchronisation of a list a vendor polls (keyset pagination).

A list read "since" an instant or "after" a cursor comes in a stable order — its time field,
then its id, both ascending — and each page ends where the next begins, whatever was added
meanwhile. Rows younger than SETTLE are left for the next poll: a row is stamped when its
transaction inserts it, which may commit a little later (a large file takes seconds to
ingest); without that margin, a poll between the two would move past a row not yet visible.

Reused by every list vendors poll (billing files now; anomalies and payment slips later):
the schema decodes the cursor (ppas/schema/pagination.py), the service filters its own
rows by authorisation and hands the query to `keyset_page`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

SETTLE = timedelta(seconds=30)


@dataclass(frozen=True)
class Position:
    """Where a synchronisation stopped: the last row's time and id."""

    at: datetime
    id: int


@dataclass
class KeysetPage:
    rows: list
    total: int  # rows from the position on (this page included), up to the settle limit
    has_more: bool


async def keyset_page(query: QuerySet, *, time_field: str, since: datetime | None,
                      after: Position | None, limit: int, now: datetime) -> KeysetPage:
    """The next `limit` rows of `query` in (time_field, id) order, from `since`/after `after`."""
    query = query.filter(**{f"{time_field}__lte": now - SETTLE})
    if since is not None:
        query = query.filter(**{f"{time_field}__gte": since})
    if after is not None:
        query = query.filter(Q(**{f"{time_field}__gt": after.at})
                             | Q(**{time_field: after.at, "id__gt": after.id}))
    total = await query.count()
    rows = list(await query.order_by(time_field, "id").limit(limit + 1))
    return KeysetPage(rows[:limit], total, len(rows) > limit)


__all__ = ["SETTLE", "KeysetPage", "Position", "keyset_page"]
