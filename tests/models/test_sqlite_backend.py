"""The embedded backend: plain reads run on the event loop, writes in aiosqlite's thread."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import date, datetime, timezone

import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from ppas.models import Caisse, User
from ppas.models.sqlite_backend import LoopReadSqliteClient, is_plain_read
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the embedded backend only")


@pytest.fixture
async def probe(db):
    """A scratch table, and a SQL function telling which thread runs the statement."""
    client = connections.get("default")
    assert isinstance(client, LoopReadSqliteClient)
    await client.execute_query("SELECT 1")  # Tortoise connects on first use
    for connection in (client._connection._conn, client._reader):
        connection.create_function("thread_ident", 0, threading.get_ident)
    await client.execute_script("CREATE TABLE probe (n INTEGER, thread INTEGER)")
    yield client
    await client.execute_script("DROP TABLE probe")


def test_only_selects_count_as_plain_reads():
    assert is_plain_read("  select 1")
    assert is_plain_read('SELECT "id" FROM "form_line"')
    assert not is_plain_read('UPDATE "form_line" SET "version" = 2 RETURNING "id"')
    assert not is_plain_read("WITH t AS (SELECT 1) DELETE FROM probe")
    assert not is_plain_read("PRAGMA busy_timeout")


async def test_reads_run_on_the_loop_and_writes_in_the_worker_thread(probe):
    loop_thread = threading.get_ident()
    _, rows = await probe.execute_query("SELECT thread_ident()")
    assert rows[0][0] == loop_thread
    await probe.execute_query("INSERT INTO probe VALUES (1, thread_ident())")
    _, rows = await probe.execute_query("SELECT thread FROM probe")
    assert rows[0][0] != loop_thread
    async with in_transaction() as tx:  # a transaction's reads run on the loop too
        _, rows = await tx.execute_query("SELECT thread_ident()")
    assert rows[0][0] == loop_thread


async def test_a_read_does_not_queue_behind_a_write_in_progress(probe):
    await probe.execute_query("INSERT INTO probe VALUES (1, 0)")
    async with probe._lock:  # what a write waiting for its commit holds
        _, rows = await asyncio.wait_for(probe.execute_query("SELECT n FROM probe"), 1)
    assert [row[0] for row in rows] == [1]


async def test_a_transaction_reads_its_own_writes_others_see_them_once_committed(probe):
    async with in_transaction() as tx:
        await tx.execute_query("INSERT INTO probe VALUES (7, 0)")
        _, mine = await tx.execute_query("SELECT n FROM probe")
        _, others = await probe.execute_query("SELECT n FROM probe")
        assert ([row[0] for row in mine], others) == ([7], [])
    _, rows = await probe.execute_query("SELECT n FROM probe")
    assert [row[0] for row in rows] == [7]


async def test_a_rolled_back_write_is_never_seen(probe):
    with pytest.raises(RuntimeError):
        async with in_transaction() as tx:
            await tx.execute_query("INSERT INTO probe VALUES (7, 0)")
            raise RuntimeError("abandon")
    _, rows = await probe.execute_query("SELECT n FROM probe")
    assert rows == []


async def test_the_reader_refuses_to_write(probe):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        probe._read("INSERT INTO probe VALUES (1, 0)", None)


async def test_a_failing_read_raises_and_leaves_the_connection_usable(probe):
    with pytest.raises(OperationalError):
        await probe.execute_query("SELECT no_such_column FROM probe")
    _, rows = await probe.execute_query("SELECT 41 + 1")
    assert rows[0][0] == 42


async def test_interleaved_reads_and_writes_from_many_tasks_all_land(probe):
    async def write(n: int) -> None:
        await probe.execute_query("INSERT INTO probe VALUES (?, 0)", [n])

    async def count() -> int:
        _, rows = await probe.execute_query("SELECT COUNT(*) FROM probe")
        return rows[0][0]

    await asyncio.gather(*(write(n) if n % 2 else count() for n in range(200)))
    _, rows = await probe.execute_query("SELECT COUNT(*), SUM(n) FROM probe")
    assert tuple(rows[0]) == (100, sum(range(1, 200, 2)))


async def test_timestamp_and_date_columns_come_back_as_values(probe):
    await probe.execute_script(
        "CREATE TABLE stamped (at TIMESTAMP, day DATE); "
        "INSERT INTO stamped VALUES ('2026-12-01 18:05:09.250000+00:00', '2026-11-30'), "
        "('2026-12-01 18:05:09', '2026-02-28'), ('pas une date', 'ni un jour')")
    try:
        _, rows = await probe.execute_query("SELECT at, day FROM stamped")
        assert rows[0]["at"] == datetime(2026, 12, 1, 18, 5, 9, 250000, tzinfo=timezone.utc)
        assert rows[0]["day"] == date(2026, 11, 30)
        assert rows[1]["at"] == datetime(2026, 12, 1, 18, 5, 9)  # naive: Tortoise makes it UTC
        # A value that is not ISO 8601 stays text, as it was before these converters.
        assert (rows[2]["at"], rows[2]["day"]) == ("pas une date", "ni un jour")
    finally:
        await probe.execute_script("DROP TABLE stamped")


async def test_model_datetimes_read_back_aware_and_equal_to_what_was_written(db):
    caisse = await Caisse.get(code="03")
    moment = datetime(2026, 12, 1, 17, 59, 59, 999999, tzinfo=timezone.utc)
    user = await User.create(login=f"horodatage-{moment.timestamp()}", password_hash="x",
                             role="partner_user", caisse=caisse, password_changed_at=moment)
    stored = await User.get(id=user.id)
    assert stored.password_changed_at == moment and stored.password_changed_at.tzinfo is not None
