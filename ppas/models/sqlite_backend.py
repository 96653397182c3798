"""The embedded SQLite backend: Tortoise's client, with reads run on the event loop.

Tortoise's SQLite client runs every statement in aiosqlite's worker thread, one at a time on
one connection. For a read of a few rows, the hand-off to that thread and back cost more than
SQLite's answer (chiefly when the two threads sit on different CPUs), and a read queued behind
any write waiting for its commit: autosave spent most of its time there.
"""
from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient, translate_exceptions


def _stored_timestamp(raw: bytes) -> datetime | str:
    text = raw.decode()
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # not ISO 8601: Tortoise's own parser gets the text, as before
        return text


def _stored_date(raw: bytes) -> date | str:
    text = raw.decode()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


# Columns declared TIMESTAMP or DATE (Tortoise's types for its date fields) come back as
# datetime and date: Python's C parser reads them ten times faster than the ISO 8601 parser
# Tortoise runs on text, which took half the time of turning a row into models. These replace
# the sqlite3 module's default (deprecated) converters, which ignore the UTC offset; they
# apply only to connections opened with detect_types, as this backend's are.
sqlite3.register_converter("TIMESTAMP", _stored_timestamp)
sqlite3.register_converter("DATE", _stored_date)


def is_plain_read(sql: str) -> bool:
    """True for a statement that only reads: it never waits for a lock in WAL mode."""
    return sql.lstrip()[:6].upper() == "SELECT"


class LoopReadConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs plain reads inline and everything else in its thread.

    A read in WAL mode takes no lock and forces nothing to disk, so it cannot stall the loop
    waiting on another process; writes, commits and scripts (which may wait for a lock or for
    fsync) keep running in the worker thread. Tortoise's lock on the connection means at most
    one statement runs at a time, whichever thread runs it.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if (getattr(fn, "__func__", None) is aiosqlite.Connection._execute_fetchall
                and self._running and self._connection is not None
                and is_plain_read(args[0])):
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


class LoopReadSqliteClient(SqliteClient):
    """Tortoise's SQLite client: reads outside transactions on a reader connection of their own.

    Tortoise's SQLite client has one connection and a lock around each statement, so a read
    used to queue behind any write in progress (a commit waits for fsync). In WAL mode a second
    connection reads the last committed state without waiting, as PostgreSQL's reads do; it
    runs on the event loop. Transactions keep the shared connection (a LoopReadConnection),
    so they read their own writes.
    """

    _reader: sqlite3.Connection | None = None

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        filename = self.filename

        def connect() -> sqlite3.Connection:
            # Opened in the worker thread, used from the loop's thread too (never both at once).
            return sqlite3.connect(filename, isolation_level=None, check_same_thread=False,
                                   detect_types=sqlite3.PARSE_DECLTYPES)

        connection = LoopReadConnection(connect, iter_chunk_size=64)
        await connection
        connection._conn.row_factory = sqlite3.Row
        self._connection = connection
        for pragma, value in self.pragmas.items():
            cursor = await connection.execute(f"PRAGMA {pragma}={value}")
            await cursor.close()
        if filename != ":memory:":  # another connection to :memory: would be another database
            self._reader = self._open_reader()
        await self._post_connect()

    def _open_reader(self) -> sqlite3.Connection:
        reader = sqlite3.connect(self.filename, isolation_level=None,
                                 detect_types=sqlite3.PARSE_DECLTYPES)
        reader.row_factory = sqlite3.Row
        busy = self.pragmas.get("busy_timeout", 5000)
        # query_only: a statement taken for a read by mistake fails instead of writing.
        reader.executescript(f"PRAGMA query_only=ON; PRAGMA busy_timeout={int(busy)};")
        return reader

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await super().close()

    def _read(self, query: str, values: list | None) -> list[sqlite3.Row]:
        if self._reader is None:
            raise RuntimeError("the reader connection is not open")
        return self._reader.execute(query.replace("\x00", "'||CHAR(0)||'"),
                                    values or ()).fetchall()

    @translate_exceptions
    async def execute_query(self, query: str, values: list | None = None) -> tuple[int, Any]:
        if self._reader is not None and is_plain_read(query):
            self.log.debug("%s: %s", query, values)
            rows = self._read(query, values)
            return len(rows), rows
        return await super().execute_query(query, values)

    @translate_exceptions
    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        if self._reader is not None and is_plain_read(query):
            self.log.debug("%s: %s", query, values)
            return list(map(dict, self._read(query, values)))
        return await super().execute_query_dict(query, values)


client_class = LoopReadSqliteClient
