"""The statement counter (tests/sql_statements.py) counts what really reaches the database."""
from __future__ import annotations

import asyncio
import secrets

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from ppas.models import Caisse, OutboxMessage
from tests.conftest import BACKEND
from tests.sql_statements import count_statements


async def test_a_known_query_is_one_statement(db):
    async with count_statements() as statements:
        caisse = await Caisse.filter(code="03").first()
    assert caisse is not None
    assert len(statements) == 1, statements.report()
    assert statements[0].startswith("SELECT") and '"caisse"' in statements[0]


async def test_a_transaction_counts_its_begin_write_and_commit(db):
    message = await OutboxMessage.create(recipient=f"{secrets.token_hex(4)}@example.invalid",
                                         subject="avant", body="")
    async with count_statements() as statements:
        async with in_transaction():
            await OutboxMessage.filter(id=message.id).update(subject="après")
    assert [s.split()[0] for s in statements] == ["BEGIN", "UPDATE", "COMMIT"], statements.report()
    assert (await OutboxMessage.get(id=message.id)).subject == "après"


async def test_raw_statements_and_tasks_the_block_starts_count(db):
    db_client = connections.get("default")
    async with count_statements() as statements:
        await db_client.execute_query('SELECT COUNT(*) FROM "caisse"')
        await db_client.execute_query_dict('SELECT COUNT(*) FROM "caisse"')
        # A DataLoader's batch runs in a task of its own: it belongs to the block.
        async def count() -> int:
            return await Caisse.all().count()

        await asyncio.gather(asyncio.create_task(count()), asyncio.create_task(count()))
    assert len(statements) == 4, statements.report()


async def test_another_tasks_statements_are_not_counted(db):
    go, done = asyncio.Event(), asyncio.Event()

    async def elsewhere() -> None:  # started before the block: a job, another request
        await go.wait()
        await Caisse.all().count()
        done.set()

    job = asyncio.create_task(elsewhere())
    async with count_statements() as statements:
        go.set()
        await done.wait()
        await Caisse.filter(code="03").count()
    await job
    assert len(statements) == 1, statements.report()


async def test_blocks_nest_and_the_hooks_go_away_after(db):
    async with count_statements() as outer:
        await Caisse.all().count()
        async with count_statements() as inner:
            await Caisse.all().count()
    await Caisse.all().count()
    assert (len(outer), len(inner)) == (2, 1)
    client_class = type(connections.get("default"))
    assert not hasattr(client_class.execute_query, "__ppas_counted__")


@pytest.mark.skipif(BACKEND != "sqlite", reason="sqlite3's own trace of both connections")
async def test_on_sqlite_it_sees_every_statement_the_engine_runs(db):
    """Cross-checked with sqlite3's trace callback on both of the backend's connections: the
    read-only reader that runs reads on the event loop, and aiosqlite's writer."""
    client = connections.get("default")
    reader, writer = client._reader, client._connection._conn
    assert reader is not None, "the reader connection is what this test is about"
    traced: list[str] = []
    message = await OutboxMessage.create(recipient=f"{secrets.token_hex(4)}@example.invalid",
                                         subject="avant", body="")
    reader.set_trace_callback(traced.append)
    await client._connection.set_trace_callback(traced.append)
    try:
        async with count_statements() as statements:
            await Caisse.filter(code="03").first()  # the reader, on the loop
            await OutboxMessage.filter(id=message.id).update(subject="un")  # the writer
            async with in_transaction():  # the writer: BEGIN, read, write, COMMIT
                await OutboxMessage.get(id=message.id)
                await OutboxMessage.filter(id=message.id).update(subject="deux")
    finally:
        reader.set_trace_callback(None)
        await client._connection.set_trace_callback(None)
    assert writer is client._connection._conn
    assert len(traced) == len(statements) == 6, (traced, statements.report())
    assert [t.split()[0] for t in traced] == [s.split()[0] for s in statements]
