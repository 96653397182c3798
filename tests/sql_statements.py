"""Count the SQL statements a block of code sends to the database, on both backends.

    async with count_statements() as statements:
        await schema.execute(...)
    assert len(statements) == 3, statements.report()

Hooked where every statement passes on its way to the driver: the `execute_*` methods of
Tortoise's database clients, and the begin/commit/rollback/savepoint methods of their
transaction wrappers, for every client class loaded (SQLite, PostgreSQL, their transaction
wrappers, and ppas's SQLite backend whose reads outside transactions go to a read-only
connection on the event loop, never through aiosqlite). A method that calls another one
(the backend's read path calls Tortoise's, `execute_query_dict` calls `execute_query`)
counts once.

Only the block's own statements are counted: those of its task and of the tasks it starts
(a DataLoader's batch runs in a task of its own), which inherit its context variables; a
job running meanwhile in another task is not counted.
"""
from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

# Methods that send the statement given as their first argument.
STATEMENT_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict",
                     "execute_query_dict_with_affected", "execute_script")
# Transaction wrappers' methods: each sends one statement of its own.
TRANSACTION_METHODS = {"begin": "BEGIN", "commit": "COMMIT", "rollback": "ROLLBACK",
                       "savepoint": "SAVEPOINT", "savepoint_rollback": "ROLLBACK TO SAVEPOINT",
                       "release_savepoint": "RELEASE SAVEPOINT"}

# The lists of the blocks the running code is inside (blocks nest: each counts).
_logs: ContextVar[tuple[Statements, ...]] = ContextVar("ppas_counted_statements", default=())
_inside: ContextVar[bool] = ContextVar("ppas_inside_counted_statement", default=False)


class Statements(list):
    """The statements of a block, in order (SQL with its placeholders, or BEGIN, COMMIT…)."""

    def report(self) -> str:
        return f"{len(self)} statements:\n" + "\n".join(f"  {s[:200]}" for s in self)


def _counted(method: Callable[..., Any], label: str | None) -> Callable[..., Any]:
    @functools.wraps(method)
    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        logs = _logs.get()
        if not logs or _inside.get():
            return await method(self, *args, **kwargs)
        for log in logs:
            log.append(label or str(args[0] if args else kwargs.get("query")))
        token = _inside.set(True)
        try:
            return await method(self, *args, **kwargs)
        finally:
            _inside.reset(token)

    counted.__ppas_counted__ = method  # type: ignore[attr-defined]
    return counted


def _client_classes() -> list[type]:
    found, todo = [], [BaseDBAsyncClient]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


_installed: list[tuple[type, str, Any]] = []
_users = 0


def _install() -> None:
    for cls in _client_classes():
        for name in (*STATEMENT_METHODS, *TRANSACTION_METHODS):
            method = cls.__dict__.get(name)
            if method is None or hasattr(method, "__ppas_counted__"):
                continue
            setattr(cls, name, _counted(method, TRANSACTION_METHODS.get(name)))
            _installed.append((cls, name, method))


def _uninstall() -> None:
    while _installed:
        cls, name, method = _installed.pop()
        setattr(cls, name, method)


@asynccontextmanager
async def count_statements() -> AsyncIterator[Statements]:
    """The statements run inside the block (see the module's docstring)."""
    global _users
    if _users == 0:
        _install()
    _users += 1
    statements = Statements()
    token = _logs.set((*_logs.get(), statements))
    try:
        yield statements
    finally:
        _logs.reset(token)
        _users -= 1
        if _users == 0:
            _uninstall()
