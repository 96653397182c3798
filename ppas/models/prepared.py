"""Hot-path queries built once: building a Tortoise query costs more than SQLite's answer."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


def placeholders(dialect: str, count: int) -> list[str]:
    """The parameter marks of a hand-written statement: `?` (SQLite), `$1`… (PostgreSQL)."""
    if dialect == "postgres":
        return [f"${n}" for n in range(1, count + 1)]
    if dialect == "sqlite":
        return ["?"] * count
    raise ValueError(f"no parameter marks for the {dialect} dialect")


class PreparedQuery(Generic[M]):
    """A queryset compiled to SQL once per dialect, then run with new parameter values.

    `build(**placeholders)` returns the queryset with each placeholder where its value goes;
    each placeholder must appear exactly once among the query's parameters. The rows are
    turned into models (select_related included) by Tortoise's own executor, on the
    connection current when it runs, so it takes part in a transaction like any query.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **placeholders: int | str) -> None:
        self._build = build
        self._placeholders = placeholders
        self._model: type[M] | None = None
        self._compiled: dict[str, tuple[QuerySet[M], str, list[Any], dict[str, int]]] = {}

    def _compile(self, db: BaseDBAsyncClient) -> tuple[QuerySet[M], str, list[Any], dict[str, int]]:
        queryset = self._build(**self._placeholders).using_db(db)
        queryset._make_query()
        sql, values = queryset.query.get_parameterized_sql()
        slots: dict[str, int] = {}
        for name, placeholder in self._placeholders.items():
            found = [i for i, value in enumerate(values)
                     if type(value) is type(placeholder) and value == placeholder]
            if len(found) != 1:
                raise ValueError(f"placeholder {name!r} appears {len(found)} times in {sql}")
            slots[name] = found[0]
        return queryset, sql, values, slots

    async def all(self, **params: Any) -> list[M]:
        """The rows for these parameter values, as models."""
        if self._model is None:
            self._model = self._build(**self._placeholders).model
        db = self._model._meta.db  # the transaction's connection inside one
        dialect = db.capabilities.dialect
        if dialect not in self._compiled:
            self._compiled[dialect] = self._compile(db)
        compiled, sql, template, slots = self._compiled[dialect]
        values = list(template)
        for name, index in slots.items():
            values[index] = params[name]
        executor = db.executor_class(
            model=self._model, db=db, prefetch_map=compiled._prefetch_map,
            prefetch_queries=compiled._prefetch_queries,
            select_related_idx=compiled._select_related_idx)
        return await executor.execute_select(sql, values,
                                             custom_fields=list(compiled._annotations))

    async def first(self, **params: Any) -> M | None:
        """The first row for these parameter values (the query sets its own limit), or None."""
        rows = await self.all(**params)
        return rows[0] if rows else None
