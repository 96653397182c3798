"""`ppas backup FILE`: SQLite's online backup while the portal writes; pg_dump on PostgreSQL."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from ppas.cli import backup_sqlite
from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parent.parent


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PPAS_DEVELOPMENT": "1"}


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite backup; PostgreSQL uses pg_dump")
async def test_backup_of_the_live_database_while_it_is_written(database_url, db, tmp_path):
    from ppas.models import AuditEvent
    from ppas.services import audit

    target = tmp_path / "copie.sqlite3"
    written = 0
    stop = asyncio.Event()

    async def write_forever() -> None:
        nonlocal written
        while not stop.is_set():
            await audit.record("backup_probe", login=f"sonde{written}", ip="test")
            written += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(write_forever())
    while written < 20:
        await asyncio.sleep(0.01)
    before = written
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ppas", "backup", str(target), env=_env(database_url), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    during = written - before
    stop.set()
    await writer
    assert process.returncode == 0, err.decode()
    assert "Sauvegarde écrite" in out.decode()
    assert during > 0  # the portal kept writing while the backup ran

    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = copy.execute("SELECT count(*) FROM audit_event WHERE action = 'backup_probe'"
                            ).fetchone()[0]
        migrations = copy.execute("SELECT count(*) FROM tortoise_migrations").fetchone()[0]
    finally:
        copy.close()
    # Every row committed before the backup started is in the copy; none invented.
    assert before <= rows <= written
    assert migrations > 0
    assert await AuditEvent.filter(action="backup_probe").count() == written
    assert not target.with_name(target.name + ".partial").exists()


def test_backup_of_a_large_database_does_not_block_a_writer(tmp_path):
    """WAL + one-step backup: a writer in another connection commits during the copy."""
    source = tmp_path / "grande.sqlite3"
    with sqlite3.connect(source) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE ligne (id INTEGER PRIMARY KEY, texte TEXT)")
        setup.executemany("INSERT INTO ligne (texte) VALUES (?)",
                          (("x" * 500,) for _ in range(60_000)))  # ~30 MB
    committed: list[float] = []
    running = threading.Event()
    done = threading.Event()

    def writer() -> None:
        connection = sqlite3.connect(source, timeout=10)
        running.set()
        while not done.is_set():
            connection.execute("INSERT INTO ligne (texte) VALUES ('pendant')")
            connection.commit()
            committed.append(time.perf_counter())
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    running.wait()
    started = time.perf_counter()
    size = backup_sqlite(source, tmp_path / "copie.sqlite3")
    ended = time.perf_counter()
    done.set()
    thread.join()
    assert size > 20 * 1024 * 1024
    assert any(started < at < ended for at in committed)  # not blocked by the backup
    with sqlite3.connect(tmp_path / "copie.sqlite3") as copy:
        assert copy.execute("SELECT count(*) FROM ligne WHERE texte != 'pendant'"
                            ).fetchone()[0] == 60_000


def test_backup_on_postgresql_says_pg_dump_is_the_tool(tmp_path):
    import subprocess

    target = tmp_path / "ppas.dump"
    result = subprocess.run([sys.executable, "-m", "ppas", "backup", str(target)],
                            env=_env("postgres://ppas@127.0.0.1:1/ppas"), cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pg_dump" in result.stderr and "pg_restore" in result.stderr
    assert not target.exists()
