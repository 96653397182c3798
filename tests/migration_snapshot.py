"""Run migration 0005 up and down on a database holding history, describing it at each step.

`python -m tests.migration_snapshot DATABASE_URL` (SQLite or an empty PostgreSQL database)
migrates to 0004, loads the demo and billing history, then prints as JSON what the schema,
indexes, foreign keys, rows and id counters were before 0005, after it, and after its
downgrade, and what deleting a care plan, a convention and a partner that have billed lines did.
It runs in its own process: initialising Tortoise on another database inside the test session
would rebind the models of the running session to that database.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from contextlib import closing
from typing import Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as run_migrations

from ppas.db import close_database, is_sqlite, migrate, open_database, tortoise_config
from ppas.models import Anomaly
from ppas.models.billing_file import AnomalyPhase
from ppas.services.demo import load_demo
from tests.billing_history_support import make_history

BEFORE = "ppas.0004_contact"
RESTRICT = "ppas.0005_restrict_billing_history"
# Applied migrations are recorded with their time: not data that a migration carries over.
NOT_DATA = "tortoise_migrations"
# What a billing line points to, and what the test tries to delete.
BILLED_PARENTS = {"care_plan": "SELECT care_plan_id FROM billing_line "
                               "WHERE care_plan_id IS NOT NULL",
                  "convention": "SELECT convention_id FROM billing_file",
                  "partner": "SELECT partner_id FROM billing_file"}


def _plain(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


def sqlite_snapshot(path: str) -> dict[str, Any]:
    with closing(sqlite3.connect(path)) as conn:
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"),
                        key=lambda row: (row[0], row[1]))
        tables = [name for kind, name, _, _ in schema
                  if kind == "table" and not name.startswith("sqlite_")]
        indexes, foreign_keys, rows = [], [], {}
        for table in tables:
            for _, name, unique, origin, partial in conn.execute(f'PRAGMA index_list("{table}")'):
                columns = conn.execute(f'PRAGMA index_info("{name}")').fetchall()
                indexes.append([table, name, unique, origin, partial, columns])
            for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                # id, seq, table, from, to, on_update, on_delete, match
                foreign_keys.append([table, fk[3], fk[2], fk[6]])
            if table != NOT_DATA:
                rows[table] = [list(map(_plain, row))
                               for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')]
        sequence = {name: seq for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence")
                    if name != NOT_DATA}
    return {"schema": schema, "indexes": sorted(indexes), "foreign_keys": sorted(foreign_keys),
            "rows": rows, "sequence": sequence}


async def postgres_snapshot(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name, ordinal_position, data_type, is_nullable, "
            "column_default FROM information_schema.columns WHERE table_schema = 'public' "
            "ORDER BY 1, 3")
        constraints = await conn.fetch(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2")
        indexes = await conn.fetch("SELECT tablename, indexname, indexdef FROM pg_indexes "
                                   "WHERE schemaname = 'public' ORDER BY 1, 2")
        foreign_keys = await conn.fetch(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, "
            "CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT' "
            "WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END "
            "FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace ORDER BY 1, 2")
        tables = [row[0] for row in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY 1")]
        rows = {table: [row[0] for row in await conn.fetch(
                    f'SELECT t::text FROM "{table}" t ORDER BY 1')]
                for table in tables if table != NOT_DATA}
        sequence = {row[0]: row[1] for row in await conn.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            if not row[0].startswith(NOT_DATA)}
    finally:
        await conn.close()
    return {"schema": [list(row) for row in [*columns, *constraints]],
            "indexes": [list(row) for row in indexes],
            "foreign_keys": [list(row) for row in foreign_keys], "rows": rows,
            "sequence": sequence}


async def snapshot(url: str) -> dict[str, Any]:
    if is_sqlite(url):
        return sqlite_snapshot(url.removeprefix("sqlite://"))
    return await postgres_snapshot(url)


async def delete_billed_parents(url: str) -> dict[str, str]:
    """Try to delete a care plan, a convention and a partner that have billed lines, with
    foreign keys on as the application runs; each answer is the driver's error, or "deleted"."""
    answers = {}
    if is_sqlite(url):
        with closing(sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None)) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            for table, billed in BILLED_PARENTS.items():
                try:
                    conn.execute(f"DELETE FROM {table} WHERE id = ({billed} LIMIT 1)")
                    answers[table] = "deleted"
                except sqlite3.IntegrityError as error:
                    answers[table] = f"{type(error).__name__}: {error}"
        return answers
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        for table, billed in BILLED_PARENTS.items():
            try:
                await conn.execute(f"DELETE FROM {table} WHERE id = ({billed} LIMIT 1)")
                answers[table] = "deleted"
            except asyncpg.IntegrityConstraintViolationError as error:
                answers[table] = f"{type(error).__name__}: {error}"
    finally:
        await conn.close()
    return answers


async def _columns(conn, table: str) -> set[str]:
    if conn.capabilities.dialect == "sqlite":
        _, rows = await conn.execute_query(f'PRAGMA table_info("{table}")')
        return {row["name"] for row in rows}
    _, rows = await conn.execute_query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table])
    return {row["column_name"] for row in rows}


async def add_later_columns() -> list[tuple[str, str]]:
    """The demo and the history are written by today's models on a database at 0004: add the
    columns later migrations brought, nullable, for the time of the load (`drop_columns` takes
    them away again, so that the snapshot before 0005 is 0004's schema with its data)."""
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    added = []
    for model in Tortoise.apps["ppas"].values():
        table = model._meta.db_table
        existing = await _columns(conn, table)
        if not existing:  # a table of a later migration: the demo and history leave it alone
            continue
        for name, column in model._meta.fields_db_projection.items():
            if column not in existing:
                sql_type = model._meta.fields_map[name].get_for_dialect(dialect, "SQL_TYPE")
                await conn.execute_script(
                    f'ALTER TABLE "{table}" ADD COLUMN "{column}" {sql_type}')
                added.append((table, column))
    return added


async def drop_columns(added: list[tuple[str, str]]) -> None:
    conn = connections.get("default")
    for table, column in added:
        await conn.execute_script(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


async def main(url: str) -> None:
    sqlite = is_sqlite(url)
    await run_migrations(config=tortoise_config(url, foreign_keys=not sqlite), target=BEFORE)
    await Tortoise.close_connections()
    await open_database(url)
    later_columns = await add_later_columns()
    await load_demo()
    for _ in range(2):
        history = await make_history()
    # An anomaly deleted last leaves the id counter above the highest id: ids are not reused.
    spare = await Anomaly.create(code="R01", phase=AnomalyPhase.REPORT,
                                 file=history.billing_file, message="supprimée")
    await spare.delete()
    await drop_columns(later_columns)
    await close_database()

    result = {"before": await snapshot(url)}
    await migrate(url, target=RESTRICT)
    result["after"] = await snapshot(url)
    result["delete"] = await delete_billed_parents(url)
    result["after delete"] = await snapshot(url)
    await run_migrations(config=tortoise_config(url, foreign_keys=not sqlite), target=BEFORE)
    await Tortoise.close_connections()
    result["downgraded"] = await snapshot(url)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
